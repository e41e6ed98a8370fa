"""The account plan of seed 003 as pure rules: what makes a goal valid (specific, measurable,
dated), how a KPI is read in chat and how it trends, where a plan stands (on track, tasks overdue,
review due), and what a review carries into the next plan (open tasks, and a task for every KPI
below its target). No database, no clock: the caller passes `today`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable, Sequence

from playbook.config import PlanKpi
from playbook.words import GOAL_DATE_WORDS, MONTH_WORDS, fold, name_key

FORCES = ("buyer_power", "new_entrants", "substitutes", "supplier_power", "rivalry")
ATTITUDES = ("champion", "neutral", "blocker")
OWNER_KINDS = ("internal", "client", "vendor")
# Where a plan stands, worst first: its date passed without a review; tasks are late; it has no
# goal yet; on track.
PLAN_STATES = ("review_due", "tasks_overdue", "no_goal", "on_track")
GOAL_MIN_WORDS = 3


class PlanProblem(ValueError):
    """Input the plan rules cannot use; `code` names what is wrong (the caller words it)."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code, self.params = code, params


# --- dates as people write them -----------------------------------------------------------------

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NUMERIC = re.compile(r"^(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2}|\d{4}))?$")
_DAY_MONTH = re.compile(r"^(\d{1,2})(?:er|st|nd|rd|th)?\s+([a-z]+)\.?(?:,?\s+(\d{4}))?$")
_MONTH_DAY = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?$")


def read_day(raw: str | None, today: date) -> date:
    """'2026-06-30', '30/06/2026', '30/06', '30 June', 'June 30, 2026', '1er juin'. Without a year,
    the next such day from today on. Raises PlanProblem("bad_day") for anything else."""
    text = " ".join(fold(raw).replace(",", " ").split())
    year = month = day = None
    if m := _ISO.match(text):
        year, month, day = (int(x) for x in m.groups())
    elif m := _NUMERIC.match(text):  # day first, as in French and British writing
        day, month = int(m.group(1)), int(m.group(2))
        year = int(m.group(3)) if m.group(3) else None
        if year is not None and year < 100:
            year += 2000
    elif (m := _DAY_MONTH.match(text)) and m.group(2) in MONTH_WORDS:
        day, month = int(m.group(1)), MONTH_WORDS[m.group(2)]
        year = int(m.group(3)) if m.group(3) else None
    elif (m := _MONTH_DAY.match(text)) and m.group(1) in MONTH_WORDS:
        month, day = MONTH_WORDS[m.group(1)], int(m.group(2))
        year = int(m.group(3)) if m.group(3) else None
    else:
        raise PlanProblem("bad_day", value=raw)
    try:
        if year is None:
            found = date(today.year, month, day)
            return found if found >= today else date(today.year + 1, month, day)
        return date(year, month, day)
    except ValueError:
        raise PlanProblem("bad_day", value=raw) from None


# --- the goal --------------------------------------------------------------------------------------

# A measurable target: a number, with its unit when it has one ("5%", "€50k", "20 new users").
_TARGET = re.compile(r"(?<![\w])([-+]?[€$£]?\s?\d+(?:[.,\s]\d+)*\s?(?:%|pts?|points?|k€|k|m€|m|€|\$|£|x)?)(?![\w])",
                     re.I)


def measurable_target(text: str | None) -> str | None:
    """The goal's measurable part: its first number with its unit; None when it has none."""
    m = _TARGET.search(text or "")
    return " ".join(m.group(1).split()) if m else None


def split_goal(text: str, today: date) -> tuple[str, date | None, str | None]:
    """`"5% more subscribers" by 30 June` -> ('5% more subscribers', 2026-06-30, None). The date
    follows a word such as by, before, d'ici (playbook/words.py); without one the goal has no
    date. The third item is the date text when it could not be read."""
    text = text.strip()
    quotes = {'"': '"', "«": "»", "“": "”", "'": "'"}
    if text[:1] in quotes:
        end = text.find(quotes[text[0]], 1)
        if end > 0:
            goal, rest = text[1:end].strip(), text[end + 1:].strip()
            if not rest:
                return goal, None, None
            words = fold(rest).split()
            for n in (2, 1):
                if len(words) > n and " ".join(words[:n]) in GOAL_DATE_WORDS:
                    raw = " ".join(rest.split()[n:])
                    try:
                        return goal, read_day(raw, today), None
                    except PlanProblem:
                        return goal, None, raw
            try:
                return goal, read_day(rest, today), None
            except PlanProblem:
                return goal, None, rest
    words = text.split()
    folded = [fold(w) for w in words]
    # The last date word whose remainder reads as a date.
    for i in range(len(words) - 1, 0, -1):
        for n in (2, 1):
            if i + n > len(words) or " ".join(folded[i:i + n]) not in GOAL_DATE_WORDS:
                continue
            raw = " ".join(words[i + n:])
            if not raw:
                continue
            try:
                return " ".join(words[:i]), read_day(raw, today), None
            except PlanProblem:
                continue
    # A date word followed by something that is not a date: say so rather than guess.
    for i in range(len(words) - 1, 0, -1):
        if folded[i] in ("by", "d'ici", "avant", "before"):
            return " ".join(words[:i]), None, " ".join(words[i + 1:])
    return text, None, None


def goal_problems(text: str | None, on: date | None, today: date) -> list[str]:
    """Why a goal is not yet a goal (empty when it is): the seed wants one specific target that
    can be measured and reached by a date. 'vague' (fewer than three words), 'target' (no number
    to measure), 'date' (no date), 'past' (a date that is not after today)."""
    problems = []
    words = [w for w in re.split(r"\s+", (text or "").strip()) if w]
    if len(words) < GOAL_MIN_WORDS:
        problems.append("vague")
    if measurable_target(text) is None:
        problems.append("target")
    if on is None:
        problems.append("date")
    elif on <= today:
        problems.append("past")
    return problems


# --- KPIs ----------------------------------------------------------------------------------------

def _kpi_keys(kpi: PlanKpi) -> set[str]:
    keys = {name_key(kpi.id)} | {name_key(n) for n in kpi.name.values()}
    return keys | {k.replace(" ", "") for k in keys}


def find_kpi(text: str, kpis: Sequence[PlanKpi]) -> tuple[PlanKpi | None, list[PlanKpi]]:
    """A KPI by id or name in any language, as an account name is found: case, accents, hyphens
    and underscores ignored, a unique beginning enough. (the KPI, []) or (None, the candidates
    when the beginning fits several)."""
    key = name_key(text)
    if not key:
        return None, []
    for kpi in kpis:
        if key in _kpi_keys(kpi) or key.replace(" ", "") in _kpi_keys(kpi):
            return kpi, []
    compact = key.replace(" ", "")
    by_id = [k for k in kpis if name_key(k.id).startswith(key) or k.id.replace("_", "").startswith(compact)]
    if len(by_id) == 1 and len(key) >= 2:  # the id's beginning first: "email" is the e-mail response rate
        return by_id[0], []
    hits = [k for k in kpis if any(c.startswith(key) or c.startswith(compact) for c in _kpi_keys(k))]
    if len(hits) == 1 and len(key) >= 2:
        return hits[0], []
    if not hits and len(key) >= 3:  # a word of the name: "attrition" is the taux d'attrition
        words = [k for k in kpis if any(w.startswith(key) for c in _kpi_keys(k) for w in c.split())]
        if len(words) == 1:
            return words[0], []
        hits = words
    return None, hits


def kpi_trend(values: Sequence[tuple[date, float]], window: int = 3, flat_pct: float = 1.0) -> str | None:
    """'up', 'down' or 'flat': the latest value against the oldest of the last `window` values
    (flat within `flat_pct` % of it); None with fewer than two values."""
    points = sorted(values, key=lambda v: v[0])[-window:]
    if len(points) < 2:
        return None
    first, last = points[0][1], points[-1][1]
    scale = max(abs(first), abs(last), 1e-9)
    if abs(last - first) <= scale * flat_pct / 100:
        return "flat"
    return "up" if last > first else "down"


def improving(trend: str | None, better: str) -> bool | None:
    """Whether a trend goes the good way for this KPI (churn going down improves)."""
    if trend in (None, "flat"):
        return None
    return (trend == "up") == (better == "higher")


def kpi_status(target: float | None, latest: float | None, better: str, far_below_pct: float) -> str | None:
    """'met', 'below' or 'far_below' (at least `far_below_pct` % short of the target, on the bad
    side: above it for a KPI that is better lower); 'unmeasured' with a target and no value;
    None without a target."""
    if target is None:
        return None
    if latest is None:
        return "unmeasured"
    shortfall = (target - latest) if better == "higher" else (latest - target)
    if shortfall <= 0:
        return "met"
    if target == 0 or shortfall / abs(target) * 100 >= far_below_pct:
        return "far_below"
    return "below"


# --- where a plan stands -----------------------------------------------------------------------------

def plan_state(goal_date: date | None, today: date, *, overdue_tasks: int = 0, has_goal: bool = True) -> str:
    """'review_due' once the plan's date passed (it waits for its review); 'tasks_overdue' when
    an open task is past its due date; 'no_goal' while the plan has no goal; else 'on_track'."""
    if goal_date is not None and goal_date < today:
        return "review_due"
    if overdue_tasks:
        return "tasks_overdue"
    if not has_goal or goal_date is None:
        return "no_goal"
    return "on_track"


def overdue(due_dates: Iterable[date | None], today: date) -> int:
    """How many of these open tasks' due dates are past."""
    return sum(1 for d in due_dates if d is not None and d < today)


# --- the review and what it carries into the next plan ----------------------------------------------

@dataclass(frozen=True)
class Task:
    """A task as the rules see it (the store keeps more)."""
    number: int
    text: str | None
    owner_kind: str
    owner_name: str
    due: date | None
    done: bool = False
    kpi_id: str | None = None
    kpi_target: float | None = None
    kpi_latest: float | None = None


@dataclass(frozen=True)
class KpiResult:
    """A KPI at the review: its target, its latest value and how it stands."""
    kpi_id: str
    target: float | None
    latest: float | None
    status: str | None


@dataclass(frozen=True)
class NewTask:
    """A task of the next plan: carried over (carried_from: its number in the reviewed plan), or
    made of a KPI below target."""
    text: str | None
    owner_kind: str
    owner_name: str
    due: date
    kpi_id: str | None = None
    kpi_target: float | None = None
    kpi_latest: float | None = None
    carried_from: int | None = None


def carry_over(tasks: Sequence[Task], kpis: Sequence[KpiResult], *, today: date, owner: str,
               kpi_task_days: int) -> list[NewTask]:
    """What the next plan starts with (seed 003, step 5): every open task, as it was; then, for
    every KPI below its target (or never measured), a task of the account's owner to bring it
    there, due `kpi_task_days` after the review. A KPI whose task is already carried gets no
    second one."""
    out = [NewTask(t.text, t.owner_kind, t.owner_name, t.due or today, t.kpi_id, t.kpi_target, t.kpi_latest,
                   carried_from=t.number) for t in tasks if not t.done]
    carried = {t.kpi_id for t in out if t.kpi_id}
    due = today + timedelta(days=kpi_task_days)
    for k in kpis:
        if k.status in ("below", "far_below", "unmeasured") and k.kpi_id not in carried:
            out.append(NewTask(None, "internal", owner, due, k.kpi_id, k.target, k.latest))
    return out


def days_left(goal_date: date | None, today: date) -> int | None:
    return None if goal_date is None else (goal_date - today).days
