"""The pieces every command's syntax is made of: a record name (quoted when it holds keywords),
the keyword after it, and typed tails (assignments, filters, an owner, a date...). The registry
puts them together per command; parsing is pure and refuses bad input with a Refusal."""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any, Callable

from handlers.reply import Refusal
from playbook.words import (
    ALL_WORDS, KEYWORD_OF, OWNER_KEYS, PAGE_WORDS, PROFILE_KEYS, TIER_KEYS, fold, is_keyword,
)

QUOTES = {'"': '"', "'": "'", "«": "»", "“": "”"}

# "is Acme a fit?" and its French forms, read as `fit Acme`.
QUESTION_PATTERNS = [
    # "is this a fit?" names no account: in a deal's thread it means that deal. First, or the
    # next pattern would read "this" as an account name.
    re.compile(r"^(?:is\s+this\s+a\s+fit|est[- ]ce\s+(?:adapt[ée]|que\s+[çc]a\s+convient))\s*\??$", re.I),
    re.compile(r"^is\s+(?P<name>.+?)\s+a\s+(?:good\s+)?fit\s*\??$", re.I),
    re.compile(r"^est[- ]ce\s+qu[e']\s*(?P<name>.+?)\s+(?:convient|est\s+adapt[ée]e?)\s*\??$", re.I),
    re.compile(r"^(?P<name>.+?)\s+est[- ](?:il|elle)\s+(?:adapt[ée]e?|un\s+bon\s+client|une\s+bonne\s+cible)\s*\??$",
               re.I),
]


def strip_quotes(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] in QUOTES and text[-1] == QUOTES[text[0]]:
        return text[1:-1].strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1].strip()
    return text


def quoted(text: str) -> tuple[str, str] | None:
    """'"Jet Set Travel" set margin_pct=3' -> ('Jet Set Travel', 'set margin_pct=3'): a quoted
    name keeps words that are also keywords."""
    if text and text[0] in QUOTES:
        end = text.find(QUOTES[text[0]], 1)
        if end > 0:
            return text[1:end].strip(), text[end + 1:].strip()
    return None


def split_keyword(text: str, families: tuple[str, ...], *, first: bool) -> tuple[str, str, str] | None:
    """(name, keyword family, rest) on the last (or first) keyword after the name's first word:
    'Acme Renewal stage proposal' -> ('Acme Renewal', 'stage', 'proposal')."""
    def family_of(word: str) -> str | None:
        found = KEYWORD_OF.get(fold(word))
        return found if found in families else None

    q = quoted(text)
    if q:
        name, tail = q
        word, _, after = tail.partition(" ")
        kind = family_of(word) if word else None
        return (name, kind, after.strip()) if kind else None
    words = text.split()
    order = range(1, len(words)) if first else range(len(words) - 1, 0, -1)
    for i in order:
        kind = family_of(words[i])
        if kind:
            return " ".join(words[:i]), kind, " ".join(words[i + 1:])
    return None


def _shell_words(text: str) -> list[str]:
    try:
        return shlex.split(text, posix=True)
    except ValueError:  # an unbalanced quote: read the words as typed
        return text.split()


# --- tails: how the text after the name (or the command word) reads -------------------------

@dataclass(frozen=True)
class Tail:
    """Reads a piece of text into named, typed arguments. `usage` is how help shows it:
    placeholders (upper case) are translated by the templates."""
    read: Callable[[str, str], dict[str, Any]]  # (text, command name) -> arguments
    params: tuple[str, ...]
    usage: str
    optional: bool = False
    keywords: tuple[str, ...] = ()  # keyword families the tail itself reads (help knows them)


def assignments(text: str, command: str = "account_set") -> dict[str, str]:
    """`margin_pct=12 owner="Jean Dupont" region=Île de France` -> a dict; a value runs up to the
    next `key=`."""
    out: dict[str, str] = {}
    key = None
    for part in _shell_words(text):
        m = re.match(r"^([A-Za-z_][\w.-]*)\s*=(.*)$", part)
        if m:
            key = m.group(1).lower()
            if key in out:
                raise Refusal("duplicate_field", field=key)
            out[key] = m.group(2)
        elif key is not None:
            out[key] = (out[key] + " " + part).strip()
        else:
            raise Refusal("bad_syntax", command=command, got=part)
    if not out:
        raise Refusal("bad_syntax", command=command, got=text)
    return out


def text_tail(param: str, usage: str, *, optional: bool = False) -> Tail:
    def read(text: str, command: str) -> dict[str, Any]:
        value = strip_quotes(text) or None
        if value is None and not optional:
            raise Refusal("bad_syntax", command=command)
        return {param: value}
    return Tail(read, (param,), usage, optional)


def assignments_tail(param: str, usage: str = "FIELD=VALUE …", *, optional: bool = False) -> Tail:
    def read(text: str, command: str) -> dict[str, Any]:
        if not text.strip():
            if optional:
                return {param: {}}
            raise Refusal("bad_syntax", command=command)
        return {param: assignments(text, command)}
    return Tail(read, (param,), usage, optional)


def owner_value(text: str) -> str | None:
    """`alice`, `owner=alice`, `propriétaire=alice` -> 'alice'; nothing -> None."""
    text = text.strip()
    if not text:
        return None
    if "=" in text:
        key, _, value = text.partition("=")
        if fold(key) not in OWNER_KEYS:
            raise Refusal("bad_filter", got=text)
        text = value
    return strip_quotes(text) or None


def page_number(raw: Any) -> int:
    """A list's page as typed (`page=2`): a whole number from 1, else refused."""
    text = str(raw).strip()
    if not text.isdigit() or int(text) < 1:
        raise Refusal("bad_value", field="page", value=text, expected="integer")
    return int(text)


_PAGE = re.compile(r"(?:^|\s)(?:" + "|".join(PAGE_WORDS) + r")\s*=\s*(\S*)\s*$", re.I)


def owner_tail(param: str = "owner", *, widen: bool = True, paged: bool = False) -> Tail:
    """`[OWNER]`; for lists (`widen`), `all` (`tous`) widens a manager's list beyond their team;
    `paged` lists also read a last `page=N`."""
    def read(text: str, command: str) -> dict[str, Any]:
        page: dict[str, Any] = {}
        if paged:
            m = _PAGE.search(text)
            page["page"] = page_number(m.group(1)) if m else 1
            text = text[:m.start()] if m else text
        if not widen:
            return {param: owner_value(text), **page}
        if fold(text) in ALL_WORDS:
            return {param: None, "everyone": True, **page}
        return {param: owner_value(text), "everyone": False, **page}
    paging = ("page",) if paged else ()
    if not widen:
        return Tail(read, (param, *paging), "[OWNER]" + (" [page=N]" if paged else ""), optional=True)
    return Tail(read, (param, "everyone", *paging), "[OWNER|all]" + (" [page=N]" if paged else ""), optional=True)


def filters_tail(*, allow_profile: bool, paged: bool = False) -> Tail:
    """`[profile] [tier=N] [owner=NAME]` in any order (and `page=N` for a `paged` list)."""
    def read(text: str, command: str) -> dict[str, Any]:
        filters: dict[str, Any] = {"tier": None, "owner": None, "everyone": False}
        if allow_profile:
            filters["profile"] = None
        if paged:
            filters["page"] = 1
        for part in _shell_words(text):
            if fold(part) in ALL_WORDS:
                filters["everyone"] = True
            elif "=" in part:
                key, _, value = part.partition("=")
                key = fold(key)
                if key in TIER_KEYS:
                    if value not in ("1", "2", "3"):
                        raise Refusal("bad_tier", got=value)
                    filters["tier"] = int(value)
                elif key in OWNER_KEYS:
                    filters["owner"] = value or None
                elif key in PROFILE_KEYS and allow_profile:
                    filters["profile"] = value
                elif key in PAGE_WORDS and paged:
                    filters["page"] = page_number(value)
                else:
                    raise Refusal("bad_filter", got=part)
            elif allow_profile and filters["profile"] is None:
                filters["profile"] = part
            else:
                raise Refusal("bad_filter", got=part)
        return filters
    params = ("profile", "tier", "owner", "everyone") if allow_profile else ("tier", "owner", "everyone")
    usage = "[PROFILE] [tier=N] [owner=NAME|all]" if allow_profile else "[tier=N] [owner=NAME|all]"
    if paged:
        params, usage = params + ("page",), usage + " [page=N]"
    return Tail(read, params, usage, optional=True)


def items_tail(value: str) -> Tail:
    """`tick budget, pain` -> {"budget": "yes", "pain": "yes"}."""
    def read(text: str, command: str) -> dict[str, Any]:
        items = text.replace(",", " ").split()
        if not items:
            raise Refusal("bad_syntax", command=command)
        return {"answers": {i: value for i in items}}
    return Tail(read, ("answers",), "ITEM …")


def stage_tail() -> Tail:
    """`proposal`, or `proposal confirm REASON` to pass the misfit gate knowingly."""
    def read(text: str, command: str) -> dict[str, Any]:
        words = text.split()
        cut = next((i for i, w in enumerate(words) if i > 0 and is_keyword(w, "confirm")), None)
        stage = strip_quotes(" ".join(words[:cut] if cut is not None else words))
        if not stage:
            raise Refusal("bad_syntax", command=command)
        if cut is None:
            return {"stage": stage, "confirm": None}
        return {"stage": stage, "confirm": strip_quotes(" ".join(words[cut + 1:])) or ""}
    return Tail(read, ("stage", "confirm"), "STAGE [confirm REASON]", keywords=("confirm",))


def snooze_tail() -> Tail:
    """`2026-12-15 budget signed in January` -> the date and the reason."""
    def read(text: str, command: str) -> dict[str, Any]:
        until, _, reason = text.strip().partition(" ")
        if not until:
            raise Refusal("bad_syntax", command=command)
        return {"until": until, "reason": strip_quotes(reason) or None}
    return Tail(read, ("until", "reason"), "DATE REASON")


# --- shapes: where the name, the keyword and the tail sit ------------------------------------

@dataclass(frozen=True)
class Syntax:
    """One way to write a command after its command word.

    shape: "none" (nothing follows), "rest" (the tail reads everything), "name" (a record name),
    "keyword" (NAME KEYWORD TAIL), "lead" (KEYWORD TAIL, e.g. `deals frozen alice`),
    "last" (NAME TOKEN, e.g. `done Acme 2`), "assign" (NAME FIELD=VALUE …),
    "numbered" (NAME N KEYWORD, e.g. `task Acme 3 done`)."""
    shape: str
    name: str | None = None
    keyword: str | None = None
    tail: Tail | None = None
    first: bool = False          # for "keyword": the first keyword after the name wins
    fixed: dict = field(default_factory=dict)  # arguments this form implies

    def params(self) -> tuple[str, ...]:
        return ((self.name,) if self.name else ()) + (self.tail.params if self.tail else ()) + tuple(self.fixed)


def match(syntax: Syntax, rest: str, command: str, keyword_split: tuple[str, str, str] | None) -> dict | None:
    """The arguments when `rest` is written in this form; None when it is another form; a
    Refusal when it is this form but incomplete or wrong."""
    def named(name: str) -> dict[str, Any]:
        name = strip_quotes(name)
        if not name:
            raise Refusal("bad_syntax", command=command)
        return {syntax.name: name}

    out: dict[str, Any] = dict(syntax.fixed)
    shape = syntax.shape
    if shape == "none":
        if rest:
            return None
        return out
    if shape == "rest":
        return out | syntax.tail.read(rest, command)
    if shape == "lead":
        word, _, after = rest.partition(" ")
        if not word or not is_keyword(word, syntax.keyword):
            return None
        return out | syntax.tail.read(after.strip(), command)
    if shape == "keyword":
        if keyword_split is None or keyword_split[1] != syntax.keyword:
            return None
        name, _, tail = keyword_split
        if syntax.tail is None and tail.strip():
            return None  # more follows than this form takes: another form of the command may
        out |= named(name)
        if syntax.tail is not None:
            out |= syntax.tail.read(tail, command)
        return out
    if shape == "numbered":
        q = quoted(rest)
        if q:
            name, after = q
            m = re.match(r"^#?(?P<n>\d+)\s+(?P<kw>\S+)\s*$", after)
        else:
            m = re.match(r"^(?P<name>.+?)\s+#?(?P<n>\d+)\s+(?P<kw>\S+)\s*$", rest)
            name = m.group("name") if m else ""
        if not m or not is_keyword(m.group("kw"), syntax.keyword):
            return None
        return out | named(name) | syntax.tail.read(m.group("n"), command)
    if shape == "assign":
        q = quoted(rest)
        if q and "=" in q[1]:
            name, tail = q
        else:
            m = re.match(r"^(?P<name>.+?)\s+(?P<tail>[A-Za-z_][\w.-]*\s*=.*)$", rest)
            if not m:
                return None
            name, tail = m.group("name"), m.group("tail")
        return out | named(name) | syntax.tail.read(tail, command)
    if shape == "last":
        m = re.match(r"^(?P<name>.+?)\s+#?(?P<token>\S+)$", rest)
        if not m:
            raise Refusal("bad_syntax", command=command)
        return out | named(m.group("name")) | syntax.tail.read(m.group("token"), command)
    if shape == "name":
        if not rest:
            raise Refusal("bad_syntax", command=command)
        return out | named(rest)
    raise ValueError(f"unknown syntax shape {shape!r}")
