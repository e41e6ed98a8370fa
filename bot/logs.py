"""No secret nor personal data in a log, at any level. Every log record is redacted as it is made,
whoever makes it (Gare, Bolt and the Slack SDK, the Bot Framework, aiohttp, SQLAlchemy): a
record factory rather than a logging.Filter, because a filter sits on one logger or one handler
and misses records propagated from other loggers or handled by handlers added later (a log
shipper, pytest's capture). Redacted: Slack tokens (xoxb-, xoxp-, xapp-…), Bearer and Basic
credentials, passwords in URLs, key=value secrets, e-mail addresses, and the exact secrets the
shells are configured with (a signing secret has no telltale shape)."""
from __future__ import annotations

import logging
import re
import traceback

REDACTED = "[redacted]"
_PATTERNS = (
    (re.compile(r"\bx(?:ox[a-z]|app)-[A-Za-z0-9-]{4,}"), REDACTED),
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1\2{REDACTED}"),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s'\"]*:)[^@\s'\"]+@"), rf"\1{REDACTED}@"),
    (re.compile(r"(?i)(\b[a-z_]*(?:secret|password|passwd|token|api_key|apikey|signature)[\"']?\s*[:=]\s*[\"']?)"
                r"(?!\[redacted\])[^\s\"'&,;}\]]+"), rf"\1{REDACTED}"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"), "[e-mail]"),
)
_known: set[str] = set()


def protect(*secrets: str | None) -> None:
    """Secrets this process holds (a signing secret, an app password): never written to a log."""
    _known.update(s for s in secrets if s and len(s) >= 6)


def redact(text: str) -> str:
    for secret in sorted(_known, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # arguments that do not fit the message: shown as they are, redacted
        message = f"{record.msg} {record.args}"
    record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[0] is not None:
        # A handler formats the trace from exc_text when set: the redacted one.
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install() -> None:
    """Redacts every log record of this process from now on; calling it again changes nothing."""
    current = logging.getLogRecordFactory()
    if getattr(current, "gare_redacts", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = current(*args, **kwargs)
        _scrub(record)
        return record

    factory.gare_redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
