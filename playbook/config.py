"""The playbook as Gare uses it: what config.toml declares, as plain frozen data (profiles, the
misfit checklist, stages, tiers, teams, schedules, people rules). playbook/loading.py reads the
file into it."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from playbook.rules import Node
from playbook.words import PROFILE_NAMES, fold

LANGUAGES = ("en", "fr")
PROFILE_IDS = ("keep", "acquire", "win_back", "expand")
SEVERITIES = ("blocking", "warning")

# Canonical account fields (the CSV columns) and what the playbook derives from them.
ACCOUNT_FIELDS: dict[str, str] = {
    "name": "text",
    "owner": "text",
    "status": "text",
    "industry": "text",
    "region": "text",
    "sector": "text",
    "annual_revenue": "number",
    "employees": "number",
    "margin_pct": "number",
    "exec_sponsor": "bool",
    "last_contact": "date",
    "lifetime_value": "number",
}
DERIVED_FIELDS: dict[str, str] = {
    "days_since_last_contact": "number",
    "open_deals": "number",
    "open_pipeline": "number",
    "won_deals": "number",
    "conversion_likelihood": "number",
}
TIER_SOURCES = ("fit",)



class PlaybookError(ValueError):
    """The playbook cannot be used. Carries the file, the key and the fix."""

    def __init__(self, path: str, key: str, problem: str):
        self.path, self.key, self.problem = path, key, problem
        super().__init__(f"{path}: [{key}] {problem}")

Localized = dict[str, Any]  # language -> text (or list of texts)

def localized(value: Localized, language: str) -> Any:
    """The text in `language`, else English, else whatever language the admin wrote."""
    if language in value:
        return value[language]
    if "en" in value:
        return value["en"]
    return next(iter(value.values()))

@dataclass(frozen=True)
class Profile:
    id: str
    rule: Node
    rule_text: str
    actions: Localized
    every_days: int = 30  # each common action is due again this long after it was done

    def action_ids(self) -> list[str]:
        """Stable ids of the common actions, by position: "win_back:1", "win_back:2"..."""
        count = max(len(v) for v in self.actions.values())
        return [f"{self.id}:{i + 1}" for i in range(count)]

@dataclass(frozen=True)
class LetGo:
    rule: Node
    rule_text: str
    action: Localized

@dataclass(frozen=True)
class MisfitTrait:
    id: str
    rule: Node
    rule_text: str
    severity: str
    label: Localized
    why: Localized
    who_feels_pain: Localized

@dataclass(frozen=True)
class SuccessBox:
    id: str
    label: Localized
    filled_when: Node | None

@dataclass(frozen=True)
class Stage:
    id: str
    name: Localized
    standard_days: float
    stuck_after_days: float
    skipped_under_days: float
    probability_pct: float

@dataclass(frozen=True)
class TierFactor:
    id: str
    weight: float
    field: str | None
    bands: tuple[tuple[float, float], ...]

@dataclass(frozen=True)
class Tiers:
    tier1_min_score: float
    tier2_min_score: float
    at_risk_penalty: float
    at_risk_rule: Node | None
    at_risk_text: str | None
    factors: tuple[TierFactor, ...]

@dataclass(frozen=True)
class Team:
    """A manager and the reps whose accounts and deals they oversee (owner names)."""
    id: str
    manager: str
    members: tuple[str, ...]

@dataclass(frozen=True)
class Nudges:
    """When the weekly nudges and digests go out, and where."""
    rep_cron: str = "30 8 * * mon"
    manager_cron: str = "0 9 * * mon"
    rep_channel: str = "dm"                     # "dm", or a channel id for every rep
    rep_channels: dict = field(default_factory=dict)  # owner -> channel id
    messages_per_second: float = 1.0            # per channel, as Slack asks

    def channel_for(self, owner: str) -> str:
        for name, channel in self.rep_channels.items():
            if fold(name) == fold(owner):
                return channel
        return self.rep_channel


@dataclass(frozen=True)
class PeopleRules:
    """Who Gare may take a chat user for, and who administers it ([people])."""
    email_domains: tuple[str, ...] = ()     # only e-mails on these domains identify anyone
    admins: tuple[str, ...] = ()            # owner names of the admins (sales ops)
    unlinked_can_read: bool = False         # a chat user nobody linked may read (never change)


@dataclass(frozen=True)
class PlanQuestion:
    """An open question of the plan: discovery (seed 003, step 1) or review (step 5)."""
    id: str
    text: Localized


@dataclass(frozen=True)
class PlanKpi:
    """A success KPI of account plans (seed 003, step 3)."""
    id: str
    name: Localized
    unit: str = "number"        # percent, count, money or number: how values are shown
    better: str = "higher"      # higher or lower: which way is good (churn is better lower)


KPI_UNITS = ("percent", "count", "money", "number")


@dataclass(frozen=True)
class PlanRules:
    """[plans]: the account plan's discovery questions, KPIs and review questions ([plans])."""
    discovery: tuple[PlanQuestion, ...] = ()
    kpis: tuple[PlanKpi, ...] = ()
    review: tuple[PlanQuestion, ...] = ()
    far_below_pct: float = 25.0     # a KPI this far from its target is named in the manager digest
    kpi_task_days: int = 30         # tasks a review makes of KPIs below target are due this long after it
    trend_window: int = 3           # a KPI's trend: its latest value against the oldest of this many

    def kpi(self, kpi_id: str | None) -> PlanKpi | None:
        return next((k for k in self.kpis if k.id == kpi_id), None)


@dataclass(frozen=True)
class Playbook:
    source: str
    language: str
    timezone: str
    currency: str
    field_types: dict[str, str]
    profiles: tuple[Profile, ...]  # in tie-break order
    let_go: LetGo | None
    traits: tuple[MisfitTrait, ...]
    success_boxes: tuple[SuccessBox, ...]
    max_empty_boxes: int
    stages: tuple[Stage, ...]
    tiers: Tiers
    day_count: str = "calendar"                 # or "business": weekends and holidays do not count
    holidays: frozenset = frozenset()
    raw: dict = field(default_factory=dict, repr=False, compare=False)
    teams: tuple[Team, ...] = ()
    nudges: Nudges = field(default_factory=Nudges)
    people: PeopleRules = field(default_factory=PeopleRules)
    plans: PlanRules = field(default_factory=PlanRules)

    def team_of(self, manager: str | None) -> list[str]:
        """The reps a manager oversees (all their teams), empty for anyone else."""
        if not manager:
            return []
        members: list[str] = []
        for team in self.teams:
            if fold(team.manager) == fold(manager):
                members += [m for m in team.members if fold(m) != fold(manager) and m not in members]
        return members

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def _stage_positions(self) -> dict[str, int]:
        return {s.id: i for i, s in enumerate(self.stages)}

    def stage(self, stage_id: str) -> Stage | None:
        i = self._stage_positions.get(stage_id)
        return self.stages[i] if i is not None else None

    def profile(self, profile_id: str) -> Profile | None:
        return next((p for p in self.profiles if p.id == profile_id), None)

    def find_stage(self, text: str) -> Stage | None:
        """A stage by id or by its name in any language, ignoring case and accents."""
        key = fold(text)
        for s in self.stages:
            if key == fold(s.id) or any(key == fold(n) for n in s.name.values()):
                return s
        return None

    def find_profile(self, text: str) -> str | None:
        """A profile id from its id or its name in either language (garder, keep, étendre...)."""
        return PROFILE_NAMES.get(fold(text).replace(" ", "_").replace("-", "_"))

    def stage_index(self, stage_id: str) -> int:
        return self._stage_positions.get(stage_id, -1)


# Reading the file lives in playbook/loading.py; these names are how the rest of Gare calls it.
from playbook.loading import DEFAULT_PLAYBOOK, load, locate, parse  # noqa: E402,F401
