"""The method acted on: what the verdicts, flags and tiers change for a rep. A misfit does not
pass the gate stage without a confirmation and gets no Acquire actions (seed 001); a let-go
account calls for its owner's direct decision (seed 000); an at-risk customer says why; each
tier sets its own cadence (seed 004); a frozen renewal is escalated, not nurtured (seed 002)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from playbook.config import Playbook
from playbook.rules import conditions, evaluate_condition

LET_GO_DECISIONS = ("end", "keep", "raised")
# How long a decision silences an account's let-go line: "keep" for the playbook's review_days,
# "raised" (raised with the customer, outcome pending) for a month; "end" for good.
RAISED_DAYS = 30


def needs_gate_confirmation(playbook: Playbook, verdict: str | None, to_stage: str) -> bool:
    """Moving a misfit's deal past the gate stage needs a confirmation with a reason."""
    gate = playbook.method.gate_stage
    if verdict != "misfit" or gate is None:
        return False
    return playbook.stage_index(to_stage) > playbook.stage_index(gate)


def actions_apply(profile: str | None, verdict: str | None) -> bool:
    """A misfit prospect gets no Acquire actions: chasing it is what the checklist warns against."""
    return not (profile == "acquire" and verdict == "misfit")


def action_every_days(playbook: Playbook, profile_id: str, tier: int | None) -> int:
    """Days before a done common action is due again: the tier's cadence, else the profile's."""
    by_tier = playbook.tiers.of(tier).every_days
    if by_tier:
        return by_tier
    profile = playbook.profile(profile_id)
    return profile.every_days if profile else 30


def at_risk_reasons(facts: Mapping[str, Any], playbook: Playbook) -> list[dict[str, Any]]:
    """The conditions of the at-risk rule that hold for this customer (no contact for N days, a
    detractor, a thin margin...), with the account's value."""
    rule = playbook.tiers.at_risk_rule
    if rule is None:
        return []
    out = []
    for c in conditions(rule):
        if c.field == "status":
            continue  # "is a customer" is the rule's scope, not a reason
        if evaluate_condition(c, facts) is True:
            out.append({"field": c.field, "value": facts.get(c.field), "condition": c.text})
    return out


def let_go_silenced(decision: str | None, decided_on: date | None, today: date, playbook: Playbook) -> bool:
    """True while the owner's decision on a let-go account still stands."""
    if decision is None or decided_on is None:
        return False
    if isinstance(decided_on, datetime):
        decided_on = decided_on.date()
    if decision == "end":
        return True
    days = playbook.let_go.review_days if (decision == "keep" and playbook.let_go) else RAISED_DAYS
    return (today - decided_on).days < days
