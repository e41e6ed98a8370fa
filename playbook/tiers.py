"""Tiers: which accounts first. A score from fit, potential revenue, conversion likelihood and
long-term value, less a penalty for at-risk customers, cut into tier 1/2/3 by thresholds."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from playbook.config import Playbook
from playbook.rules import evaluate

FIT_POINTS = {"fit": 1.0, "unclear": 0.5, "misfit": 0.0}


@dataclass(frozen=True)
class TierResult:
    tier: int
    score: float
    at_risk: bool
    factors: list[dict[str, Any]]
    overridden: bool = False


def is_at_risk(facts: Mapping[str, Any], playbook: Playbook) -> bool:
    rule = playbook.tiers.at_risk_rule
    return bool(rule is not None and evaluate(rule, facts) is True)


def band_points(value: Any, bands: Iterable[tuple[float, float]]) -> float:
    if value is None or isinstance(value, bool):
        return 0.0
    for threshold, points in bands:  # sorted from the highest threshold down
        if value >= threshold:
            return points
    return 0.0


def score_account(facts: Mapping[str, Any], fit_verdict: str, playbook: Playbook,
                  tier_override: int | None = None) -> TierResult:
    spec = playbook.tiers
    total_weight = sum(f.weight for f in spec.factors)
    factors, score = [], 0.0
    for factor in spec.factors:
        if factor.field is None:  # the "fit" factor
            points, value = FIT_POINTS.get(fit_verdict, 0.0), fit_verdict
        else:
            value = facts.get(factor.field)
            points = band_points(value, factor.bands)
        contribution = 100 * factor.weight * points / total_weight
        score += contribution
        factors.append({"id": factor.id, "value": value, "points": points, "contribution": round(contribution, 1)})
    at_risk = is_at_risk(facts, playbook)
    if at_risk:
        score -= spec.at_risk_penalty
    score = round(max(0.0, min(100.0, score)), 1)
    tier = 1 if score >= spec.tier1_min_score else 2 if score >= spec.tier2_min_score else 3
    if tier_override in (1, 2, 3):
        return TierResult(tier=tier_override, score=score, at_risk=at_risk, factors=factors, overridden=True)
    return TierResult(tier=tier, score=score, at_risk=at_risk, factors=factors)


def pyramid(tiers: Iterable[int]) -> dict[str, Any]:
    """Counts per tier and whether they still make a pyramid (fewer accounts higher up)."""
    counts: dict[int, int] = {}
    for t in tiers:
        counts[t] = counts.get(t, 0) + 1
    return pyramid_of(counts)


def pyramid_of(counts: Mapping[int, int]) -> dict[str, Any]:
    """The same from the number of accounts per tier."""
    counts = {1: 0, 2: 0, 3: 0, **counts}
    return {"counts": counts, "is_pyramid": counts[1] <= counts[2] <= counts[3], "total": sum(counts.values())}
