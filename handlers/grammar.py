"""One grammar for every channel. Command words are accepted in English and French:
`fit Acme`, `is Acme a fit?`, `compte Acme`, `affaires gelées`, `deal X stage proposal`..."""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from handlers.reply import Refusal
from store.queries import fold


@dataclass
class Command:
    name: str
    args: dict = field(default_factory=dict)


# Folded (lower-case, accent-free) command words in both languages.
WORDS = {
    "help": {"help", "aide", "?", "h"},
    "fit": {"fit", "adequation", "adapte", "convient"},
    "account": {"account", "compte"},
    "accounts": {"accounts", "comptes"},
    "deal": {"deal", "affaire", "opportunite", "opp"},
    "deals": {"deals", "affaires", "opportunites", "opps"},
    "tiers": {"tiers", "niveaux", "pyramide", "pyramid"},
    "stages": {"stages", "etapes", "pipeline"},
    "set": {"set", "modifier", "definir"},
    "stage": {"stage", "etape"},
    "nurture": {"nurture", "nurturing", "maturation", "nourrir"},
    "checklist": {"checklist", "qualification", "grille"},
    "snooze": {"snooze", "reporter", "sommeil", "pause"},
    "nudge": {"nudge", "relance", "rappel"},
    "settings": {"settings", "reglages", "parametres", "preferences"},
    "done": {"done", "fait", "fini"},
    "tick": {"tick", "check", "cocher", "coche"},
    "untick": {"untick", "uncheck", "decocher", "decoche"},
    "frozen": {"frozen", "stuck", "gelees", "gelee", "bloquees", "bloquee"},
    "skipped": {"skipped", "sautees", "sautee", "brulees", "bruleee"},
}

QUESTION_PATTERNS = [
    # "is this a fit?" names no account: in a deal's thread it means that deal. First, or the
    # next pattern would read "this" as an account name.
    re.compile(r"^(?:is\s+this\s+a\s+fit|est[- ]ce\s+(?:adapt[ée]|que\s+[çc]a\s+convient))\s*\??$", re.I),
    # English: "is Acme a fit?", "is Acme a good fit"
    re.compile(r"^is\s+(?P<name>.+?)\s+a\s+(?:good\s+)?fit\s*\??$", re.I),
    # French: "est-ce que Acme convient ?", "Acme est-il adapté ?", "Acme est-elle un bon client ?"
    re.compile(r"^est[- ]ce\s+qu[e']\s*(?P<name>.+?)\s+(?:convient|est\s+adapt[ée]e?)\s*\??$", re.I),
    re.compile(r"^(?P<name>.+?)\s+est[- ](?:il|elle)\s+(?:adapt[ée]e?|un\s+bon\s+client|une\s+bonne\s+cible)\s*\??$", re.I),
]


def _is(word: str, kind: str) -> bool:
    return fold(word) in WORDS[kind]


def _strip_quotes(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'«“":
        return text[1:-1].strip()
    if text.startswith("«") and text.endswith("»"):
        return text[1:-1].strip()
    return text


QUOTES = {'"': '"', "'": "'", "«": "»", "“": "”"}


def _quoted(text: str) -> tuple[str, str] | None:
    """'"Jet Set Travel" set margin_pct=3' -> ('Jet Set Travel', 'set margin_pct=3'): a quoted
    name keeps words that are also keywords."""
    if text and text[0] in QUOTES:
        end = text.find(QUOTES[text[0]], 1)
        if end > 0:
            return text[1:end].strip(), text[end + 1:].strip()
    return None


def _split_keyword(text: str, *kinds: str, first: bool = False) -> tuple[str, str, str] | None:
    """(name, keyword kind, rest) on the last (or first) keyword after the name's first word:
    'Acme Renewal stage proposal' -> ('Acme Renewal', 'stage', 'proposal')."""
    quoted = _quoted(text)
    if quoted:
        name, tail = quoted
        word, _, after = tail.partition(" ")
        kind = next((k for k in kinds if word and _is(word, k)), None)
        return (name, kind, after.strip()) if kind else None
    words = text.split()
    order = range(1, len(words)) if first else range(len(words) - 1, 0, -1)
    for i in order:
        kind = next((k for k in kinds if _is(words[i], k)), None)
        if kind:
            return " ".join(words[:i]), kind, " ".join(words[i + 1:])
    return None


def parse_assignments(text: str, command: str = "account_set") -> dict[str, str]:
    """`margin_pct=12 owner="Jean Dupont" region=Île de France` -> a dict; a value runs up to the
    next `key=`."""
    try:
        parts = shlex.split(text, posix=True)
    except ValueError:
        parts = text.split()
    out: dict[str, str] = {}
    key = None
    for part in parts:
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


def parse(text: str) -> Command:
    text = (text or "").strip()
    # Chat clients often add a trailing mention or punctuation; keep the words.
    text = re.sub(r"\s+", " ", text)
    if not text:
        return Command("help")
    for pattern in QUESTION_PATTERNS:
        m = pattern.match(text)
        if m:
            name = m.groupdict().get("name")
            return Command("fit", {"account": _strip_quotes(name)} if name else {"account": None})
    head, _, rest = text.partition(" ")
    rest = rest.strip()

    if _is(head, "help"):
        return Command("help", {"topic": fold(rest) or None})

    if _is(head, "fit"):
        if not rest:
            raise Refusal("bad_syntax", command="fit")
        return Command("fit", {"account": _strip_quotes(rest.rstrip("?").strip())})

    if _is(head, "account"):
        if not rest:
            raise Refusal("bad_syntax", command="account")
        split = _split_keyword(rest, "set")
        if split:
            name, _, assignments = split
            if not name or not assignments:
                raise Refusal("bad_syntax", command="account_set")
            return Command("account_set", {"account": _strip_quotes(name), "changes": parse_assignments(assignments)})
        return Command("account", {"account": _strip_quotes(rest)})

    if _is(head, "accounts"):
        return Command("accounts", _list_filters(rest, allow_profile=True))

    if _is(head, "deal"):
        if not rest:
            raise Refusal("bad_syntax", command="deal")
        # The first action word after the name: a nurture reason may say "stage" again.
        split = _split_keyword(rest, "stage", "snooze", "nurture", first=True)
        if split:
            name, kind, tail = split
            name = _strip_quotes(name)
            if kind == "stage":
                if not name or not tail:
                    raise Refusal("bad_syntax", command="deal_stage")
                return Command("deal_stage", {"deal": name, "stage": _strip_quotes(tail)})
            if kind == "snooze":
                # `deal NAME snooze 2026-12-15 budget signed in January`
                until, _, reason = tail.partition(" ")
                if not name or not until:
                    raise Refusal("bad_syntax", command="deal_snooze")
                return Command("deal_snooze", {"deal": name, "until": until, "reason": _strip_quotes(reason) or None})
            if not name:
                raise Refusal("bad_syntax", command="deal_nurture")
            return Command("deal_nurture", {"deal": name, "reason": _strip_quotes(tail) or None})
        return Command("deal", {"deal": _strip_quotes(rest)})

    if _is(head, "deals"):
        which, _, owner = rest.partition(" ")
        if _is(which or "-", "frozen"):
            return Command("deals_frozen", {"owner": _owner_arg(owner)})
        if _is(which or "-", "skipped"):
            return Command("deals_skipped", {"owner": _owner_arg(owner)})
        raise Refusal("bad_syntax", command="deals", got=which or None)

    if _is(head, "checklist"):
        if not rest:
            raise Refusal("bad_syntax", command="checklist")
        split = _split_keyword(rest, "tick", "untick")
        if split:
            name, kind, items = split
            if not name or not items:
                raise Refusal("bad_syntax", command="checklist")
            value = "yes" if kind == "tick" else "no"
            return Command("checklist_answer", {"name": _strip_quotes(name),
                                                "answers": {i: value for i in items.replace(",", " ").split()}})
        if "=" in rest:
            m = re.match(r"^(?P<name>.+?)\s+(?P<answers>[A-Za-z_][\w.-]*\s*=.*)$", rest)
            if not m:
                raise Refusal("bad_syntax", command="checklist")
            return Command("checklist_answer", {"name": _strip_quotes(m.group("name")),
                                                "answers": parse_assignments(m.group("answers"), "checklist")})
        return Command("checklist", {"name": _strip_quotes(rest)})

    if _is(head, "nudge"):
        return Command("nudge", {"owner": _owner_arg(rest)})

    if _is(head, "settings"):
        return Command("settings", {"changes": parse_assignments(rest, "settings") if rest else {}})

    if _is(head, "done"):
        # `done ACCOUNT N`: the account's Nth common action is done.
        m = re.match(r"^(?P<name>.+?)\s+#?(?P<n>\S+)$", rest)
        if not m:
            raise Refusal("bad_syntax", command="done")
        return Command("action_done", {"account": _strip_quotes(m.group("name")), "number": m.group("n")})

    if _is(head, "tiers"):
        return Command("tiers", _list_filters(rest, allow_profile=False))

    if _is(head, "stages"):
        return Command("stages")

    raise Refusal("unknown_command", got=head)


def _owner_arg(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    if "=" in text:
        key, _, value = text.partition("=")
        if fold(key) not in ("owner", "proprietaire", "rep", "commercial"):
            raise Refusal("bad_filter", got=text)
        text = value
    return _strip_quotes(text) or None


def _list_filters(text: str, *, allow_profile: bool) -> dict:
    """`[profile] [tier=N] [owner=NAME]` in any order."""
    filters: dict = {"profile": None, "tier": None, "owner": None}
    try:
        parts = shlex.split(text)
    except ValueError:
        parts = text.split()
    for part in parts:
        if "=" in part:
            key, _, value = part.partition("=")
            key = fold(key)
            if key in ("tier", "niveau"):
                if value not in ("1", "2", "3"):
                    raise Refusal("bad_tier", got=value)
                filters["tier"] = int(value)
            elif key in ("owner", "proprietaire", "rep", "commercial"):
                filters["owner"] = value or None
            elif key == "profile" or key == "profil":
                filters["profile"] = value
            else:
                raise Refusal("bad_filter", got=part)
        elif allow_profile and filters["profile"] is None:
            filters["profile"] = part
        else:
            raise Refusal("bad_filter", got=part)
    return filters
