"""How long the core commands take on the demo data, and on a larger generated book.

Run on demand:  .venv/bin/python benchmarks/bench_commands.py [--db URL] [--scale N]
(--db must name a database of its own: the benchmark loads data into it.)
--scale N loads N extra copies of the demo accounts (renamed) to see how lists grow.
Prints the median and worst of 20 runs per command, in milliseconds."""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handlers.registry import run_command  # noqa: E402
from handlers.reply import Context  # noqa: E402
from playbook.config import load  # noqa: E402
from store.database import make_engine, session_scope  # noqa: E402
from store.demo import load_demo  # noqa: E402

COMMANDS = ["fit Northwind Logistics", "account Northwind Logistics", "accounts", "accounts expand tier=1",
            "deals frozen", "deals skipped", "tiers", "stages"]


def add_copy(engine, copy: int) -> None:
    """The demo accounts and deals again, renamed "… #copy", with their stage histories."""
    from sqlmodel import select

    from store.models import Account, Deal, StageVisit

    with session_scope(engine) as session:
        accounts = list(session.exec(select(Account).where(~Account.name.contains(" #"))))
        deals = list(session.exec(select(Deal).where(~Deal.name.contains(" #"))))
        visits = list(session.exec(select(StageVisit)))
        new_ids = {}
        for a in accounts:
            clone = Account(**{k: v for k, v in a.model_dump().items() if k != "id"})
            clone.name = f"{a.name} #{copy}"
            session.add(clone)
            session.flush()
            new_ids[a.id] = clone.id
        deal_ids = {}
        for d in deals:
            clone = Deal(**{k: v for k, v in d.model_dump().items() if k != "id"})
            clone.name, clone.account_id = f"{d.name} #{copy}", new_ids[d.account_id]
            session.add(clone)
            session.flush()
            deal_ids[d.id] = clone.id
        for v in visits:
            if v.deal_id in deal_ids:
                session.add(StageVisit(deal_id=deal_ids[v.deal_id], stage=v.stage, entered_at=v.entered_at,
                                       left_at=v.left_at))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=None)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--scale", type=int, default=0, help="extra copies of the demo book (renamed)")
    args = parser.parse_args()
    url = args.db or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    playbook = load(Path(__file__).resolve().parent.parent / "config.toml")
    engine = make_engine(url)
    with session_scope(engine) as session:
        load_demo(session, playbook)
    for copy in range(1, args.scale + 1):
        add_copy(engine, copy)
    ctx = Context(engine=engine, playbook=playbook, actor="bench", owner="alice", language="en")
    print(f"database: {engine.url.render_as_string(hide_password=True)}, "
          f"{(args.scale + 1) * 68} accounts")
    for text in COMMANDS:
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            reply = run_command(ctx, text)
            times.append((time.perf_counter() - start) * 1000)
        assert reply.ok, (text, reply.data)
        print(f"{text:32s} median {statistics.median(times):7.1f} ms   worst {max(times):7.1f} ms")


if __name__ == "__main__":
    main()
