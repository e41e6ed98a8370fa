"""Talking to the Bot Connector like a good citizen: about 7 messages a second per conversation
at most, and the answers Microsoft asks bots to retry (429, 412, 502, 504, and 503) retried with back-off,
waiting as long as Retry-After says. No SDK here: app.py turns the connector's failures into
ConnectorError."""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable, TypeVar

log = logging.getLogger("gare.teams")
T = TypeVar("T")

# 503: the connector says it did not take the call (Service Unavailable), so trying again
# cannot post twice; a 500 or a timeout may have been delivered, and Teams lets a bot read no
# history to check: not retried within the run, reported in its summary.
RETRYABLE = frozenset({429, 412, 502, 503, 504})
MESSAGES_PER_SECOND = 7.0   # per conversation (Teams' documented per-bot, per-thread limit)
ATTEMPTS = 4
MAX_WAIT = 60.0


class ConnectorError(Exception):
    """The Bot Connector refused a call: its HTTP status, Retry-After (seconds) and error code."""

    def __init__(self, status: int, code: str | None = None, retry_after: float | None = None):
        super().__init__(f"{status} {code or ''}".strip())
        self.status, self.code, self.retry_after = status, code, retry_after

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE

    @property
    def name(self) -> str:
        """How a run's summary names it: the connector's code, else the status."""
        return self.code or f"http_{self.status}"


def retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (Microsoft sends seconds; an HTTP date is read as "a moment")."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return 1.0


Sleep = Callable[[float], Awaitable[None]]


async def with_retries(call: Callable[[], Awaitable[T]], *, sleep: Sleep = asyncio.sleep,
                       attempts: int = ATTEMPTS, what: str = "") -> T:
    """Runs `call`, again after a wait when the connector answers 429, 412, 502 or 504: the
    Retry-After it gives, else 1, 2, 4 seconds. Other failures, and the last one, are raised."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except ConnectorError as exc:
            if not exc.retryable or attempt == attempts:
                raise
            wait = exc.retry_after if exc.retry_after is not None else float(2 ** (attempt - 1))
            log.info("Bot Connector answered %s to %s: retrying in %.1f s", exc.status, what or "a call", wait)
            await sleep(min(wait, MAX_WAIT))
    raise AssertionError("unreachable")


class Pacer:
    """At most `per_second` messages per conversation: waits (without blocking the event loop)
    for the gap since the last message to the same conversation."""

    def __init__(self, per_second: float = MESSAGES_PER_SECOND, *, sleep: Sleep = asyncio.sleep,
                 monotonic: Callable[[], float] = time.monotonic):
        self.gap, self.sleep, self.monotonic = 1.0 / per_second, sleep, monotonic
        self.last: dict[str, float] = {}

    async def wait(self, conversation: str) -> None:
        last = self.last.get(conversation)
        if last is not None:
            wait = self.gap - (self.monotonic() - last)
            if wait > 0:
                await self.sleep(wait)
        self.last[conversation] = self.monotonic()
