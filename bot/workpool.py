"""Handler work off the event loop, bounded. The loop only acknowledges and relays; database
work and rendering run on a fixed number of threads with a bounded queue in front, so a burst
cannot grow memory without end: past the bound, the caller is told at once (`Busy`) and the user
gets "busy, try again in a moment" instead of an answer a minute late."""
from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable


class Busy(Exception):
    """The queue is full: answer the user now rather than late."""


class WorkPool:
    def __init__(self, threads: int | None = None, queue: int | None = None):
        self.threads = threads or int(os.environ.get("GARE_WORKERS") or 8)
        self.limit = self.threads + (queue if queue is not None else int(os.environ.get("GARE_QUEUE") or 64))
        self._executor = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="gare-work")
        self._lock = threading.Lock()
        self._pending = 0

    async def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            if self._pending >= self.limit:
                raise Busy()
            self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, lambda: fn(*args, **kwargs))
        finally:
            with self._lock:
                self._pending -= 1

    @property
    def pending(self) -> int:
        return self._pending

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
