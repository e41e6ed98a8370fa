"""The plan's forms, the same in every shell: which command a submitted form calls, with which
arguments, and which form field a refusal is about. A Slack modal and a Teams card hold the same
fields under the same names (goal, goal_date, text, owner, due, kpi, value, on, target, name,
role, department, attitude, needs, last_contact, use_case, notes, f_FORCE and n_FORCE, q_ID,
worked, did_not), so both shells submit them through here and the registry checks them exactly
like the typed command."""
from __future__ import annotations

from typing import Any

PARTS = ("goal", "task", "kpi", "stakeholder", "whitespace", "rival", "forces", "discovery", "review")
FORCES = ("buyer_power", "new_entrants", "substitutes", "supplier_power", "rivalry")

# A refusal's field or error code -> the form field it is shown under (when it is not already a field).
REFUSAL_FIELDS = {"bad_goal": "goal", "unknown_kpi": "kpi", "unknown_task_owner": "owner",
                  "review_incomplete": "worked"}


def _given(values: dict[str, str], *names: str) -> dict[str, str]:
    return {n: values[n] for n in names if values.get(n)}


def plan_form_call(part: str, account: str, values: dict[str, str], close: bool = False) -> tuple[str, dict[str, Any]]:
    """(registry command, its arguments) for one submitted plan form. `values`: field -> text,
    empty fields left out or empty."""
    values = {k: ("" if v is None else str(v)).strip() for k, v in values.items()}
    if part == "goal":
        return "plan_goal", {"account": account, "goal": values.get("goal", ""), "by": values.get("goal_date", "")}
    if part == "task":
        return "task_add", {"account": account, "text": values.get("text", ""), "fields": _given(values, "owner", "due")}
    if part == "kpi":
        return "kpi", {"account": account, "kpi": values.get("kpi", ""), "value": values.get("value") or None,
                       "on": values.get("on") or None, "target": values.get("target") or None}
    if part == "stakeholder":
        return "stakeholder_add", {"account": account, "name": values.get("name", ""),
                                   "fields": _given(values, "role", "department", "attitude", "needs", "last_contact")}
    if part == "whitespace":
        return "whitespace_add", {"account": account, "department": values.get("department", ""),
                                  "use_case": values.get("use_case", "")}
    if part == "rival":
        return "rival_add", {"account": account, "name": values.get("name", ""), "notes": values.get("notes") or None}
    if part == "forces":
        ratings = {f: (values[f"f_{f}"] + " " + values.get(f"n_{f}", "")).strip() for f in FORCES if values.get(f"f_{f}")}
        return "forces", {"account": account, "ratings": ratings}
    if part == "discovery":
        return "plan_answer", {"account": account, "answers": {k[2:]: v for k, v in values.items() if k.startswith("q_")}}
    if part == "review":
        answers = {k[2:]: v for k, v in values.items() if k.startswith("q_")}
        answers |= {f: values.get(f, "") for f in ("worked", "did_not")}
        return "plan_review_save", {"account": account, "answers": answers, "close": close}
    raise ValueError(f"no plan form called {part!r}")


def refused_field(part: str, values: dict[str, str], refusal: dict[str, Any]) -> str | None:
    """The form field a refusal is about: its own `field`, a known error code's field, or the
    form's first field."""
    for key in (refusal.get("field"), refusal.get("error")):
        if not key:
            continue
        if key in values:
            return key
        if key in FORCES:
            return f"f_{key}"
        if key in REFUSAL_FIELDS:
            return REFUSAL_FIELDS[key]
        if f"q_{key}" in values:
            return f"q_{key}"
    return next(iter(values), None)
