"""GARE / KARE profiles: which of Garder, Acquérir, Reconquérir, Étendre an account belongs to,
the rule that decided it, and the explicit let-go recommendation for accounts to drop."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from playbook.config import Playbook
from playbook.rules import evaluate, explain


@dataclass(frozen=True)
class ProfileDecision:
    profile: str | None          # keep | acquire | win_back | expand, or None
    decided_by: str              # "override", "rule", "let_go" or "none"
    rule: str | None = None      # the rule text that decided it
    conditions: list[dict[str, Any]] = field(default_factory=list)
    also_matched: list[str] = field(default_factory=list)
    let_go: bool = False
    let_go_rule: str | None = None
    let_go_conditions: list[dict[str, Any]] = field(default_factory=list)
    override_by: str | None = None
    override_at: datetime | None = None


def matching_profiles(facts: Mapping[str, Any], playbook: Playbook) -> list[str]:
    return [p.id for p in playbook.profiles if evaluate(p.rule, facts) is True]


def decide_profile(facts: Mapping[str, Any], playbook: Playbook, *, override: str | None = None,
                   override_by: str | None = None, override_at: datetime | None = None) -> ProfileDecision:
    """One profile per account: a manual override wins; an account to let go gets none;
    otherwise the first matching profile in the playbook's declared order."""
    let_go = bool(playbook.let_go and evaluate(playbook.let_go.rule, facts) is True)
    let_go_info = {}
    if let_go:
        let_go_info = dict(let_go=True, let_go_rule=playbook.let_go.rule_text,
                           let_go_conditions=explain(playbook.let_go.rule, facts))
    matches = matching_profiles(facts, playbook)
    if override:
        return ProfileDecision(profile=override, decided_by="override", also_matched=matches,
                               override_by=override_by, override_at=override_at, **let_go_info)
    if let_go:
        return ProfileDecision(profile=None, decided_by="let_go", also_matched=matches, **let_go_info)
    if not matches:
        return ProfileDecision(profile=None, decided_by="none")
    winner = playbook.profile(matches[0])
    return ProfileDecision(profile=winner.id, decided_by="rule", rule=winner.rule_text,
                           conditions=explain(winner.rule, facts), also_matched=matches[1:])


def common_actions(profile_id: str | None, playbook: Playbook, language: str) -> list[str]:
    from playbook.config import localized

    profile = playbook.profile(profile_id) if profile_id else None
    return list(localized(profile.actions, language)) if profile else []
