"""Issue 10, target 1: how long each everyday command takes in-process, and how many SQL
statements it runs, on whatever book the database holds (`gare bench seed` for the real sizes).

Each command is run as a rep or an admin would type it (registry.run_command, the same path as
Slack, Teams and the console, rendering left out), with names read from the database in turn:
`fit ACCOUNT`, `account ACCOUNT`, `deal "DEAL"`, `fit` with a mistyped name, `accounts` (first
page), `tiers`, `deals frozen` (first page), one rep's `nudge`. p50 and p99 over `rounds` runs
after a warm-up; statements counted with SQLAlchemy's before_cursor_execute event.

    .venv/bin/python benchmarks/bench_latency.py --db URL [--rounds 50] [--warmup 3] [--only nudge]
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, select  # noqa: E402

from handlers.registry import run_command  # noqa: E402
from handlers.reply import Context  # noqa: E402
from playbook.config import DEFAULT_PLAYBOOK, load  # noqa: E402
from store.database import make_engine, session_scope  # noqa: E402
from store.models import Account, Deal, Person  # noqa: E402

TARGET_MS = 50


def typo(name: str, rng: random.Random) -> str:
    """The name with two neighbouring letters swapped, as a hurried rep types it."""
    letters = [i for i in range(len(name) - 1) if name[i].isalpha() and name[i + 1].isalpha()]
    if not letters:
        return name + "x"
    i = rng.choice(letters)
    return name[:i] + name[i + 1] + name[i] + name[i + 2:]


def samples(engine, rng: random.Random, n: int = 50) -> dict[str, list[str]]:
    """Names to look up, spread over the book (read by id, not by scanning)."""
    with session_scope(engine) as s:
        top = s.exec(select(func.max(Account.id))).one()[0] or 0
        top_deal = s.exec(select(func.max(Deal.id))).one()[0] or 0
        accounts, deals = [], []
        for _ in range(n):
            a = s.exec(select(Account.name).where(Account.id >= rng.randint(1, max(top, 1))).limit(1)).first()
            d = s.exec(select(Deal.name).where(Deal.id >= rng.randint(1, max(top_deal, 1))).limit(1)).first()
            if a:
                accounts.append(a[0])
            if d:
                deals.append(d[0])
        reps = [r[0] for r in s.exec(select(Person.owner).where(Person.role == "rep").limit(n))] or ["alice"]
        admin = s.exec(select(Person.owner).where(Person.role == "admin").limit(1)).first()
    return {"accounts": accounts, "deals": deals, "reps": reps, "admin": [admin[0] if admin else reps[0]]}


def commands(names: dict[str, list[str]], i: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """(label, who, text) for round i."""
    account = names["accounts"][i % len(names["accounts"])]
    deal = names["deals"][i % len(names["deals"])] if names["deals"] else account
    rep, admin = names["reps"][i % len(names["reps"])], names["admin"][0]
    return [
        ("fit ACCOUNT", admin, f'fit "{account}"'),
        ("account ACCOUNT", admin, f'account "{account}"'),
        ("deal DEAL", admin, f'deal "{deal}"'),
        ("fit, mistyped name", admin, f'fit "{typo(account, rng)}"'),
        ("accounts, first page", rep, "accounts"),
        ("tiers", admin, "tiers"),
        ("deals frozen, first page", rep, "deals frozen"),
        ("nudge (one rep)", rep, "nudge"),
    ]


def measure(engine_url: str, rounds: int = 50, warmup: int = 3, seed: int = 7, only: str | None = None) -> dict:
    engine = make_engine(engine_url)
    playbook = load(DEFAULT_PLAYBOOK)
    rng = random.Random(seed)
    names = samples(engine, rng)
    statements = [0]

    @event.listens_for(engine, "before_cursor_execute")
    def count(*_args, **_kw):
        statements[0] += 1

    timings: dict[str, list[float]] = {}
    queries: dict[str, list[int]] = {}
    for i in range(warmup + rounds):
        for label, who, text in commands(names, i, rng):
            if only and not label.startswith(only):
                continue
            ctx = Context(engine=engine, playbook=playbook, actor=who, owner=who, language="en")
            before, start = statements[0], time.perf_counter()
            run_command(ctx, text)
            elapsed = (time.perf_counter() - start) * 1000
            if i >= warmup:
                timings.setdefault(label, []).append(elapsed)
                queries.setdefault(label, []).append(statements[0] - before)
    engine.dispose()
    out = {}
    for label, values in timings.items():
        values.sort()
        out[label] = {"p50_ms": round(statistics.median(values), 1),
                      "p99_ms": round(values[min(len(values) - 1, int(len(values) * 0.99))], 1),
                      "queries_max": max(queries[label]), "queries_median": statistics.median(queries[label])}
    return out


def run(engine_url: str, results: dict) -> None:
    """The suite's entry point (benchmarks/README.md)."""
    rounds = int(results.get("rounds") or 50)
    warmup = int(results.get("warmup") if results.get("warmup") is not None else 3)
    found = measure(engine_url, rounds=rounds, warmup=warmup)
    command = f"python benchmarks/bench_latency.py --db URL --rounds {rounds}"
    for label, f in found.items():
        results["figures"].append({"benchmark": "latency", "name": f"{label}, p99", "value": f["p99_ms"], "unit": "ms",
                                   "target": f"<= {TARGET_MS} ms", "met": f["p99_ms"] <= TARGET_MS,
                                   "command": command, "note": f"p50 {f['p50_ms']} ms"})
        results["figures"].append({"benchmark": "latency", "name": f"{label}, SQL statements", "value": f["queries_max"],
                                   "unit": "", "target": "flat in the data size", "met": None,
                                   "command": command, "note": "the most in one run"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="database URL (a book loaded by gare bench seed)")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--only", help="the commands whose label starts so (e.g. nudge)")
    args = parser.parse_args()
    found = measure(args.db, rounds=args.rounds, warmup=args.warmup, only=args.only)
    print(json.dumps(found, indent=2))


if __name__ == "__main__":
    main()
