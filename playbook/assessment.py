"""Everything the playbook says about one account, composed from the pure rules: facts,
GARE profile, let-go flag, fit against the misfit checklist, tier, and each deal's stage time."""
from __future__ import annotations

from collections import abc
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping, Sequence

from playbook.config import Playbook
from playbook.facts import account_facts
from playbook.misfit import FitAssessment, assess_fit
from playbook.profiles import ProfileDecision, decide_profile
from playbook.stage_aging import DealTiming, Visit, deal_timing
from playbook.tiers import TierResult, score_account


@dataclass(frozen=True)
class AccountAssessment:
    facts: dict[str, Any]
    profile: ProfileDecision
    fit: FitAssessment
    tier: TierResult


def assess_account(account: Mapping[str, Any], deals: Sequence[Mapping[str, Any]], today: date,
                   playbook: Playbook, answers: Mapping[tuple[str, str], bool] | None = None,
                   language: str = "en") -> AccountAssessment:
    facts = account_facts(account, deals, today, playbook)
    profile = decide_profile(facts, playbook, override=account.get("profile_override"),
                             override_by=account.get("profile_override_by"),
                             override_at=account.get("profile_override_at"))
    fit = assess_fit(facts, playbook, answers, language)
    tier = score_account(facts, fit.verdict, playbook, account.get("tier_override"))
    return AccountAssessment(facts=facts, profile=profile, fit=fit, tier=tier)


def time_deal(deal: Mapping[str, Any], visits: Sequence[Any], now: datetime, playbook: Playbook) -> DealTiming:
    """Stage time of one deal from its stored visits (objects or mappings with stage/entered_at/
    left_at and, optionally, estimated), against the standard of its kind; the deal's created_at
    judges it when its stage-entry date is unknown."""
    plain = [Visit(v.get("stage"), v.get("entered_at"), v.get("left_at"), bool(v.get("estimated", False)))
             if isinstance(v, abc.Mapping) else
             Visit(getattr(v, "stage", None), getattr(v, "entered_at", None), getattr(v, "left_at", None),
                   bool(getattr(v, "estimated", False)))
             for v in visits]
    return deal_timing(deal["stage"], deal["status"], plain, now, playbook, deal.get("kind"),
                       opened_at=deal.get("created_at"))
