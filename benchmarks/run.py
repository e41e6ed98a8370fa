"""The benchmark suite in one command: for each database (SQLite, PostgreSQL), a synthetic org of
the size asked for (`gare bench seed`, kept between runs: the database is named after its size),
then every benchmark module's `run(engine_url, results)` (benchmarks/README.md). Prints one
Markdown table (the figures, their targets, met or not, the command that measures each) and
writes every figure as JSON.

    .venv/bin/python benchmarks/run.py                          # 100,000 accounts, 500,000 deals, both databases
    .venv/bin/python benchmarks/run.py --accounts 10000 --deals 50000 --db sqlite --only latency,weekly
"""
from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

BENCHMARKS = ("latency", "weekly", "startup", "serve", "import")
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432"


def _pg_admin(base: str):
    from sqlalchemy import create_engine

    return create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")


def _pg_database(base: str, name: str, create: bool = True) -> str:
    from sqlalchemy import text

    admin = _pg_admin(base)
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
        if not exists and create:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{base}/{name}"


def _drop_pg(base: str, name: str) -> None:
    from sqlalchemy import text

    admin = _pg_admin(base)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def prepare(kind: str, accounts: int, deals: int, reps: int, folder: Path, pg: str) -> tuple[str, dict | None]:
    """The seeded database for this size (seeded now if new). Returns its URL and, when it was
    seeded now, how long that took."""
    from sqlalchemy import func, select

    from handlers.records import refresh_assessments, refresh_skipped
    from handlers.reply import Context
    from playbook.config import DEFAULT_PLAYBOOK, load
    from store.database import make_engine
    from store.models import Account
    from store.synthetic import seed

    if kind == "sqlite":
        url = f"sqlite:///{folder}/gare-bench-{accounts}-{deals}-{reps}.db"
    else:
        url = _pg_database(pg, f"gare_bench_{accounts}_{deals}_{reps}")
    engine = make_engine(url)
    with engine.connect() as conn:
        held = conn.execute(select(func.count()).select_from(Account)).scalar()
    seeded = None
    if not held:
        print(f"seeding {kind}: {accounts:,} accounts, {deals:,} deals, {reps} reps …", file=sys.stderr, flush=True)
        start = time.perf_counter()
        rows = seed(engine, load(DEFAULT_PLAYBOOK), accounts=accounts, deals=deals, reps=reps)
        seeded = {"seconds": round(time.perf_counter() - start, 1), "rows": rows}
    # Assessments out of date (just seeded, another day, another playbook) are stored before
    # measuring, as the scheduler's nightly job and gare import do: one query when all hold.
    start = time.perf_counter()
    ctx = Context(engine=engine, playbook=load(DEFAULT_PLAYBOOK), actor="bench", language="en")
    count = refresh_assessments(ctx) + refresh_skipped(ctx)
    if count:
        seeded = dict(seeded or {}, assessed=count, assessed_seconds=round(time.perf_counter() - start, 1))
    if kind == "postgresql":
        # What autovacuum does within a minute of so many writes: statistics of the values just
        # stored and of the expression indexes (lower(owner)), and the visibility map that lets
        # counts read indexes alone. Measured without them, plans are those of an empty column.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")

    engine.dispose()
    return url, seeded


def table(figures: list[dict]) -> str:
    lines = ["| database | benchmark | figure | value | target | met | command |", "|---|---|---|---|---|---|---|"]
    for f in figures:
        met = "" if f.get("met") is None else ("yes" if f["met"] else "**no**")
        value = f["value"] if f["value"] is not None else "–"
        unit = f" {f['unit']}" if f.get("unit") else ""
        note = f" ({f['note']})" if f.get("note") else ""
        lines.append(f"| {f['database']} | {f['benchmark']} | {f['name']}{note} | {value}{unit} | "
                     f"{f.get('target') or ''} | {met} | `{f['command']}` |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--deals", type=int, default=500_000)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--db", default="sqlite,postgresql", help="sqlite, postgresql or both (comma-separated)")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="benchmarks to run: " + ", ".join(BENCHMARKS))
    parser.add_argument("--dir", default=str(Path(tempfile.gettempdir()) / "gare-bench"),
                        help="where the SQLite books are kept between runs")
    parser.add_argument("--pg", default=PG_DEFAULT, help="PostgreSQL server URL without a database name")
    parser.add_argument("--rounds", type=int, default=50, help="runs per command for the latency benchmark")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured runs per command before those")
    parser.add_argument("--json", default="benchmarks/results.json", help="where to write every figure")
    args = parser.parse_args()
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    chosen = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = [b for b in chosen if b not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}: choose among {', '.join(BENCHMARKS)}")
    everything = {"machine": {"python": platform.python_version(), "platform": platform.platform(),
                              "cpus": __import__("os").cpu_count()},
                  "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "size": {"accounts": args.accounts, "deals": args.deals, "reps": args.reps}, "figures": [],
                  "seeded": {}}
    for kind in [k.strip() for k in args.db.split(",") if k.strip()]:
        url, seeded = prepare(kind, args.accounts, args.deals, args.reps, folder, args.pg)
        if seeded:
            everything["seeded"][kind] = seeded
        fresh: list[str] = []

        def fresh_database() -> str:
            name = f"gare_bench_fresh_{uuid.uuid4().hex[:8]}"
            if kind == "sqlite":
                fresh.append(name)
                return f"sqlite:///{folder}/{name}.db"
            fresh.append(name)
            return _pg_database(args.pg, name)
        results = {"figures": [], "rounds": args.rounds, "warmup": args.warmup, "fresh_database": fresh_database}
        for name in chosen:
            module = importlib.import_module(f"bench_{name}")
            print(f"{kind}: {name} …", file=sys.stderr, flush=True)
            try:
                module.run(url, results)
            except Exception as exc:  # one benchmark failing still reports the others
                results["figures"].append({"benchmark": name, "name": "failed", "value": None, "unit": "",
                                           "target": None, "met": False, "command": f"benchmarks/bench_{name}.py",
                                           "note": f"{type(exc).__name__}: {str(exc)[:200]}"})
        for name in fresh:
            if kind == "sqlite":
                for path in folder.glob(f"{name}.db*"):
                    path.unlink()
            else:
                _drop_pg(args.pg, name)
        for f in results["figures"]:
            f["database"] = kind
        everything["figures"] += results["figures"]
    Path(args.json).write_text(json.dumps(everything, indent=2, ensure_ascii=False), encoding="utf-8")
    print(table(everything["figures"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
