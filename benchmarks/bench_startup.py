"""Issue 10, target 5: a cold `gare ask` (a new process: imports, playbook, the schema check,
one command, its text) against an existing database. Median and worst of `rounds` runs.

    .venv/bin/python benchmarks/bench_startup.py --db URL [--rounds 7]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GARE = str(Path(sys.executable).with_name("gare"))


def measure(db: str, rounds: int = 7, command: str = "whoami") -> dict:
    env = dict(os.environ, DATABASE_URL=db)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run([GARE, "ask", command], env=env, capture_output=True, check=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return {"median_s": round(statistics.median(times), 2), "max_s": round(max(times), 2), "rounds": rounds}


def run(engine_url: str, results: dict) -> None:
    """The suite's entry point (benchmarks/README.md)."""
    found = measure(engine_url)
    results["figures"].append({"benchmark": "startup", "name": "cold gare ask, median", "value": found["median_s"],
                               "unit": "s", "target": "<= 1.5 s", "met": found["median_s"] <= 1.5,
                               "command": "python benchmarks/bench_startup.py --db URL",
                               "note": f"worst of {found['rounds']}: {found['max_s']} s"})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(json.dumps(measure(args.db, args.rounds), indent=2))
