"""The small rule language admins write in config.toml, e.g.
``status = customer and (margin_pct < 5 or days_since_last_contact > 180)``.

Logic is three-valued: a condition on a field the account does not have is *unknown* (None),
so a misfit trait whose data is missing is reported as unknown rather than silently passed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Mapping, Union

OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "in", "not in", "is empty", "is set")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lpar>\() | (?P<rpar>\)) | (?P<lbr>\[) | (?P<rbr>\]) | (?P<comma>,) |
        (?P<op><=|>=|!=|==|=|<|>) |
        (?P<str>"[^"]*"|'[^']*') |
        (?P<word>[^\s()\[\],<>=!"']+)
    )""",
    re.VERBOSE,
)


class RuleError(ValueError):
    """A rule that cannot be read: the message says where and what was expected."""


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any
    text: str


@dataclass(frozen=True)
class Not:
    inner: "Node"


@dataclass(frozen=True)
class All:
    items: tuple["Node", ...]


@dataclass(frozen=True)
class Any_:
    items: tuple["Node", ...]


Node = Union[Condition, Not, All, Any_]


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise RuleError(f"cannot read {text[pos:].strip()!r} in rule {text!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def parse_value(raw: str) -> Any:
    """Numbers, ISO dates, yes/no and words, as an admin would write them."""
    if (raw.startswith('"') and raw.endswith('"')) or (raw.startswith("'") and raw.endswith("'")):
        return raw[1:-1]
    low = raw.lower()
    if low in ("yes", "true", "oui", "vrai"):
        return True
    if low in ("no", "false", "non", "faux"):
        return False
    try:
        return int(raw.replace("_", ""))
    except ValueError:
        pass
    try:
        return float(raw.replace("_", ""))
    except ValueError:
        pass
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    return raw


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise RuleError(f"rule {self.text!r} ends too early: a condition looks like 'field < value'")
        self.i += 1
        return tok

    def is_word(self, *words: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "word" and tok[1].lower() in words

    def parse(self) -> Node:
        if not self.toks:
            raise RuleError("empty rule: write a condition such as 'margin_pct < 5'")
        node = self.or_()
        if self.peek() is not None:
            raise RuleError(f"unexpected {self.peek()[1]!r} in rule {self.text!r}")
        return node

    def or_(self) -> Node:
        items = [self.and_()]
        while self.is_word("or", "ou"):
            self.take()
            items.append(self.and_())
        return items[0] if len(items) == 1 else Any_(tuple(items))

    def and_(self) -> Node:
        items = [self.not_()]
        while self.is_word("and", "et"):
            self.take()
            items.append(self.not_())
        return items[0] if len(items) == 1 else All(tuple(items))

    def not_(self) -> Node:
        if self.is_word("not", "non") and not self._next_is_op():
            self.take()
            return Not(self.not_())
        return self.atom()

    def _next_is_op(self) -> bool:
        nxt = self.toks[self.i + 1] if self.i + 1 < len(self.toks) else None
        return nxt is not None and nxt[0] == "op"

    def atom(self) -> Node:
        tok = self.take()
        if tok[0] == "lpar":
            node = self.or_()
            if self.take()[0] != "rpar":
                raise RuleError(f"missing ')' in rule {self.text!r}")
            return node
        if tok[0] != "word":
            raise RuleError(f"expected a field name, found {tok[1]!r} in rule {self.text!r}")
        field = tok[1]
        start = self.i - 1
        op_tok = self.take()
        if op_tok[0] == "op":
            op = "=" if op_tok[1] == "==" else op_tok[1]
        elif op_tok[0] == "word" and op_tok[1].lower() == "in":
            op = "in"
        elif op_tok[0] == "word" and op_tok[1].lower() == "is" and self.is_word("empty", "set"):
            op = "is " + self.take()[1].lower()
            text = " ".join(v for _, v in self.toks[start:self.i])
            return Condition(field=field, op=op, value=None, text=text)
        elif op_tok[0] == "word" and op_tok[1].lower() == "not" and self.is_word("in"):
            self.take()
            op = "not in"
        else:
            raise RuleError(
                f"after {field!r} expected one of {', '.join(OPERATORS)}, found {op_tok[1]!r} in rule {self.text!r}"
            )
        if op in ("in", "not in"):
            if self.take()[0] != "lbr":
                raise RuleError(f"'{op}' takes a list such as [retail, hospitality] in rule {self.text!r}")
            values = []
            while True:
                t = self.take()
                if t[0] == "rbr":
                    break
                if t[0] == "comma":
                    continue
                if t[0] not in ("word", "str"):
                    raise RuleError(f"unexpected {t[1]!r} in a list in rule {self.text!r}")
                values.append(parse_value(t[1]))
            value: Any = tuple(values)
        else:
            t = self.take()
            if t[0] not in ("word", "str"):
                raise RuleError(f"expected a value after {field} {op}, found {t[1]!r} in rule {self.text!r}")
            value = parse_value(t[1])
        text = " ".join(v for _, v in self.toks[start:self.i])
        return Condition(field=field, op=op, value=value, text=text)


def parse_rule(text: str) -> Node:
    if not isinstance(text, str):
        raise RuleError(f"a rule must be text such as 'margin_pct < 5', not {text!r}")
    return _Parser(text).parse()


def conditions(node: Node) -> list[Condition]:
    if isinstance(node, Condition):
        return [node]
    if isinstance(node, Not):
        return conditions(node.inner)
    return [c for item in node.items for c in conditions(item)]


def _norm(v: Any) -> Any:
    if isinstance(v, str):
        return v.strip().casefold()
    if isinstance(v, datetime):
        return v.date()
    return v


def evaluate_condition(cond: Condition, facts: Mapping[str, Any]) -> bool | None:
    actual = facts.get(cond.field)
    if cond.op in ("is empty", "is set"):
        empty = actual is None or actual == ""
        return empty if cond.op == "is empty" else not empty
    if actual is None or actual == "":
        return None
    a = _norm(actual)
    if isinstance(a, str):
        # A text field compared with 75 or 2024 means the text "75" or "2024".
        as_text = lambda v: _norm(v if isinstance(v, str) else str(v))  # noqa: E731
    else:
        as_text = _norm
    if cond.op in ("in", "not in"):
        hit = a in {as_text(v) for v in cond.value}
        return hit if cond.op == "in" else not hit
    b = as_text(cond.value)
    if isinstance(a, bool) or isinstance(b, bool):
        if cond.op not in ("=", "!="):
            return None
        return (a == b) if cond.op == "=" else (a != b)
    try:
        if cond.op == "=":
            return a == b
        if cond.op == "!=":
            return a != b
        if cond.op == "<":
            return a < b
        if cond.op == "<=":
            return a <= b
        if cond.op == ">":
            return a > b
        return a >= b
    except TypeError:
        return None


def evaluate(node: Node, facts: Mapping[str, Any]) -> bool | None:
    if isinstance(node, Condition):
        return evaluate_condition(node, facts)
    if isinstance(node, Not):
        inner = evaluate(node.inner, facts)
        return None if inner is None else not inner
    results = [evaluate(item, facts) for item in node.items]
    if isinstance(node, All):
        if any(r is False for r in results):
            return False
        return None if any(r is None for r in results) else True
    if any(r is True for r in results):
        return True
    return None if any(r is None for r in results) else False


def explain(node: Node, facts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each condition of the rule with the account's value and whether it held."""
    return [
        {"condition": c.text, "field": c.field, "value": facts.get(c.field), "holds": evaluate_condition(c, facts)}
        for c in conditions(node)
    ]


def check_fields(node: Node, field_types: Mapping[str, str], where: Callable[[], str]) -> None:
    """Refuse a rule that names an unknown field or compares a field with the wrong kind of value."""
    for c in conditions(node):
        kind = field_types.get(c.field)
        if kind is None:
            known = ", ".join(sorted(field_types))
            raise RuleError(f"{where()}: unknown field {c.field!r} in {c.text!r}. Known fields: {known}")
        if c.op in ("is empty", "is set"):
            continue
        values = c.value if isinstance(c.value, tuple) else (c.value,)
        for v in values:
            ok = {
                "number": isinstance(v, (int, float)) and not isinstance(v, bool),
                "date": isinstance(v, date),
                "bool": isinstance(v, bool),
                "text": True,
            }[kind]
            if not ok:
                raise RuleError(
                    f"{where()}: {c.field!r} is a {kind} field, but {c.text!r} compares it with {v!r}"
                )
        if kind in ("text", "bool") and c.op in ("<", "<=", ">", ">="):
            raise RuleError(f"{where()}: {c.field!r} is a {kind} field and cannot be compared with {c.op!r}")
