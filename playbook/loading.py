"""Reading config.toml into a Playbook: one function per section, each refusing what it cannot
use with the file, the key and the fix. A playbook with an error is never half-applied."""
from __future__ import annotations

import os
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from playbook.config import (
    ACCOUNT_FIELDS, DERIVED_FIELDS, KPI_UNITS, LANGUAGES, PLATFORMS, PROFILE_IDS, SEVERITIES, TIER_SOURCES,
    DealKind, ImportRules, LetGo, Localized, Method, MicrosoftTeams, MisfitTrait, Nudges, PeopleRules, PlanKpi,
    PlanQuestion, PlanRules, Playbook, PlaybookError, Profile, Stage, SuccessBox, Team, TierFactor, Tiers,
    TierTreatment,
)
from playbook.rules import Node, RuleError, check_fields, parse_rule
from playbook.words import DEAL_STATUS_OF, name_key


# --- locating the file -----------------------------------------------------------------

DEFAULT_PLAYBOOK = Path(__file__).resolve().parent / "default_config.toml"

def locate(explicit: str | None = None) -> Path:
    """--config PATH, else GARE_CONFIG, else ./config.toml, else the default shipped with Gare."""
    for candidate in (explicit, os.environ.get("GARE_CONFIG")):
        if candidate:
            return Path(candidate).expanduser()
    here = Path.cwd() / "config.toml"
    if here.is_file():
        return here
    return DEFAULT_PLAYBOOK

def load(path: str | Path | None = None) -> Playbook:
    path = Path(path) if path is not None else locate()
    shown = str(path)
    if not path.is_file():
        raise PlaybookError(shown, "file", "file not found. Pass --config PATH or set GARE_CONFIG to a playbook file.")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PlaybookError(shown, "syntax", f"not valid TOML ({exc}). Fix the line it names.") from None
    except UnicodeDecodeError:
        raise PlaybookError(shown, "file", "not UTF-8 text. Save the file as UTF-8.") from None
    return parse(data, shown)

# --- validation --------------------------------------------------------------------------

class _Reader:
    """Reads one table, remembering the key path for error messages, and refuses unknown keys."""

    def __init__(self, path: str, data: dict, key: str):
        self.path, self.data, self.key = path, data, key
        self.seen: set[str] = set()

    def fail(self, sub: str | None, problem: str) -> PlaybookError:
        key = f"{self.key}.{sub}" if sub and self.key else (sub or self.key)
        return PlaybookError(self.path, key, problem)

    def get(self, name: str, kind: type | tuple, default: Any = ..., *, what: str = "") -> Any:
        self.seen.add(name)
        if name not in self.data:
            if default is ...:
                raise self.fail(name, f"is missing. Add it{(' (' + what + ')') if what else ''}.")
            return default
        value = self.data[name]
        if kind in (int, float, (int, float)) and isinstance(value, bool):
            raise self.fail(name, f"must be a number, not {value!r}.")
        if not isinstance(value, kind):
            names = {str: "text", int: "a whole number", float: "a number", bool: "true or false",
                     list: "a list", dict: "a table"}
            expect = " or ".join(names.get(k, k.__name__) for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise self.fail(name, f"must be {expect}, not {value!r}.")
        return value

    def sub(self, name: str, default: Any = ...) -> "_Reader":
        value = self.get(name, dict, {} if default is not ... else ...)
        return _Reader(self.path, value, f"{self.key}.{name}" if self.key else name)

    def done(self) -> None:
        extra = sorted(set(self.data) - self.seen)
        if extra:
            allowed = ", ".join(sorted(self.seen))
            raise self.fail(extra[0], f"unknown key. Remove it or use one of: {allowed}.")

    def rule(self, name: str, field_types: dict[str, str], optional: bool = False) -> tuple[Node | None, str | None]:
        text = self.get(name, str, None if optional else ..., what="a rule such as 'margin_pct < 5'")
        if text is None:
            return None, None
        try:
            node = parse_rule(text)
            check_fields(node, field_types, lambda: "rule")
        except RuleError as exc:
            raise self.fail(name, f"{exc}. See docs/playbook.md for the rule language.") from None
        return node, text

    def localized(self, name: str, *, of_list: bool = False, optional: bool = False) -> Localized | None:
        self.seen.add(name)
        if name not in self.data:
            if optional:
                return None
            raise self.fail(name, 'is missing. Add it as text, or one text per language: { en = "...", fr = "..." }.')
        value = self.data[name]
        plain = (list,) if of_list else (str,)
        if isinstance(value, plain):
            value = {lang: value for lang in LANGUAGES}
        if not isinstance(value, dict) or not value:
            shape = "a list of texts" if of_list else "text"
            raise self.fail(name, f'must be {shape}, or one per language: {{ en = ..., fr = ... }}.')
        for lang, text in value.items():
            if lang not in LANGUAGES:
                raise self.fail(f"{name}.{lang}", f"unknown language. Use one of: {', '.join(LANGUAGES)}.")
            if of_list:
                if not isinstance(text, list) or not all(isinstance(t, str) and t.strip() for t in text):
                    raise self.fail(f"{name}.{lang}", "must be a list of non-empty texts.")
            elif not isinstance(text, str) or not text.strip():
                raise self.fail(f"{name}.{lang}", "must be non-empty text.")
        return value

def _unique(path: str, key: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise PlaybookError(path, key, f"duplicate id {i!r}. Give every entry its own id.")
        seen.add(i)

def _number(r: _Reader, name: str, default: Any = ..., *, low: float | None = None, high: float | None = None) -> float:
    value = r.get(name, (int, float), default)
    if value is None:
        return value
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise r.fail(name, f"is {value!r}; it must be {bounds}.")
    return float(value)

def parse(data: dict, path: str = "config.toml") -> Playbook:
    """The playbook from parsed TOML, section by section, or a PlaybookError naming the key."""
    top = _Reader(path, data, "")
    language, timezone, currency, rates = _basics(top)
    field_types = _fields(top.sub("fields", {}))
    profiles = _profiles(top.sub("profiles"), field_types)
    let_go = _let_go(top, field_types)
    traits, boxes, max_empty, gate = _misfit(top.sub("misfit"), field_types)
    stages, day_count, holidays, stuck_pct, skipped_pct = _pipeline(top.sub("pipeline"))
    tiers = _tiers(top.sub("tiers"), field_types)
    deal_kinds = _deal_kinds(top.sub("deal_kinds", {}), stages)
    method = _method(top, gate, stages)
    teams, msteams = _teams(top.sub("teams", {}))
    nudges = _nudges(top.sub("nudges", {}))
    people = _people(top.sub("people", {}))
    imports = _imports(top.sub("import", {}))
    plans = _plans(top.sub("plans", {})) if "plans" in data else _default_plans(path)
    top.seen.add("plans")
    top.done()
    return Playbook(
        source=path, language=language, timezone=timezone, currency=currency, field_types=field_types,
        profiles=profiles, let_go=let_go, traits=traits, success_boxes=boxes, max_empty_boxes=max_empty,
        stages=stages, day_count=day_count, holidays=holidays, tiers=tiers, raw=data, teams=teams,
        nudges=nudges, people=people, msteams=msteams, deal_kinds=deal_kinds, method=method,
        stuck_tolerance_pct=stuck_pct, skipped_tolerance_pct=skipped_pct, rates=rates, imports=imports,
        plans=plans,
    )


def _basics(top: _Reader) -> tuple[str, str, str, dict[str, float]]:
    """language, timezone, and the currency: `currency = "EUR"`, or a [currency] table with the
    code and the rates that convert other currencies into it for totals."""
    language = top.get("language", str, "en")
    if language not in LANGUAGES:
        raise top.fail("language", f"is {language!r}; use one of: {', '.join(LANGUAGES)}.")
    timezone = top.get("timezone", str, "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise top.fail("timezone", f"{timezone!r} is not an IANA time zone. Use a name such as 'Europe/Paris'.") from None

    rates: dict[str, float] = {}
    if isinstance(top.data.get("currency"), dict):
        cr = top.sub("currency")
        currency = cr.get("code", str, "EUR")
        rates_r = cr.sub("rates", {})
        for code in list(rates_r.data):
            if not _iso_currency(code):
                raise rates_r.fail(code, "is not an ISO 4217 code; write it as USD, GBP...")
            rate = _number(rates_r, code, low=0)
            if rate <= 0:
                raise rates_r.fail(code, f"is {rate:g}; a rate is what one {code} is worth in {currency}, more than 0.")
            rates[code] = rate
        rates_r.done()
        cr.done()
        key = "currency.code"
    else:
        currency = top.get("currency", str, "EUR")
        key = "currency"
    if not _iso_currency(currency):
        raise PlaybookError(top.path, key, f"is {currency!r}; use an ISO 4217 code such as EUR or USD.")
    return language, timezone, currency, rates


def _iso_currency(code: str) -> bool:
    return len(code) == 3 and code.isalpha() and code.isupper()


def _imports(r: _Reader) -> ImportRules:
    """[import]: how CRM files are read when the file cannot say (all its dates ambiguous)."""
    order = r.get("date_order", str, None)
    if order is not None and order not in ("mdy", "dmy"):
        raise r.fail("date_order", f"is {order!r}; use mdy (month first, as in the US: 5/20/2024) "
                                   "or dmy (day first: 20/05/2024).")
    r.done()
    return ImportRules(date_order=order)


def _fields(r: _Reader) -> dict[str, str]:
    """[fields]: the custom columns. First, since every rule may use them."""
    field_types = dict(ACCOUNT_FIELDS) | dict(DERIVED_FIELDS)
    for name in list(r.data):
        kind = r.get(name, str)
        if kind not in ("number", "text", "date", "bool"):
            raise r.fail(name, f"kind {kind!r} is unknown. Use number, text, date or bool.")
        if name in field_types:
            raise r.fail(name, "is already a built-in field. Remove it from [fields].")
        field_types[name] = kind
    r.done()
    return field_types


def _profiles(r: _Reader, field_types: dict[str, str]) -> tuple[Profile, ...]:
    """[profiles]: the four GARE profiles, their rules and common actions, in tie order."""
    order = r.get("order", list, list(PROFILE_IDS))
    for pid in order:
        if pid not in PROFILE_IDS:
            raise r.fail("order", f"unknown profile {pid!r}. Profiles are: {', '.join(PROFILE_IDS)}.")
    _unique(r.path, "profiles.order", order)
    missing = [p for p in PROFILE_IDS if p not in order]
    if missing:
        raise r.fail("order", f"lacks {', '.join(missing)}. List all four profiles.")
    profiles = []
    for pid in order:
        if pid not in r.data:
            raise r.fail(pid, f"is missing. Add a [profiles.{pid}] table with `when` and `actions`.")
        pr = r.sub(pid)
        rule, text = pr.rule("when", field_types)
        actions = pr.localized("actions", of_list=True)
        if len({len(v) for v in actions.values()}) > 1:
            raise pr.fail("actions", "has a different number of actions per language. Give each language the same list.")
        every = pr.get("every_days", int, 30)
        if every < 1:
            raise pr.fail("every_days", f"is {every}; it must be at least 1 day.")
        pr.done()
        profiles.append(Profile(id=pid, rule=rule, rule_text=text, actions=actions, every_days=every))
    for name in r.data:
        if name not in PROFILE_IDS and name != "order":
            raise r.fail(name, f"unknown profile. Profiles are: {', '.join(PROFILE_IDS)}.")
        r.seen.add(name)
    r.done()
    return tuple(profiles)


def _let_go(top: _Reader, field_types: dict[str, str]) -> LetGo | None:
    """[let_go]: the accounts to drop, and what to do about them."""
    let_go = None
    if "let_go" in top.data:
        lr = top.sub("let_go")
        rule, text = lr.rule("when", field_types)
        review = lr.get("review_days", int, 90)
        if review < 1:
            raise lr.fail("review_days", f"is {review}; it must be at least 1 day.")
        let_go = LetGo(rule=rule, rule_text=text, action=lr.localized("action"), review_days=review)
        lr.done()
    else:
        top.seen.add("let_go")
    return let_go


def _misfit(r: _Reader, field_types: dict[str, str]) -> tuple[tuple[MisfitTrait, ...], tuple[SuccessBox, ...], int, str | None]:
    """[misfit]: the traits of bad-fit customers, the potential-for-success boxes, and the stage a
    misfit's deal may not pass without a confirmation (checked against the stages in parse)."""
    max_empty = r.get("max_empty_boxes", int, 2)
    gate = r.get("gate_stage", str, AUTO_GATE) or None
    traits = []
    for i, raw in enumerate(r.get("traits", list, [])):
        if not isinstance(raw, dict):
            raise r.fail(f"traits[{i}]", "must be a table ([[misfit.traits]]).")
        tr = _Reader(r.path, raw, f"misfit.traits[{i}]")
        tid = tr.get("id", str)
        tr.key = f"misfit.traits.{tid}"
        rule, text = tr.rule("when", field_types)
        severity = tr.get("severity", str, "warning")
        if severity not in SEVERITIES:
            raise tr.fail("severity", f"is {severity!r}; use blocking or warning.")
        traits.append(MisfitTrait(
            id=tid, rule=rule, rule_text=text, severity=severity,
            label=tr.localized("label"), why=tr.localized("why"),
            who_feels_pain=tr.localized("who_feels_pain", of_list=True),
        ))
        tr.done()
    _unique(r.path, "misfit.traits", [t.id for t in traits])
    boxes = []
    for i, raw in enumerate(r.get("success_boxes", list, [])):
        if not isinstance(raw, dict):
            raise r.fail(f"success_boxes[{i}]", "must be a table ([[misfit.success_boxes]]).")
        br = _Reader(r.path, raw, f"misfit.success_boxes[{i}]")
        bid = br.get("id", str)
        br.key = f"misfit.success_boxes.{bid}"
        filled, _ = br.rule("filled_when", field_types, optional=True)
        boxes.append(SuccessBox(id=bid, label=br.localized("label"), filled_when=filled))
        br.done()
    _unique(r.path, "misfit.success_boxes", [b.id for b in boxes])
    if max_empty < 0 or (boxes and max_empty > len(boxes)):
        raise r.fail("max_empty_boxes", f"is {max_empty}; it must be between 0 and the number of boxes ({len(boxes)}).")
    r.done()
    return tuple(traits), tuple(boxes), max_empty, gate


def _pipeline(r: _Reader) -> tuple[tuple[Stage, ...], str, frozenset, float, float]:
    """[pipeline]: the stages, their standard times, and how days are counted."""
    day_count = r.get("day_count", str, "calendar")
    if day_count not in ("calendar", "business"):
        raise r.fail("day_count", f"is {day_count!r}; use calendar or business.")
    holidays = set()
    for i, h in enumerate(r.get("holidays", list, [])):
        try:
            holidays.add(h if isinstance(h, date) else date.fromisoformat(str(h)))
        except ValueError:
            raise r.fail(f"holidays[{i}]", f"{h!r} is not a date; write 2026-12-25.") from None
    stuck_pct = _number(r, "stuck_tolerance_pct", 50, low=0)
    skipped_pct = _number(r, "skipped_tolerance_pct", 50, low=0, high=100)
    stages = []
    raw_stages = r.get("stages", list)
    if not raw_stages:
        raise r.fail("stages", "is empty. Declare at least one [[pipeline.stages]].")
    for i, raw in enumerate(raw_stages):
        if not isinstance(raw, dict):
            raise r.fail(f"stages[{i}]", "must be a table ([[pipeline.stages]]).")
        sr = _Reader(r.path, raw, f"pipeline.stages[{i}]")
        sid = sr.get("id", str)
        sr.key = f"pipeline.stages.{sid}"
        std = _number(sr, "standard_days", low=0)
        if std <= 0:
            raise sr.fail("standard_days", "must be more than 0 days.")
        stuck = _number(sr, "stuck_after_days", None, low=0)
        skipped = _number(sr, "skipped_under_days", None, low=0)
        stuck = stuck if stuck is not None else std * (1 + stuck_pct / 100)
        skipped = skipped if skipped is not None else std * (1 - skipped_pct / 100)
        if stuck <= std:
            raise sr.fail("stuck_after_days", f"is {stuck:g}; it must be more than standard_days ({std:g}).")
        if skipped >= std:
            raise sr.fail("skipped_under_days", f"is {skipped:g}; it must be less than standard_days ({std:g}).")
        aliases = sr.get("aliases", list, [])
        if not all(isinstance(a, str) and name_key(a) for a in aliases):
            raise sr.fail("aliases", 'must be a list of the names your CRM gives this stage, e.g. ["Proposal/Quote"].')
        stages.append(Stage(
            id=sid, name=sr.localized("name"), standard_days=std, stuck_after_days=stuck,
            skipped_under_days=skipped, probability_pct=_number(sr, "probability_pct", 0, low=0, high=100),
            aliases=tuple(aliases),
        ))
        sr.done()
    _unique(r.path, "pipeline.stages", [s.id for s in stages])
    _stage_words(r.path, stages)
    r.done()
    return tuple(stages), day_count, frozenset(holidays), stuck_pct, skipped_pct


def _stage_words(path: str, stages: list[Stage]) -> None:
    """Every id, name and alias names one stage only, and none is a deal outcome (won, lost...):
    an outcome sets the status, it is not a stage."""
    owner: dict[str, str] = {}
    for stage in stages:
        for word in (stage.id, *stage.name.values(), *stage.aliases):
            key = name_key(word)
            if key in DEAL_STATUS_OF and DEAL_STATUS_OF[key] in ("won", "lost") and word in stage.aliases:
                raise PlaybookError(path, f"pipeline.stages.{stage.id}.aliases",
                                    f"{word!r} is a deal outcome, not a stage: closed won and lost set a deal's "
                                    "status by themselves. Remove it.")
            if owner.setdefault(key, stage.id) != stage.id:
                raise PlaybookError(path, f"pipeline.stages.{stage.id}.aliases",
                                    f"{word!r} already names the stage {owner[key]!r}. Keep it on one stage only.")


def _tiers(r: _Reader, field_types: dict[str, str]) -> Tiers:
    """[tiers]: the score, its factors and thresholds, and the at-risk rule."""
    t1 = _number(r, "tier1_min_score", 70, low=0, high=100)
    t2 = _number(r, "tier2_min_score", 40, low=0, high=100)
    if t2 >= t1:
        raise r.fail("tier2_min_score", f"is {t2:g}; it must be below tier1_min_score ({t1:g}).")
    penalty = _number(r, "at_risk_penalty", 0, low=0, high=100)
    at_risk, at_risk_text = r.rule("at_risk_when", field_types, optional=True)
    factors = []
    for i, raw in enumerate(r.get("factors", list)):
        if not isinstance(raw, dict):
            raise r.fail(f"factors[{i}]", "must be a table ([[tiers.factors]]).")
        fr = _Reader(r.path, raw, f"tiers.factors[{i}]")
        fid = fr.get("id", str)
        fr.key = f"tiers.factors.{fid}"
        weight = _number(fr, "weight", low=0)
        fname = fr.get("field", str, None)
        bands: list[tuple[float, float]] = []
        if fname is None:
            if fid not in TIER_SOURCES:
                raise fr.fail("field", "is missing. Name the account field this factor scores, or use id = \"fit\".")
        else:
            if field_types.get(fname) != "number":
                raise fr.fail("field", f"{fname!r} is not a number field. Use one of: "
                              + ", ".join(sorted(k for k, v in field_types.items() if v == "number")) + ".")
            for j, band in enumerate(fr.get("bands", list)):
                if (not isinstance(band, list) or len(band) != 2
                        or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in band)):
                    raise fr.fail(f"bands[{j}]", "must be [threshold, points], e.g. [1000000, 0.7].")
                if not 0 <= band[1] <= 1:
                    raise fr.fail(f"bands[{j}]", f"points {band[1]} must be between 0 and 1.")
                bands.append((float(band[0]), float(band[1])))
            bands.sort(key=lambda b: -b[0])
        fr.done()
        factors.append(TierFactor(id=fid, weight=weight, field=fname, bands=tuple(bands)))
    _unique(r.path, "tiers.factors", [f.id for f in factors])
    if not factors or sum(f.weight for f in factors) <= 0:
        raise r.fail("factors", "needs at least one factor with a weight above 0.")
    treatment = {}
    for tier in (1, 2, 3):
        every = r.get(f"tier{tier}_every_days", int, None)
        if every is not None and every < 1:
            raise r.fail(f"tier{tier}_every_days", f"is {every}; it must be at least 1 day.")
        frozen = r.get(f"tier{tier}_frozen", str, None)
        if frozen is not None and frozen not in FROZEN_TREATMENTS:
            raise r.fail(f"tier{tier}_frozen", f"is {frozen!r}; use escalate (to the manager) or nurture.")
        if every is not None or frozen is not None:
            treatment[tier] = TierTreatment(every_days=every, frozen=frozen)
    r.done()
    return Tiers(t1, t2, penalty, at_risk, at_risk_text, tuple(factors), treatment)


FROZEN_TREATMENTS = ("escalate", "nurture")
AUTO_GATE = "\0auto"
DEFAULT_KINDS = {
    "new_business": ({"en": "New business", "fr": "Nouvelle affaire"}, "nurture"),
    "renewal": ({"en": "Renewal", "fr": "Renouvellement"}, "escalate"),
    "expansion": ({"en": "Expansion", "fr": "Extension"}, "escalate"),
}


def _deal_kinds(r: _Reader, stages: tuple[Stage, ...]) -> tuple[DealKind, ...]:
    """[deal_kinds.*]: new business, renewal, expansion (and any the playbook adds), each with
    its answer to a frozen deal and, optionally, its own standard days per stage."""
    stage_ids = {s.id for s in stages}
    kinds = []
    for kid in dict.fromkeys([*DEFAULT_KINDS, *r.data]):
        default_name, default_frozen = DEFAULT_KINDS.get(kid, ({"en": kid.replace("_", " ")}, "nurture"))
        kr = r.sub(kid) if kid in r.data else _Reader(r.path, {}, f"deal_kinds.{kid}")
        r.seen.add(kid)
        name = kr.localized("name", optional=True) or default_name
        frozen = kr.get("frozen", str, default_frozen)
        if frozen not in FROZEN_TREATMENTS:
            raise kr.fail("frozen", f"is {frozen!r}; use escalate (to the manager) or nurture.")
        days = kr.get("standard_days", dict, {})
        for stage_id, value in days.items():
            if stage_id not in stage_ids:
                raise kr.fail(f"standard_days.{stage_id}", f"is not a stage. Stages: {', '.join(sorted(stage_ids))}.")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise kr.fail(f"standard_days.{stage_id}", f"is {value!r}; it must be a number of days above 0.")
        advice = kr.localized("advice", optional=True)
        kr.done()
        kinds.append(DealKind(id=kid, name=name, frozen=frozen, standard_days=dict(days), advice=advice))
    r.done()
    return tuple(kinds)


def _method(top: _Reader, gate: str | None, stages: tuple[Stage, ...]) -> Method:
    """[nurture] and [coaching], and the misfit gate checked against the stages."""
    if gate == AUTO_GATE:  # unset: the qualification stage, else the first one
        gate = "qualification" if any(s.id == "qualification" for s in stages) else stages[0].id
    if gate is not None and gate not in {s.id for s in stages}:
        raise PlaybookError(top.path, "misfit.gate_stage",
                            f"{gate!r} is not a stage. Use one of: {', '.join(s.id for s in stages)}, or \"\" for no gate.")
    nr = top.sub("nurture", {})
    channel = nr.get("channel", str, None) or None
    required = nr.get("reason_required", bool, True)
    nr.done()
    cr = top.sub("coaching", {})
    window = cr.get("window", int, 4)
    repeats = cr.get("min_repeats", int, 3)
    if window < 1:
        raise cr.fail("window", f"is {window}; it must be at least 1.")
    if not 1 <= repeats <= window:
        raise cr.fail("min_repeats", f"is {repeats}; it must be between 1 and window ({window}).")
    cr.done()
    return Method(gate_stage=gate, nurture_channel=channel, nurture_reason_required=required,
                  coaching_window=window, coaching_min_repeats=repeats)


def _teams(r: _Reader) -> tuple[tuple[Team, ...], MicrosoftTeams]:
    """[teams.*]: which reps each manager oversees (App Home, digests). Optional. Its one
    plain key, `tenants`, lists the Microsoft Teams tenants (directory ids) Gare serves."""
    teams = []
    tenants = r.get("tenants", list, [])
    for i, tenant in enumerate(tenants):
        if not isinstance(tenant, str) or not _TENANT.match(tenant.strip()):
            raise r.fail(f"tenants[{i}]", f"{tenant!r} is not a tenant id; write the directory (tenant) id of your "
                                          'Microsoft 365 organisation, e.g. "72f988bf-86f1-41af-91ab-2d7cd011db47".')
    for tid in [k for k in r.data if k != "tenants"]:
        one = _Reader(r.path, r.get(tid, dict), f"teams.{tid}")
        manager = one.get("manager", str, what='the manager\'s owner name, e.g. manager = "claire"')
        members = one.get("members", list, what='the reps\' owner names, e.g. members = ["alice", "bruno"]')
        if not manager.strip():
            raise one.fail("manager", "must be an owner name, not empty.")
        if not members or not all(isinstance(m, str) and m.strip() for m in members):
            raise one.fail("members", 'must be a non-empty list of owner names, e.g. ["alice", "bruno"].')
        one.done()
        teams.append(Team(id=tid, manager=manager.strip(), members=tuple(m.strip() for m in members)))
    r.done()
    return tuple(teams), MicrosoftTeams(tenants=tuple(t.strip().lower() for t in tenants))


_TENANT = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _cron(r: _Reader, name: str, default: str) -> str:
    from apscheduler.triggers.cron import CronTrigger

    text = r.get(name, str, default)
    try:
        CronTrigger.from_crontab(text)
    except ValueError as exc:
        raise r.fail(name, f"{text!r} is not a crontab schedule ({exc}). Write minute hour day month weekday, "
                           "e.g. \"30 8 * * mon\" for Mondays at 08:30.") from None
    return text


def _nudges(r: _Reader) -> Nudges:
    rep = _cron(r, "rep_nudges", "30 8 * * mon")
    manager = _cron(r, "manager_digest", "0 9 * * mon")
    channel = r.get("rep_channel", str, "dm")
    if "email_domain" in r.data:
        raise r.fail("email_domain", 'has moved: list the domains whose e-mails identify people in '
                                     '[people] email_domains = ["example.com"].')
    channels_r = r.sub("rep_channels", {})
    channels = {owner: channels_r.get(owner, str) for owner in list(channels_r.data)}
    channels_r.done()
    per_second = _number(r, "messages_per_second", 1, low=0.01, high=50)
    platform = r.get("platform", str, "slack")
    if platform not in PLATFORMS:
        raise r.fail("platform", f"is {platform!r}; use one of: {', '.join(PLATFORMS)}.")
    r.done()
    return Nudges(rep_cron=rep, manager_cron=manager, rep_channel=channel, rep_channels=channels,
                  messages_per_second=per_second, platform=platform)


def _people(r: _Reader) -> PeopleRules:
    """[people]: whose e-mails identify anyone, who the admins are, and what an unlinked chat
    user may do."""
    domains = r.get("email_domains", list, [])
    for i, domain in enumerate(domains):
        if not isinstance(domain, str) or "@" in domain or "." not in domain or " " in domain.strip():
            raise r.fail(f"email_domains[{i}]", f"{domain!r} is not a domain; write it as example.com.")
    admins = r.get("admins", list, [])
    if not all(isinstance(a, str) and a.strip() for a in admins):
        raise r.fail("admins", 'must be a list of owner names, e.g. ["sophie"].')
    unlinked = r.get("unlinked_can_read", bool, False)
    r.done()
    return PeopleRules(email_domains=tuple(d.strip().lower().lstrip(".") for d in domains),
                       admins=tuple(a.strip() for a in admins), unlinked_can_read=unlinked)


# Words a review answer may not be named, since `plan ACCOUNT review …` reads them itself.
_REVIEW_RESERVED = ("worked", "did_not", "close")


def _questions(r: _Reader, name: str, reserved: tuple[str, ...] = ()) -> tuple[PlanQuestion, ...]:
    questions = []
    for i, raw in enumerate(r.get(name, list, [])):
        if not isinstance(raw, dict):
            raise r.fail(f"{name}[{i}]", f"must be a table ([[plans.{name}]]).")
        qr = _Reader(r.path, raw, f"plans.{name}[{i}]")
        qid = qr.get("id", str)
        if not qid.replace("_", "").isalnum() or not qid.isascii() or qid != qid.lower():
            raise qr.fail("id", f"{qid!r} is not an id; use lower-case letters, digits and _, e.g. \"gaps\".")
        if qid in reserved:
            raise qr.fail("id", f"{qid!r} is taken by the review itself; choose another id.")
        qr.key = f"plans.{name}.{qid}"
        questions.append(PlanQuestion(id=qid, text=qr.localized("text")))
        qr.done()
    _unique(r.path, f"plans.{name}", [q.id for q in questions])
    return tuple(questions)


def _plans(r: _Reader) -> PlanRules:
    """[plans]: the account plan (seed 003): the discovery questions, the success KPIs, the review
    questions, and how far below target a KPI must fall before the manager digest names it."""
    far = _number(r, "far_below_pct", 25, low=0, high=100)
    task_days = r.get("kpi_task_days", int, 30)
    if task_days < 1:
        raise r.fail("kpi_task_days", f"is {task_days}; it must be at least 1 day.")
    window = r.get("trend_window", int, 3)
    if window < 2:
        raise r.fail("trend_window", f"is {window}; a trend needs at least 2 values.")
    discovery = _questions(r, "discovery")
    review = _questions(r, "review", _REVIEW_RESERVED)
    kpis = []
    for i, raw in enumerate(r.get("kpis", list, [])):
        if not isinstance(raw, dict):
            raise r.fail(f"kpis[{i}]", "must be a table ([[plans.kpis]]).")
        kr = _Reader(r.path, raw, f"plans.kpis[{i}]")
        kid = kr.get("id", str)
        if not kid.replace("_", "").isalnum() or not kid.isascii() or kid != kid.lower():
            raise kr.fail("id", f"{kid!r} is not an id; use lower-case letters, digits and _, e.g. \"churn_rate\".")
        kr.key = f"plans.kpis.{kid}"
        unit = kr.get("unit", str, "number")
        if unit not in KPI_UNITS:
            raise kr.fail("unit", f"is {unit!r}; use one of: {', '.join(KPI_UNITS)}.")
        better = kr.get("better", str, "higher")
        if better not in ("higher", "lower"):
            raise kr.fail("better", f"is {better!r}; use higher (more is better) or lower (less is better, e.g. churn).")
        kpis.append(PlanKpi(id=kid, name=kr.localized("name"), unit=unit, better=better))
        kr.done()
    _unique(r.path, "plans.kpis", [k.id for k in kpis])
    r.done()
    return PlanRules(discovery=discovery, kpis=tuple(kpis), review=review, far_below_pct=far,
                     kpi_task_days=task_days, trend_window=window)


def _default_plans(path: str) -> PlanRules:
    """A playbook without [plans] gets the shipped one's (the seed's questions and KPIs)."""
    if Path(path).resolve() == DEFAULT_PLAYBOOK:
        return PlanRules()
    data = tomllib.loads(DEFAULT_PLAYBOOK.read_text(encoding="utf-8"))
    return _plans(_Reader(str(DEFAULT_PLAYBOOK), data.get("plans", {}), "plans"))
