"""A progress bar on stderr for long imports; silent when stderr is not a terminal."""
from __future__ import annotations

import sys
import time

from bot.render import render
from handlers.reply import Reply


class ProgressBar:
    def __init__(self, language: str, label: str, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.language, self.label = language, label
        self.last = 0.0
        self.drawn = False

    def __enter__(self) -> "ProgressBar":
        return self

    def update(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        now = time.monotonic()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        width = 30
        filled = int(width * done / total)
        line = render(Reply("progress", {"file": self.label, "done": done, "total": total,
                                         "bar": "█" * filled + "░" * (width - filled),
                                         "pct": int(100 * done / total)}), language=self.language).rstrip("\n")
        self.stream.write("\r" + line)
        self.stream.flush()
        self.drawn = True

    def __exit__(self, *exc) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
