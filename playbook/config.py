"""The playbook as Gare uses it: what config.toml declares, as plain frozen data (profiles, the
misfit checklist, stages, tiers, teams, schedules, people rules). playbook/loading.py reads the
file into it."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from playbook.rules import Node
from playbook.words import DEAL_KIND_OF, PROFILE_NAMES, fold, name_key

LANGUAGES = ("en", "fr")
PLATFORMS = ("slack", "teams")  # the chat platforms the weekly messages can go out on
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
    review_days: int = 90   # a decision to keep the account silences its let-go line this long

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
    aliases: tuple[str, ...] = ()  # what the CRM calls this stage ("Proposal/Price Quote", "contractsent")

@dataclass(frozen=True)
class TierFactor:
    id: str
    weight: float
    field: str | None
    bands: tuple[tuple[float, float], ...]

@dataclass(frozen=True)
class TierTreatment:
    """What a tier changes (seed 004: each tier gets its own treatment)."""
    every_days: int | None = None   # cadence of the profile's common actions, overriding the profile's
    frozen: str | None = None       # "escalate": its frozen deals go to the manager; "nurture"; None: the kind decides

@dataclass(frozen=True)
class Tiers:
    tier1_min_score: float
    tier2_min_score: float
    at_risk_penalty: float
    at_risk_rule: Node | None
    at_risk_text: str | None
    factors: tuple[TierFactor, ...]
    treatment: dict = field(default_factory=dict)  # tier (1, 2, 3) -> TierTreatment

    def of(self, tier: int | None) -> TierTreatment:
        return self.treatment.get(tier) or TierTreatment()

@dataclass(frozen=True)
class DealKind:
    """New business, renewal or expansion: its own standard days per stage and its own answer to
    a frozen deal (a stalled renewal needs escalation, not nurture)."""
    id: str
    name: Localized
    frozen: str = "nurture"                      # "nurture" or "escalate" (to the manager)
    standard_days: dict = field(default_factory=dict)  # stage id -> standard days for this kind
    advice: Localized | None = None              # what the rep reads next to a frozen deal of this kind

@dataclass(frozen=True)
class Method:
    """Knobs of the method beyond profiles, checklist, stages and tiers."""
    gate_stage: str | None = "qualification"  # a misfit's deal moved past it asks for confirmation
    nurture_channel: str | None = None         # where marketing hears of each deal handed to nurture
    nurture_reason_required: bool = True
    coaching_window: int = 4                   # the rep's latest finished stays at a stage looked at
    coaching_min_repeats: int = 3              # how many of them (or of open deals over now) make a pattern

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
    platform: str = "slack"                     # where someone reachable on both gets them

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
class MicrosoftTeams:
    """The Microsoft Teams tenants Gare serves (`[teams] tenants`): a conversation of any other
    tenant is refused, even with a valid Bot Framework token."""
    tenants: tuple[str, ...] = ()

@dataclass(frozen=True)
class ImportRules:
    """[import]: how CRM files are read when the file itself cannot say."""
    date_order: str | None = None   # "mdy" or "dmy", for files whose dates are all ambiguous

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
    deal_kinds: tuple[DealKind, ...] = ()
    method: Method = field(default_factory=Method)
    stuck_tolerance_pct: float = 50
    skipped_tolerance_pct: float = 70
    msteams: MicrosoftTeams = field(default_factory=MicrosoftTeams)
    rates: dict = field(default_factory=dict)  # ISO code -> value of one unit in `currency` ([currency] rates)
    imports: ImportRules = field(default_factory=ImportRules)
    plans: PlanRules = field(default_factory=PlanRules)

    @cached_property
    def version(self) -> str:
        """A short digest of everything the playbook says: stored assessments made under
        another version are made again."""
        import hashlib
        import json

        text = json.dumps(self.raw, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

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

    @cached_property
    def _stage_keys(self) -> dict[str, Stage]:
        keys: dict[str, Stage] = {}
        for s in self.stages:
            for word in (s.id, *s.name.values(), *s.aliases):
                keys.setdefault(name_key(word), s)
        return keys

    def find_stage(self, text: str) -> Stage | None:
        """A stage by id, by its name in any language or by one of its aliases, ignoring case,
        accents and punctuation ('proposal/price quote' finds the stage aliased 'Proposal/Price Quote')."""
        return self._stage_keys.get(name_key(text))

    def nearest_stage(self, text: str) -> Stage:
        """The stage whose id, names or aliases look most like `text`: what an unknown CRM stage
        probably means, for the report's suggestion."""
        import difflib

        key = name_key(text)
        scored = [(difflib.SequenceMatcher(None, key, k).ratio(), -self.stage_index(s.id), s)
                  for k, s in self._stage_keys.items()]
        return max(scored, key=lambda x: (x[0], x[1]))[2]

    def stuck_window(self, stage_id: str, kind: str | None = None) -> float | None:
        """Days a deal may have been open and still be on time at `stage_id`: the standard time of
        every stage before it, plus this stage's own limit before it counts as stuck (the
        standard times of the deal's kind)."""
        i = self.stage_index(stage_id)
        if i < 0:
            return None
        return (sum(self.stage_for(s.id, kind).standard_days for s in self.stages[:i])
                + self.stage_for(self.stages[i].id, kind).stuck_after_days)

    def in_currency(self, amount: float | None, currency: str | None) -> float | None:
        """An amount in the playbook's currency, or None when no rate says how ([currency] rates)."""
        if amount is None:
            return None
        code = (currency or self.currency).upper()
        if code == self.currency:
            return amount
        rate = self.rates.get(code)
        return amount * rate if rate is not None else None

    def find_profile(self, text: str) -> str | None:
        """A profile id from its id or its name in either language (garder, keep, étendre...)."""
        return PROFILE_NAMES.get(fold(text).replace(" ", "_").replace("-", "_"))

    def stage_index(self, stage_id: str) -> int:
        return self._stage_positions.get(stage_id, -1)

    def deal_kind(self, kind_id: str | None) -> DealKind | None:
        return self._deal_kinds_by_id.get(kind_id)

    @cached_property
    def _deal_kinds_by_id(self) -> dict:
        # Asked once per deal shown (a list of frozen deals asks it tens of thousands of times).
        out: dict = {}
        for kind in self.deal_kinds:
            out.setdefault(kind.id, kind)
        return out

    def find_deal_kind(self, text: str) -> str | None:
        """A deal kind's id from its id, its name in either language, or a CRM's word for it
        ("Existing Business", "upsell", "renouvellement")."""
        key = name_key(text)
        for spec in self.deal_kinds:
            if key in (name_key(spec.id.replace("_", " ")), *(name_key(n) for n in spec.name.values())):
                return spec.id
        found = DEAL_KIND_OF.get(key)
        return found if self.deal_kind(found) else None

    def stage_for(self, stage_id: str | None, kind: str | None = None) -> Stage | None:
        """The stage with the standard time of this kind of deal (a renewal may have its own)."""
        stage = self.stage(stage_id) if stage_id else None
        spec = self.deal_kind(kind)
        if stage is None or spec is None or stage.id not in spec.standard_days:
            return stage
        return self._kind_stages[(kind, stage.id)]

    @cached_property
    def _kind_stages(self) -> dict:
        out = {}
        for spec in self.deal_kinds:
            for stage in self.stages:
                if stage.id in spec.standard_days:
                    std = float(spec.standard_days[stage.id])
                    out[(spec.id, stage.id)] = Stage(
                        id=stage.id, name=stage.name, standard_days=std, probability_pct=stage.probability_pct,
                        stuck_after_days=std * (1 + self.stuck_tolerance_pct / 100),
                        skipped_under_days=std * (1 - self.skipped_tolerance_pct / 100))
        return out

    def frozen_treatment(self, kind: str | None, tier: int | None) -> str:
        """What a frozen deal calls for: "escalate" to the manager, or "nurture". The tier's
        treatment wins over the kind's."""
        by_tier = self.tiers.of(tier).frozen
        if by_tier:
            return by_tier
        spec = self.deal_kind(kind)
        return spec.frozen if spec else "nurture"


# Reading the file lives in playbook/loading.py; these names are how the rest of Gare calls it.
from playbook.loading import DEFAULT_PLAYBOOK, load, locate, parse  # noqa: E402,F401
