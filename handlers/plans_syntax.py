"""How the account-plan commands read what follows the account name: a goal and its date, a
task and its fields, a KPI value, a stakeholder, a department and its use case, a rival, the
review's answers, the `plans` list's owner and page. Each tail only cuts the text into named
pieces; the handlers read the values (dates, numbers, choices) and refuse them by field."""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from handlers.grammar import Tail, _shell_words, quoted, strip_quotes
from handlers.reply import Refusal
from playbook.plans import PlanProblem, read_day
from playbook.words import ALL_WORDS, CLOSE_WORDS, OWNER_KEYS, PAGE_WORDS, TARGET_WORDS, fold

# A field written `key=value`; keys may be French (échéance=…).
_KEY = re.compile(r"^([^\W\d][\w.-]*)\s*=(.*)$", re.S)
_FIRST_KEY = re.compile(r"(?:^|\s)[^\W\d][\w.-]*\s*=")


def fields(text: str, command: str) -> dict[str, str]:
    """`owner=client:Jeanne Roy due=30 June` -> {'owner': 'client:Jeanne Roy', 'due': '30 June'}:
    a value runs up to the next `key=`. Keys come back folded."""
    out: dict[str, str] = {}
    key = None
    for part in _shell_words(text):
        m = _KEY.match(part)
        if m:
            key = fold(m.group(1))
            if key in out:
                raise Refusal("duplicate_field", field=m.group(1))
            out[key] = m.group(2).strip()
        elif key is not None:
            out[key] = (out[key] + " " + part).strip()
        else:
            raise Refusal("bad_syntax", command=command, got=part)
    return out


def lead_and_fields(text: str, command: str) -> tuple[str, dict[str, str]]:
    """`"Call the CFO" owner=alice due=2026-04-01` -> ('Call the CFO', {...}): the text before the
    first `key=` (quoted or not), then the fields."""
    text = text.strip()
    q = quoted(text)
    if q and (not q[1] or _KEY.match(q[1].split(" ")[0] if q[1] else "")):
        return q[0], fields(q[1], command) if q[1] else {}
    m = _FIRST_KEY.search(text)
    if m is None:
        return strip_quotes(text), {}
    return strip_quotes(text[:m.start()].strip()), fields(text[m.start():].strip(), command)


def goal_tail() -> Tail:
    def read(text: str, command: str) -> dict[str, Any]:
        if not text.strip():
            raise Refusal("bad_syntax", command=command)
        return {"goal": text.strip()}
    return Tail(read, ("goal",), '"GOAL" by DATE')


def task_tail() -> Tail:
    def read(text: str, command: str) -> dict[str, Any]:
        lead, given = lead_and_fields(text, command)
        if not lead:
            raise Refusal("bad_syntax", command=command)
        return {"text": lead, "fields": given}
    return Tail(read, ("text", "fields"), '"TASK" owner=WHO due=DATE')


def number_tail() -> Tail:
    return Tail(lambda t, c: {"number": t}, ("number",), "N")


def stakeholder_tail() -> Tail:
    def read(text: str, command: str) -> dict[str, Any]:
        lead, given = lead_and_fields(text, command)
        if not lead:
            raise Refusal("bad_syntax", command=command)
        return {"name": lead, "fields": given}
    return Tail(read, ("name", "fields"), "NAME role=… department=… attitude=…")


def whitespace_tail() -> Tail:
    """`Finance "budget dashboards"`, `"Human resources" onboarding portal`, `Human resources
    "onboarding portal"`: the department, then its use case."""
    def read(text: str, command: str) -> dict[str, Any]:
        text = text.strip()
        q = quoted(text)
        if q:
            department, use_case = q
        else:
            m = re.match(r'^(?P<dept>.+?)\s+(?P<q>["«“].*["»”])$', text)
            if m:
                department, use_case = m.group("dept"), m.group("q")
            else:
                department, _, use_case = text.partition(" ")
        department, use_case = strip_quotes(department), strip_quotes(use_case)
        if not department or not use_case:
            raise Refusal("bad_syntax", command=command)
        return {"department": department, "use_case": use_case}
    return Tail(read, ("department", "use_case"), 'DEPARTMENT "USE CASE"')


def rival_tail() -> Tail:
    def read(text: str, command: str) -> dict[str, Any]:
        text = text.strip()
        q = quoted(text)
        name, notes = q if q else (text.partition(" ")[0], text.partition(" ")[2])
        if not strip_quotes(name):
            raise Refusal("bad_syntax", command=command)
        return {"name": strip_quotes(name), "notes": strip_quotes(notes) or None}
    return Tail(read, ("name", "notes"), "NAME [NOTES]")


def answer_tail() -> Tail:
    """`2 "They lack engineers"` or `constraints They lack engineers`: one discovery answer."""
    def read(text: str, command: str) -> dict[str, Any]:
        key, _, answer = text.strip().partition(" ")
        if not key or not strip_quotes(answer):
            raise Refusal("bad_syntax", command=command)
        return {"answers": {key.lstrip("#"): strip_quotes(answer)}}
    return Tail(read, ("answers",), 'N "ANSWER"')


def review_tail() -> Tail:
    """`worked="…" did_not="…" gaps="…"` saves answers; `close` alone closes the review."""
    def read(text: str, command: str) -> dict[str, Any]:
        words = _shell_words(text)
        if len(words) == 1 and fold(words[0]) in CLOSE_WORDS:
            return {"answers": {}, "close": True}
        given = fields(text, command)
        if not given:
            raise Refusal("bad_syntax", command=command)
        return {"answers": given, "close": False}
    return Tail(read, ("answers", "close"), 'worked="…" did_not="…" | close')


def _looks_like_day(raw: str) -> bool:
    try:
        read_day(raw, date(2000, 1, 1))
        return True
    except PlanProblem:
        return False


def kpi_tail() -> Tail:
    """`Acme churn 4.2 [DATE]`, `Acme churn target=3` (or `target 3`), `"Big Co" churn 4.2
    target=3`: the account, the KPI, a value and its day, a target."""
    def read(text: str, command: str) -> dict[str, Any]:
        text = text.strip()
        q = quoted(text)
        account, words = (q[0], q[1].split()) if q else (None, text.split())
        head = 1 if q else 2  # the words naming [the account and] the KPI, at least
        target, kept, i = None, [], 0
        while i < len(words):  # target=3, cible=3, target 3
            key, eq, value = words[i].partition("=")
            if fold(key) in TARGET_WORDS and (eq or (i >= head and i + 1 < len(words))):
                target = value if eq else words[i + 1]
                i += 1 if eq else 2
                continue
            kept.append(words[i])
            i += 1
        words = kept
        on = None
        for n in (3, 2, 1):  # a day after the value: 2026-03-01, 30/03, 30 March 2026
            if len(words) >= head + 1 + n and _numeric(words[-n - 1]) and _looks_like_day(" ".join(words[-n:])):
                on, words = " ".join(words[-n:]), words[:-n]
                break
        value = None
        if len(words) > head and _numeric(words[-1]):
            value, words = words[-1], words[:-1]
        elif target is None or on is not None:
            raise Refusal("bad_syntax", command=command)
        if len(words) < head:
            raise Refusal("bad_syntax", command=command)
        kpi = words[-1]
        if not q:
            account = " ".join(words[:-1])
        elif len(words) != 1:
            raise Refusal("bad_syntax", command=command)
        return {"account": strip_quotes(account), "kpi": kpi, "value": value, "on": on, "target": target}
    return Tail(read, ("account", "kpi", "value", "on", "target"), "ACCOUNT KPI VALUE [DATE]")


def _numeric(word: str) -> bool:
    return bool(re.search(r"\d", word)) and not re.search(r"[a-jl-z]", fold(word))


def plans_tail() -> Tail:
    """`[OWNER|all] [page=N]`."""
    def read(text: str, command: str) -> dict[str, Any]:
        out: dict[str, Any] = {"owner": None, "everyone": False, "page": "1"}
        for part in _shell_words(text):
            key, eq, value = part.partition("=")
            if fold(part) in ALL_WORDS:
                out["everyone"] = True
            elif eq and fold(key) in PAGE_WORDS:
                out["page"] = value
            elif eq and fold(key) in OWNER_KEYS:
                out["owner"] = value or None
            elif not eq and out["owner"] is None:
                out["owner"] = part
            else:
                raise Refusal("bad_filter", got=part)
        return out
    return Tail(read, ("owner", "everyone", "page"), "[OWNER|all] [page=N]", optional=True)
