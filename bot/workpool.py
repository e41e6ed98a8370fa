"""Handler work off the event loop, bounded. The loop only acknowledges and relays; database
work and rendering run on a fixed number of threads, and a fixed number of requests may have
work admitted at once, so a burst cannot grow memory without end: past the bound, the caller is
told at once (`Busy`) and the user gets "busy, try again in a moment" instead of an answer a
minute late.

The bound is on requests, not on jobs: a request (one asyncio task: a Slack listener, a Teams
turn) is admitted by its first job and holds its place until its task ends, so the rest of its
work (the rendering of a change already made, say) is never refused half-way. Each admitted
request waits for one job at a time, so the executor's queue never holds more than `limit`."""
from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable


class Busy(Exception):
    """Too many requests in progress: answer the user now rather than late."""


class WorkPool:
    def __init__(self, threads: int | None = None, queue: int | None = None):
        self.threads = threads or int(os.environ.get("GARE_WORKERS") or 8)
        self.limit = self.threads + (queue if queue is not None else int(os.environ.get("GARE_QUEUE") or 64))
        self._executor = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="gare-work")
        self._lock = threading.Lock()
        self._admitted = 0
        self._waiting = 0
        self._holds = contextvars.ContextVar(f"gare-pool-{id(self)}", default=False)

    def _admit(self) -> bool:
        """A request's first job takes a place (or raises Busy); its later jobs have one.
        True when the place is to be given back after this job (no task to hold it)."""
        if self._holds.get():
            return False
        task = asyncio.current_task()
        with self._lock:
            if self._admitted >= self.limit:
                raise Busy()
            self._admitted += 1
        if task is None:
            return True
        self._holds.set(True)
        task.add_done_callback(self._release)
        return False

    def _release(self, _task: Any = None) -> None:
        with self._lock:
            self._admitted -= 1

    async def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        release = self._admit()
        with self._lock:
            self._waiting += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor,
                                                                    functools.partial(fn, *args, **kwargs))
        finally:
            with self._lock:
                self._waiting -= 1
            if release:
                self._release()

    @property
    def admitted(self) -> int:
        """Requests holding a place now (at most `limit`)."""
        return self._admitted

    @property
    def pending(self) -> int:
        """Jobs queued or running now (at most `limit`)."""
        return self._waiting

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
