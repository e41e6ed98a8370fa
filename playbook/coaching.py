"""Coaching patterns: the same stage-time problem repeating for one rep at one stage points to a
skills gap at that stage ("3 of the last 4 deals stuck at Proposal"), a topic for the manager."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from playbook.config import Playbook
from playbook.stage_aging import DealTiming


@dataclass(frozen=True)
class StageOutcome:
    owner: str
    deal: str
    stage: str
    entered_at: datetime
    outcome: str  # stuck | skipped | normal | pending


@dataclass(frozen=True)
class CoachingPattern:
    owner: str
    stage: str
    kind: str            # stuck | skipped
    count: int           # deals with that outcome at that stage among the recent ones
    of: int              # recent deals of the rep that went through the stage
    deals: tuple[str, ...]


def stage_outcomes(owner: str, deal: str, timing: DealTiming, playbook: Playbook) -> list[StageOutcome]:
    """What happened to one deal at each stage it went through (or jumped)."""
    out = []
    jumped = {s["stage"] for s in timing.skipped_stages if s["how"] == "jumped"}
    short = {s["stage"] for s in timing.skipped_stages if s["how"] == "too_short"}
    for visit in timing.history:
        spec = playbook.stage(visit["stage"])
        if spec is None:
            continue
        if visit.get("estimated") and visit["days"] <= spec.stuck_after_days:
            continue  # the stay began before Gare knew of it: its length is unknown
        if visit["days"] > spec.stuck_after_days:
            outcome = "stuck"
        elif visit["stage"] in short and visit["left_at"] is not None and visit["days"] < spec.skipped_under_days:
            outcome = "skipped"
        elif visit["left_at"] is None:
            outcome = "pending"  # still at the stage and within its time: no verdict yet
        else:
            outcome = "normal"
        out.append(StageOutcome(owner, deal, visit["stage"], visit["entered_at"], outcome))
    if jumped and timing.history:
        # A jumped stage has no visit; date it with the move that jumped it.
        for h_prev, h_next in zip(timing.history, timing.history[1:]):
            a, b = playbook.stage_index(h_prev["stage"]), playbook.stage_index(h_next["stage"])
            for stage in playbook.stages[a + 1:b] if a >= 0 and b > a + 1 else ():
                if stage.id in jumped:
                    out.append(StageOutcome(owner, deal, stage.id, h_next["entered_at"], "skipped"))
    return out


def coaching_patterns(outcomes: Iterable[StageOutcome], *, recent: int = 4, min_count: int = 3) -> list[CoachingPattern]:
    """For each rep and stage, look at the `recent` latest deals through that stage; `min_count`
    or more with the same problem is a pattern."""
    by_rep_stage: dict[tuple[str, str], dict[str, StageOutcome]] = defaultdict(dict)
    for o in sorted(outcomes, key=lambda o: o.entered_at):
        if o.outcome == "pending":
            continue
        by_rep_stage[(o.owner, o.stage)][o.deal] = o  # a deal counts once per stage: its latest stay
    patterns = []
    for (owner, stage), per_deal in by_rep_stage.items():
        latest = sorted(per_deal.values(), key=lambda o: o.entered_at)[-recent:]
        for kind in ("stuck", "skipped"):
            hits = [o.deal for o in latest if o.outcome == kind]
            if len(hits) >= min_count:
                patterns.append(CoachingPattern(owner, stage, kind, len(hits), len(latest), tuple(hits)))
    return sorted(patterns, key=lambda p: (-p.count / p.of, -p.count, p.owner, p.stage))
