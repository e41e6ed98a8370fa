"""How long a large CRM import takes, and how much memory it needs.

Run on demand:  .venv/bin/python benchmarks/bench_import.py [--rows N ...] [--db URL]
(--db must name an empty database of its own: the benchmark writes into it; without it, a
fresh SQLite file per size.)

For each size it writes a synthetic Salesforce Opportunity export (Data Loader columns: Id,
AccountId, Name, StageName, Amount, CurrencyIsoCode, CloseDate, Type, IsClosed, IsWon, OwnerId,
CreatedDate, LastStageChangeDate...) with one account per five deals (its Account export too),
then imports the accounts and the deals in a child process, twice: the first import creates
everything, the second finds everything unchanged. It prints, per import, the CPU time of the
process (user + system, resource.getrusage) and its peak resident memory (ru_maxrss): a peak
that stays flat from one size to the next is memory that does not grow with the file."""
from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
          "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"]
TYPES = ["New Customer", "Existing Customer - Upgrade", "Existing Customer - Replacement"]
OWNERS = [f"0055g0000{n:07d}" for n in range(40)]


def write_files(folder: Path, rows: int) -> tuple[Path, Path]:
    rng = random.Random(rows)
    accounts = max(1, rows // 5)
    now = datetime(2025, 6, 2, tzinfo=timezone.utc)
    account_file, deal_file = folder / "Account.csv", folder / "Opportunity.csv"
    with account_file.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Id", "Name", "Type", "Industry", "AnnualRevenue", "NumberOfEmployees", "BillingCountry", "OwnerId"])
        for i in range(accounts):
            w.writerow([f"0015g{i:010d}", f"Account {i}", rng.choice(["Customer - Direct", "Prospect"]),
                        "Technology", rng.randrange(100_000, 90_000_000), rng.randrange(5, 9000), "France",
                        rng.choice(OWNERS)])
    with deal_file.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Id", "AccountId", "Name", "StageName", "Amount", "CurrencyIsoCode", "CloseDate", "Type",
                    "IsClosed", "IsWon", "OwnerId", "CreatedDate", "LastStageChangeDate", "Probability",
                    "LeadSource"])
        for i in range(rows):
            stage = rng.choice(STAGES)
            closed, won = stage.startswith("Closed"), stage == "Closed Won"
            created = now - timedelta(days=rng.randrange(1, 700), minutes=rng.randrange(1440))
            changed = created + (now - created) * rng.random() if rng.random() < 0.7 else None
            w.writerow([f"0065g{i:010d}", f"0015g{rng.randrange(accounts):010d}", f"Renewal {2024 + i % 3}",
                        stage, rng.randrange(1000, 500_000), rng.choice(["EUR", "USD"]),
                        (created + timedelta(days=rng.randrange(30, 400))).date().isoformat(), rng.choice(TYPES),
                        str(closed).lower(), str(won).lower(), rng.choice(OWNERS),
                        created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                        changed.strftime("%Y-%m-%dT%H:%M:%S.000Z") if changed else "", 50, "Web"])
    return account_file, deal_file


def child(db: str, kind: str, path: str) -> None:
    """One import in this process; prints its figures as JSON."""
    sys.path.insert(0, str(ROOT))
    from playbook.config import DEFAULT_PLAYBOOK, load
    from store.database import make_engine, session_scope
    from store.imports import import_file

    engine = make_engine(db)
    playbook = load(DEFAULT_PLAYBOOK)
    start, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    with session_scope(engine) as session:
        report = import_file(kind, session, Path(path), playbook=playbook, actor="bench")
    end = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"kind": kind, "ok": report.ok, "rows": report.rows, "created": report.created,
                      "unchanged": report.unchanged, "cpu_s": round(end.ru_utime + end.ru_stime - start.ru_utime
                                                                   - start.ru_stime, 1),
                      "wall_s": round(time.perf_counter() - wall, 1), "peak_rss_mb": round(end.ru_maxrss / 1024)}))


def run(engine_url: str, results: dict) -> None:
    """The suite's entry point (benchmarks/README.md): issue 10's target 4 for imports. The
    import needs an empty database of the same kind: `results["fresh_database"]()` gives one."""
    rows = int(results.get("import_rows") or 100_000)
    db = results["fresh_database"]()
    with tempfile.TemporaryDirectory() as folder:
        accounts, deals = write_files(Path(folder), rows)
        for kind, path in (("accounts", accounts), ("deals", deals)):
            out = subprocess.run([sys.executable, __file__, "--child", db, kind, str(path)],
                                 capture_output=True, text=True, check=True).stdout
            f = json.loads(out)
            results["figures"].append({
                "benchmark": "import", "name": f"import of {f['rows']:,} {kind} rows, peak RSS", "value": f["peak_rss_mb"],
                "unit": "MB", "target": "<= 300 MB", "met": f["peak_rss_mb"] <= 300,
                "command": f"python benchmarks/bench_import.py --rows {rows} --db URL",
                "note": f"wall {f['wall_s']} s, cpu {f['cpu_s']} s, created {f['created']:,}"})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000], help="deal rows per file")
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file per size)")
    args = parser.parse_args()
    for rows in args.rows:
        with tempfile.TemporaryDirectory() as folder:
            accounts, deals = write_files(Path(folder), rows)
            db = args.db or f"sqlite:///{folder}/bench.db"
            for label, kind, path in [("first", "accounts", accounts), ("first", "deals", deals),
                                      ("again", "accounts", accounts), ("again", "deals", deals)]:
                out = subprocess.run([sys.executable, __file__, "--child", db, kind, str(path)],
                                     capture_output=True, text=True, check=True).stdout
                figures = json.loads(out)
                print(f"{rows:>7} deals  {label:5}  {kind:8}  rows {figures['rows']:>7}  created {figures['created']:>7}  "
                      f"unchanged {figures['unchanged']:>7}  cpu {figures['cpu_s']:>5} s  wall {figures['wall_s']:>5} s  "
                      f"peak RSS {figures['peak_rss_mb']:>4} MB", flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        sys.exit(main())
