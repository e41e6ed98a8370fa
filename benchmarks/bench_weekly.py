"""Issue 10, targets 2 and 4: composing the weekly run (every rep's nudge, then every manager's
digest) on whatever book the database holds, without sending: `run_weekly(..., dry_run=True)`
renders each message as it would go out. Run in a child process so its peak memory is its own;
SQL statements counted with SQLAlchemy's before_cursor_execute event.

    .venv/bin/python benchmarks/bench_weekly.py --db URL
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(db: str) -> dict:
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import event

    from bot.nudges import run_weekly
    from playbook.config import DEFAULT_PLAYBOOK, load
    from store.database import make_engine

    engine = make_engine(db)
    playbook = load(DEFAULT_PLAYBOOK)
    statements = [0]

    @event.listens_for(engine, "before_cursor_execute")
    def count(*_args, **_kw):
        statements[0] += 1

    clock = lambda: datetime.now(timezone.utc)  # noqa: E731
    out = {}
    for kind in ("reps", "managers"):
        before, start = statements[0], time.perf_counter()
        summary = run_weekly(engine, playbook, kind=kind, clock=clock, dry_run=True)
        out[kind] = {"seconds": round(time.perf_counter() - start, 2), "queries": statements[0] - before,
                     "recipients": len(summary.previews) + len(summary.nothing_to_say),
                     "failed": len(summary.failed)}
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def measure(db: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", db], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(engine_url: str, results: dict) -> None:
    """The suite's entry point (benchmarks/README.md)."""
    found = measure(engine_url)
    command = "python benchmarks/bench_weekly.py --db URL"
    total = found["reps"]["seconds"] + found["managers"]["seconds"]
    recipients = found["reps"]["recipients"] + found["managers"]["recipients"]

    def figure(name, value, unit, target=None, met=None, note=""):
        results["figures"].append({"benchmark": "weekly", "name": name, "value": value, "unit": unit,
                                   "target": target, "met": met, "command": command, "note": note})
    figure("weekly run composed (all nudges and digests)", round(total, 1), "s", "<= 10 s", total <= 10,
           f"{found['reps']['recipients']} reps, {found['managers']['recipients']} managers")
    figure("weekly run, SQL statements", found["reps"]["queries"] + found["managers"]["queries"], "",
           "flat in the number of recipients", None, f"{recipients} recipients")
    figure("weekly run peak RSS", found["peak_rss_mb"], "MB", "<= 300 MB", found["peak_rss_mb"] <= 300)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2])))
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--db", required=True)
        print(json.dumps(measure(parser.parse_args().db), indent=2))
