"""Frozen-deal indicators: pipeline health judged on time, not amounts. For each deal,
(actual time at stage - standard time at stage): too long means stuck, too short means a
step was skipped ("cutting across the field").

When the CRM never said when a deal entered its stage (the stay began before Gare knew of it),
the time at stage is only known from below. The deal is then judged on the time since it was
created: open longer than the standard time of every stage up to its current one (with that
stage's tolerance), it is certainly frozen somewhere, and is flagged so, marked "estimated"."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, TypeVar

from playbook.config import Playbook

STATES = ("on_track", "stuck", "skipped")
DAY = 86400.0


@dataclass(frozen=True)
class Visit:
    stage: str
    entered_at: datetime
    left_at: datetime | None = None
    estimated: bool = False  # entered_at is when Gare learnt of the stay; it began before


@dataclass(frozen=True)
class DealTiming:
    stage: str
    days_at_stage: float
    standard_days: float | None
    indicator: float | None          # days_at_stage - standard_days
    state: str                       # on_track | stuck | skipped
    status: str                      # the deal's: open, won, lost or nurture
    entered_at: datetime | None
    skipped_stages: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    estimated: bool = False           # no stage-entry date: days_at_stage is a lower bound
    open_days: float | None = None    # estimated only: days since the deal was created
    window_days: float | None = None  # estimated only: what open_days is judged against


def elapsed_days(start: datetime, end: datetime, playbook: Playbook) -> float:
    """Days between two moments: calendar days (to a tenth), or whole business days when the
    playbook counts them (weekends and the playbook's holidays do not count)."""
    if playbook.day_count != "business":
        return max(0.0, (end - start).total_seconds() / DAY)
    tz = playbook.tz
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    if last <= first:
        return 0.0
    days, day = 0, first
    while day < last:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in playbook.holidays:
            days += 1
    return float(days)


def deal_timing(stage: str, status: str, visits: Iterable[Visit], now: datetime, playbook: Playbook,
                kind: str | None = None, opened_at: datetime | None = None) -> DealTiming:
    """Time at the current stage against the standard for this kind of deal, and the stages cut
    short or jumped over in its history. `opened_at`: when the deal was created, which judges it
    when its stage-entry date is unknown."""
    visits = sorted(visits, key=lambda v: v.entered_at)
    current = next((v for v in reversed(visits) if v.stage == stage), None)
    entered = current.entered_at if current else None
    end = current.left_at if (current and current.left_at and status != "open") else now
    days_at = round(elapsed_days(entered, end, playbook), 1) if entered else 0.0
    standard = playbook.stage_for(stage, kind)
    indicator = round(days_at - standard.standard_days, 1) if standard else None

    skipped: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    for i, visit in enumerate(visits):
        spec = playbook.stage_for(visit.stage, kind)
        spent = round(elapsed_days(visit.entered_at, visit.left_at or now, playbook), 1)
        history.append({"stage": visit.stage, "entered_at": visit.entered_at, "left_at": visit.left_at,
                        "days": spent, "standard_days": spec.standard_days if spec else None,
                        "stuck_after_days": spec.stuck_after_days if spec else None,
                        "skipped_under_days": spec.skipped_under_days if spec else None,
                        "estimated": visit.estimated})
        # A stage left well before its standard time was cut short (unless the stay began
        # before Gare knew of it: then its length is unknown).
        if visit.left_at is not None and spec and spent < spec.skipped_under_days and not visit.estimated:
            skipped.append({"stage": visit.stage, "days": spent, "standard_days": spec.standard_days,
                            "how": "too_short", "at": visit.left_at})
        # A forward move over stages that were never entered jumps them altogether.
        if i + 1 < len(visits):
            a, b = playbook.stage_index(visit.stage), playbook.stage_index(visits[i + 1].stage)
            if a >= 0 and b > a + 1:
                for jumped in playbook.stages[a + 1:b]:
                    skipped.append({"stage": jumped.id, "days": 0.0, "standard_days": jumped.standard_days,
                                    "how": "jumped", "at": visits[i + 1].entered_at})

    estimated = bool(current and current.estimated and status == "open")
    open_days = window = None
    stuck = status == "open" and standard is not None and days_at > standard.stuck_after_days
    if estimated:
        window = playbook.stuck_window(stage, kind)
        open_days = round(elapsed_days(opened_at, now, playbook), 1) if opened_at else None
        if not stuck and window is not None and open_days is not None and open_days > window:
            stuck = True
            indicator = round(open_days - window, 1)  # overdue on the whole pipeline so far
        elif not stuck:
            indicator = None  # unknown: the stay may have begun long before
    if stuck:
        state = "stuck"
    elif skipped:
        state = "skipped"
    else:
        state = "on_track"
    return DealTiming(stage=stage, days_at_stage=days_at, standard_days=standard.standard_days if standard else None,
                      indicator=indicator, state=state, status=status, entered_at=entered, skipped_stages=skipped,
                      history=history, estimated=estimated, open_days=open_days, window_days=window)


T = TypeVar("T")


def frozen_deals(timed: Iterable[tuple[T, DealTiming]]) -> list[tuple[T, DealTiming]]:
    """Open deals stuck at their stage, longest overdue first: candidates for marketing nurture."""
    stuck = [(d, t) for d, t in timed if t.status == "open" and t.state == "stuck"]
    return sorted(stuck, key=lambda dt: -(dt[1].indicator or 0))


def skipped_deals(timed: Iterable[tuple[T, DealTiming]]) -> list[tuple[T, DealTiming]]:
    """Open deals whose history shows a stage cut short or jumped over."""
    return [(d, t) for d, t in timed if t.status == "open" and t.skipped_stages]


@dataclass(frozen=True)
class StuckLimit:
    """Where `deals frozen` draws the line for one stage and one kind of deal, as moments a
    database can compare: a stay begun before `stay_before` has lasted longer than the stage's
    limit (in the days deal_timing counts); a stay whose start is estimated is also stuck when
    the deal was created before `created_before` (open longer than the pipeline's window).
    `kind` None stands for every kind without standard days of its own."""
    stage: str
    kind: str | None
    stay_before: datetime
    created_before: datetime | None
    standard_days: float
    window_days: float | None


def _over(days: float, threshold: float) -> bool:
    return round(days, 1) > threshold


def began_before(threshold: float, now: datetime, playbook: Playbook) -> datetime:
    """The moment C such that, at `now`, a stay begun before C has lasted more than `threshold`
    days as deal_timing counts them (rounded to a tenth; whole business days when the playbook
    counts those), and one begun at C or later has not."""
    if playbook.day_count != "business":
        # Calendar days grow with the stay's length: the shortest length over the threshold, to
        # the microsecond (what both databases store), by bisection on exactly deal_timing's test.
        lo, hi = 0, int((max(threshold, 0.0) + 1) * DAY * 1_000_000)
        if _over(0.0, threshold):
            return now + timedelta(microseconds=1)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _over(mid / 1_000_000 / DAY, threshold):
                hi = mid
            else:
                lo = mid
        return now - timedelta(microseconds=hi) + timedelta(microseconds=1)
    # Business days depend only on the day the stay began: walk back from today, counting the
    # days that count, to the last day a stay could begin and already be over the threshold.
    tz = playbook.tz
    day = now.astimezone(tz).date()
    counted = 0
    while not _over(float(counted), threshold):
        if day.weekday() < 5 and day not in playbook.holidays:
            counted += 1
        day -= timedelta(days=1)
    following = day + timedelta(days=1)
    return datetime(following.year, following.month, following.day, tzinfo=tz).astimezone(now.tzinfo)


def stuck_limits(playbook: Playbook, now: datetime) -> tuple[tuple[StuckLimit, ...], tuple[str, ...]]:
    """The limits of every stage for each kind with standard days of its own and for the others
    (kind None), and those kinds' ids."""
    own_kinds = tuple(sorted({k.id for k in playbook.deal_kinds if k.standard_days}))
    cutoffs: dict[float, datetime] = {}

    def cutoff(days: float) -> datetime:
        if days not in cutoffs:
            cutoffs[days] = began_before(days, now, playbook)
        return cutoffs[days]

    limits = []
    for stage in playbook.stages:
        for kind in (None, *own_kinds):
            spec = playbook.stage_for(stage.id, kind)
            window = playbook.stuck_window(stage.id, kind)
            limits.append(StuckLimit(stage=stage.id, kind=kind, stay_before=cutoff(spec.stuck_after_days),
                                     created_before=cutoff(window) if window is not None else None,
                                     standard_days=spec.standard_days, window_days=window))
    return tuple(limits), own_kinds


def overdue_by(began: datetime, standard: float, now: datetime, playbook: Playbook) -> float:
    """deal_timing's indicator for a stay (or, judged by its window, a deal) begun at `began`:
    its days so far, to a tenth, less the standard days it is judged against."""
    return round(round(elapsed_days(began, now, playbook), 1) - standard, 1)
