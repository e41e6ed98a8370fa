"""Coaching patterns: the same stage-time problem repeating for one rep at one stage points to a
skills gap at that stage, a topic for the manager. What is true now counts too: "david: 3 of the
last 4 finished stays at Proposal ran over, and 5 open deals are over now"."""
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
    outcome: str  # stuck | skipped | normal (finished stays); open_stuck | pending (the current one)


@dataclass(frozen=True)
class CoachingPattern:
    owner: str
    stage: str
    kind: str            # stuck | skipped
    count: int           # finished stays with that outcome among the recent ones
    of: int              # recent finished stays of the rep at the stage
    deals: tuple[str, ...]
    open_over: int = 0   # open deals of the rep over the stage's time now (stuck only)
    open_deals: tuple[str, ...] = ()


def stage_outcomes(owner: str, deal: str, timing: DealTiming, playbook: Playbook) -> list[StageOutcome]:
    """What happened to one deal at each stage it went through (or jumped)."""
    out = []
    jumped = {s["stage"] for s in timing.skipped_stages if s["how"] == "jumped"}
    short = {s["stage"] for s in timing.skipped_stages if s["how"] == "too_short"}
    for visit in timing.history:
        if visit.get("stuck_after_days") is None:
            continue  # not a stage of the pipeline (nurture, a stage the playbook dropped)
        if visit.get("estimated") and visit["days"] <= visit["stuck_after_days"]:
            continue  # the stay began before Gare knew of it: its length is unknown
        if visit["left_at"] is None:
            # Still there: over its time now, or no verdict yet.
            outcome = "open_stuck" if visit["days"] > visit["stuck_after_days"] else "pending"
        elif visit["days"] > visit["stuck_after_days"]:
            outcome = "stuck"
        elif visit["stage"] in short and visit["days"] < visit["skipped_under_days"]:
            outcome = "skipped"
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


def coaching_patterns(outcomes: Iterable[StageOutcome], *, recent: int = 4,
                      min_count: int = 3) -> list[CoachingPattern]:
    """For each rep and stage, the `recent` latest finished stays (one per deal, its latest):
    `min_count` or more with the same problem is a pattern; so are `min_count` open deals over
    the stage's time now. Both counts are given, so the line says what is true now."""
    finished: dict[tuple[str, str], dict[str, StageOutcome]] = defaultdict(dict)
    open_over: dict[tuple[str, str], list[str]] = defaultdict(list)
    for o in sorted(outcomes, key=lambda o: o.entered_at):
        if o.outcome == "open_stuck":
            open_over[(o.owner, o.stage)].append(o.deal)
        elif o.outcome != "pending":
            finished[(o.owner, o.stage)][o.deal] = o
    patterns = []
    for key in sorted(set(finished) | set(open_over)):
        owner, stage = key
        latest = sorted(finished.get(key, {}).values(), key=lambda o: o.entered_at)[-recent:]
        for kind in ("stuck", "skipped"):
            hits = [o.deal for o in latest if o.outcome == kind]
            now_over = open_over.get(key, []) if kind == "stuck" else []
            if len(hits) >= min_count or len(now_over) >= min_count:
                patterns.append(CoachingPattern(owner, stage, kind, len(hits), len(latest), tuple(hits),
                                                len(now_over), tuple(now_over)))
    return sorted(patterns, key=pattern_order)


def pattern_order(p: CoachingPattern) -> tuple:
    """Patterns the most telling first: the share of recent stays with the problem and the open
    deals over now, then the count, then by rep and stage (one team's from several reps' too)."""
    return (-(p.count / p.of if p.of else 0) - p.open_over, -p.count, p.owner, p.stage)
