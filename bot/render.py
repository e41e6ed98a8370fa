"""Turns a handler's Reply into what a surface shows: plain text for the console, Block Kit
JSON for Slack, Adaptive Cards for Teams. Every word comes from templates/ and the catalogs."""
from __future__ import annotations

import json
import logging
import math
import re
import threading
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, select_autoescape

from handlers.reply import Reply

# templates/ sits beside the packages, in the repository and in site-packages alike.
log = logging.getLogger("gare.render")
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SURFACES = {"text": "txt", "slack": "json", "teams": "json"}
_MD_MARKERS = re.compile(r"[\\*_`\[\]]")
LANGUAGES = ("en", "fr")


class Catalog:
    """gettext-style lookups over a .po file read with Babel (no compiled .mo needed)."""

    def __init__(self, language: str):
        self.language = language
        self.plural = Locale.parse(language).plural_form
        self.messages: dict[Any, Any] = {}
        po = TEMPLATES / "locale" / language / "LC_MESSAGES" / "messages.po"
        if po.is_file():
            with po.open("rb") as fh:
                for message in read_po(fh, locale=language):
                    if message.id and message.string and not message.fuzzy:
                        self.messages[message.id] = message.string

    def gettext(self, message: str) -> str:
        found = self.messages.get(message)
        return found if isinstance(found, str) and found else message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        found = self.messages.get((singular, plural))
        if isinstance(found, (tuple, list)):
            form = {"one": 0}.get(self.plural(n), 1)
            form = min(form, len(found) - 1)
            if found[form]:
                return found[form]
        return singular if n == 1 else plural


# Beyond this a number is shown in scientific notation: Babel's decimal arithmetic fails on 1e308,
# and a value stored before Gare checked ranges (store/values.py) must not make a record unshowable.
_SHOWN_IN_FULL = 1e15


def _beyond(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not (
            math.isfinite(value) and abs(value) < _SHOWN_IN_FULL):
        return "–" if isinstance(value, float) and math.isnan(value) else f"{value:.3g}"
    return None


def _number(value: Any, language: str, digits: int = 0) -> str:
    if value is None:
        return "–"
    if _beyond(value) is not None:
        return _beyond(value)
    fmt = "#,##0" if digits == 0 else "#,##0." + "0" * digits
    return format_decimal(value, format=fmt, locale=language)


class _Environment(Environment):
    """Templates are compiled once per process: the first thread to need one compiles it while
    the others wait for it, instead of every worker thread of a busy server compiling the same
    template at the same moment."""

    def __init__(self, **options: Any):
        super().__init__(**options)
        self._loading = threading.RLock()

    def _load_template(self, name, globals):  # noqa: A002 - Jinja's own signature
        with self._loading:
            return super()._load_template(name, globals)


@lru_cache(maxsize=None)
def environment(surface: str, language: str, currency: str = "EUR") -> Environment:
    env = _Environment(
        # Rich surfaces may import the text macros (names, examples) and include a text rendering.
        loader=FileSystemLoader([str(TEMPLATES / surface), str(TEMPLATES / "shared")]
                                + ([str(TEMPLATES / "text")] if surface != "text" else [])),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=(), default_for_string=False, default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        # Templates ship with the code and do not change while a process runs: no stat() of
        # every template (and of each one it imports) at every rendering.
        auto_reload=False,
    )
    catalog = Catalog(language)
    env.install_gettext_callables(catalog.gettext, catalog.ngettext, newstyle=True)
    env.globals["language"] = language
    env.filters["number"] = lambda v, digits=0: _number(v, language, digits)
    env.filters["signed"] = lambda v, digits=0: ("+" if (v or 0) > 0 else "") + _number(v, language, digits)
    env.filters["date"] = lambda v: "–" if v is None else format_date(
        v.date() if isinstance(v, datetime) else (date.fromisoformat(v[:10]) if isinstance(v, str) else v),
        format="medium", locale=language)
    env.filters["datetime"] = lambda v: "–" if v is None else format_datetime(v, format="short", locale=language)
    env.filters["tojson"] = lambda v: json.dumps(v, ensure_ascii=False, default=json_default)
    env.filters["truncate_chars"] = lambda v, n: v if len(v) <= n else v[: n - 1] + "…"
    # Slack mrkdwn reads &, < and > as markup: names typed by users must not become links or mentions.
    env.filters["mrkdwn"] = lambda v: "" if v is None else str(v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # Adaptive Card TextBlocks read a markdown subset: names typed by users must not turn bold or
    # into links (Teams cards), so its markers are escaped the CommonMark way.
    env.filters["md"] = lambda v: "" if v is None else _MD_MARKERS.sub(r"\\\g<0>", str(v))
    env.filters["split_lines"] = lambda v: str(v).splitlines()
    # An amount in its own currency (a deal's, from its CRM), else the playbook's.
    env.filters["money"] = lambda v, code=None: "–" if v is None else _beyond(v) or format_currency(
        v, code or currency, format="¤#,##0" if language == "en" else "#,##0\u00a0¤", locale=language,
        currency_digits=False)
    return env


def render(reply: Reply, *, surface: str = "text", language: str = "en", currency: str = "EUR", **extra: Any) -> Any:
    """Text for the console; a parsed JSON structure for Slack and Teams. `extra` reaches the
    template as variables (a shell's page number, whether a Share button fits...). A reply with
    no template on a rich surface is shown as its text in a plain message, never as silence."""
    if language not in LANGUAGES:
        language = "en"
    env = environment(surface, language, currency)
    try:
        template = env.get_template(f"{reply.template}.{SURFACES[surface]}.j2")
    except TemplateNotFound:
        if surface == "text":
            raise
        log.error("no %s template for the reply %r: shown as plain text", surface, reply.template)
        text = render(reply, surface="text", language=language, currency=currency, **extra)
        template = env.get_template("_plain.json.j2")
        return json.loads(template.render(text=text))
    out = template.render(data=reply.data, ok=reply.ok, **extra)
    if SURFACES[surface] == "json":
        return json.loads(out)
    return out.strip("\n") + "\n"


def json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=json_default)
