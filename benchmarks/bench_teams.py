"""How long a Teams message takes end to end on the demo data: an Activity POSTed to
/api/messages with a signed Bot Framework token (validated), the speaker identified, the command
run, the Adaptive Card rendered and posted to the stand-in Bot Connector over HTTP. SQLite.

    .venv/bin/python benchmarks/bench_teams.py [ROUNDS]
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from handlers.demo import load_demo_data  # noqa: E402
from handlers.reply import Context  # noqa: E402
from playbook.config import load  # noqa: E402
from store.database import make_engine  # noqa: E402
from teams_harness import NOW, TeamsRig  # noqa: E402

COMMANDS = ["fit Northwind Logistics", 'account "Northwind Logistics"', "deals frozen", "accounts", "tiers", "nudge"]


def main(rounds: int = 20) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/gare.db")
        playbook = load(ROOT / "config.toml")
        load_demo_data(Context(engine=engine, playbook=playbook, actor="demo", clock=lambda: NOW))
        rig = TeamsRig(engine, playbook)
        try:
            started = time.perf_counter()
            rig.say("whoami")  # first contact: keys fetched, roster read, person linked
            print(f"{'first message (whoami)':32} {(time.perf_counter() - started) * 1000:6.1f} ms")
            for command in COMMANDS:
                times = []
                for _ in range(rounds):
                    started = time.perf_counter()
                    rig.say(command)
                    times.append((time.perf_counter() - started) * 1000)
                print(f"{command:32} median {statistics.median(times):6.1f} ms   max {max(times):6.1f} ms")
        finally:
            rig.close()
            engine.dispose()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
