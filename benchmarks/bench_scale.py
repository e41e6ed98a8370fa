"""How long the commands of a real sales org take on a large book: ACCOUNTS accounts with
DEALS_PER deals each (default 10,000 and 5: 50,000 deals), 200 reps, loaded once through the
CRM import (the store's bulk path) into the database named, then reused.

    .venv/bin/python benchmarks/bench_scale.py --db sqlite:////tmp/scale10k.db [--accounts 10000]
        [--runs 5] [--only "fit Globx Tradng 00001"]

Prints the median and worst of --runs runs per command, in milliseconds, and the statements
each sent (SQLAlchemy's before_cursor_execute)."""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, func  # noqa: E402
from sqlmodel import select  # noqa: E402

from handlers.registry import run_command  # noqa: E402
from handlers.reply import Context  # noqa: E402
from playbook.config import load  # noqa: E402
from store.database import make_engine, session_scope  # noqa: E402
from store.imports import import_accounts, import_deals  # noqa: E402
from store.models import Account  # noqa: E402

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=timezone.utc)
REPS = [f"Rep {n:03d}" for n in range(200)]
WORDS = ["Northwind", "Globex", "Initech", "Umbrella", "Soylent", "Hooli", "Vandelay", "Stark", "Wayne", "Tyrell",
         "Société Générale", "Acme", "Cyberdyne", "Oscorp", "Wonka", "Gringotts", "Monarch", "Aperture"]
STAGES = ["Discovery", "Qualification", "Solution design", "Proposal", "Negotiation"]
COMMANDS = ["fit Globex Trading 00001", "account Globex Trading 00001", 'deal "Globex Trading 00001 deal 1"',
            "fit Globx Tradng 00001", "accounts", "tiers", "deals frozen", f"nudge {REPS[3]}"]


def book(start: int, stop: int, deals_per: int) -> tuple[str, str]:
    accounts = ["name,owner,status,industry,annual_revenue,employees,margin_pct,exec_sponsor,last_contact,lifetime_value"]
    deals = ["name,account,owner,stage,stage_entered,amount,close_date,status"]
    for i in range(start, stop):
        name = f"{WORDS[i % len(WORDS)]} Trading {i:05d}"
        owner = REPS[i % len(REPS)]
        accounts.append(f"{name},{owner},{('customer', 'prospect', 'former')[i % 3]},Retail,{(i % 40) * 1_000_000},"
                        f"{i % 900},{i % 30},{'yes' if i % 2 else 'no'},2025-0{1 + i % 5}-10,{(i % 7) * 50_000}")
        for n in range(deals_per):
            entered = NOW - timedelta(days=(i * 7 + n * 13) % 90)
            deals.append(f"{name} deal {n},{name},{owner},{STAGES[(i + n) % len(STAGES)]},{entered:%Y-%m-%dT%H:%M:%SZ},"
                         f"{1000 + i},2025-09-30,{'won' if (i + n) % 9 == 0 else 'open'}")
    return "\n".join(accounts) + "\n", "\n".join(deals) + "\n"


def seed(engine, playbook, accounts: int, deals_per: int, batch: int = 5000) -> None:
    with session_scope(engine) as session:
        have = session.exec(select(func.count()).select_from(Account)).one()
    for start in range(have, accounts, batch):
        stop = min(accounts, start + batch)
        a, d = book(start, stop, deals_per)
        with session_scope(engine) as session:
            import_accounts(session, io.StringIO(a), playbook=playbook, actor="bench", now=NOW)
        with session_scope(engine) as session:
            import_deals(session, io.StringIO(d), playbook=playbook, actor="bench", now=NOW)
        print(f"seeded {stop} accounts", flush=True)
    if engine.dialect.name == "postgresql" and have < accounts:
        # As autovacuum would soon: without statistics the planner takes an index of deal.status
        # for one of deal.account_id.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--deals-per", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", action="append", help="a command to time (repeatable); default: the mix")
    args = parser.parse_args()
    playbook = load(Path(__file__).resolve().parent.parent / "config.toml")
    engine = make_engine(args.db)
    seed(engine, playbook, args.accounts, args.deals_per)
    ctx = Context(engine=engine, playbook=playbook, actor="bench", language="en", clock=lambda: NOW)
    sent = []
    event.listen(engine, "before_cursor_execute", lambda *a: sent.append(1))
    for text in args.only or COMMANDS:
        times, statements = [], 0
        for _ in range(args.runs):
            sent.clear()
            start = time.perf_counter()
            run_command(ctx, text)
            times.append((time.perf_counter() - start) * 1000)
            statements = len(sent)
        print(f"{text:36s} median {statistics.median(times):9.1f} ms   worst {max(times):9.1f} ms   "
              f"{statements} statements", flush=True)


if __name__ == "__main__":
    main()
