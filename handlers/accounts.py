"""Account commands: `account <name>`, `account <name> set field=value …`, `accounts [profile]
[tier=N] [owner=…]` and `tiers` (the pyramid)."""
from __future__ import annotations

from datetime import date
from typing import Any

from playbook.words import (
    AUTO_WORDS, EMPTY_WORDS, LET_GO_WORDS, MISFIT_WORDS, NO_PROFILE_WORDS, SECTOR_WORDS, SETTABLE_ALIASES,
    STATUS_WORDS, TODAY_WORDS, fold,
)
from handlers.reply import Context, Refusal, Reply
from handlers.records import (
    AccountView, account_views, deal_data, known_owner, list_owners, list_scope, refresh_assessments, resolve_account,
)
from playbook.facts import typed_value
from playbook.config import ACCOUNT_FIELDS, localized
from playbook.profiles import common_actions
from playbook.tiers import pyramid_of
from store import assessed, locks, queries
from store.queries import jsonable
from store.database import session_scope
from store.models import ACCOUNT_STATUSES, SECTORS, utcnow
from store.values import ValueProblem, parse_bool, parse_date, parse_quantity

KEY_FIELDS = ("status", "industry", "region", "sector", "annual_revenue", "employees", "margin_pct",
              "exec_sponsor", "last_contact", "lifetime_value")


def account_summary(view: AccountView, ctx: Context) -> dict[str, Any]:
    a, s = view.account, view.assessment
    return {
        "account": a.name,
        "owner": a.owner,
        "status": a.status,
        "profile": s.profile.profile,
        "let_go": s.profile.let_go,
        "tier": s.tier.tier,
        "score": s.tier.score,
        "at_risk": s.tier.at_risk,
        "verdict": s.fit.verdict,
        "open_deals": sum(1 for d in view.deals if d.status == "open"),
    }


def account(ctx: Context, account: str) -> Reply:
    with session_scope(ctx.engine) as session:
        view = account_views(session, ctx, [resolve_account(session, account, ctx)])[0]
        return Reply("account", account_data(view, ctx))


def account_data(view: AccountView, ctx: Context) -> dict[str, Any]:
    a, s = view.account, view.assessment
    decision = s.profile
    let_go_action = None
    if decision.let_go and ctx.playbook.let_go:
        let_go_action = localized(ctx.playbook.let_go.action, ctx.language)
    fields = {k: getattr(a, k) for k in KEY_FIELDS}
    return {
        **account_summary(view, ctx),
        "decided_by": decision.decided_by,
        "rule": decision.rule,
        "conditions": decision.conditions,
        "also_matched": decision.also_matched,
        "override_by": decision.override_by,
        "override_at": ctx.local(decision.override_at),
        "let_go_rule": decision.let_go_rule,
        "let_go_conditions": decision.let_go_conditions,
        "let_go_action": let_go_action,
        "tier_overridden": s.tier.overridden,
        "tier_factors": s.tier.factors,
        "fields": fields,
        "custom": dict(a.custom or {}),
        "days_since_last_contact": s.facts.get("days_since_last_contact"),
        "success_boxes": s.fit.success_boxes,
        "deals": [deal_data(ctx, d, view.timings[d.id], a.name) for d in view.deals if d.status == "open"],
        "actions": common_actions(decision.profile, ctx.playbook, ctx.language),
    }


ACCOUNTS_PAGE = 20  # rows a list shows at a time, on every surface


def accounts(ctx: Context, profile: str | None = None, tier: int | None = None, owner: str | None = None,
             everyone: bool = False, page: int = 1) -> Reply:
    """One page of the accounts a list shows, with how many there are: the database counts,
    sorts and cuts (a book of 100,000 accounts is never read to show 20)."""
    profile_id = None
    if profile:
        key = fold(profile)
        if key in LET_GO_WORDS:
            profile_id = "let_go"
        elif key in MISFIT_WORDS:
            profile_id = "misfit"
        elif key in NO_PROFILE_WORDS:
            profile_id = "none"
        else:
            profile_id = ctx.playbook.find_profile(profile)
            if profile_id is None:
                raise Refusal("unknown_profile", name=profile)
    with session_scope(ctx.engine) as session:
        owners = list_owners(session, ctx, owner, everyone)
    refresh_assessments(ctx, owners)
    with session_scope(ctx.engine) as session:
        count = assessed.count_accounts(session, owners, profile=profile_id, tier=tier)
        pages = max(1, -(-count // ACCOUNTS_PAGE))
        page = min(page, pages)  # past the end: the last page, as the chat pagers do
        rows = assessed.assessed_accounts(session, owners, profile=profile_id, tier=tier,
                                          offset=(page - 1) * ACCOUNTS_PAGE, limit=ACCOUNTS_PAGE) if count else []
    shown_owner, team_of = list_scope(ctx, owner, owners)
    return Reply("accounts", {"filters": {"profile": profile_id, "tier": tier, "owner": shown_owner, "team_of": team_of,
                                          "everyone": everyone and owner is None},
                              "accounts": rows, "count": count, "page": page, "pages": pages,
                              "first": (page - 1) * ACCOUNTS_PAGE + 1 if rows else 0})


AT_RISK_NAMED = 20


def tiers(ctx: Context, tier: int | None = None, owner: str | None = None, everyone: bool = False) -> Reply:
    with session_scope(ctx.engine) as session:
        owners = list_owners(session, ctx, owner, everyone)
    refresh_assessments(ctx, owners)
    with session_scope(ctx.engine) as session:
        counts = assessed.tier_counts(session, owners)
        top = {t: assessed.names_by_score(session, owners, tier=t, limit=5) for t in (1, 2, 3)}
        # The most valuable first, a line's worth: a large book has thousands at risk.
        at_risk = assessed.names_by_score(session, owners, at_risk=True, limit=AT_RISK_NAMED)
        at_risk_count = assessed.at_risk_count(session, owners) if len(at_risk) == AT_RISK_NAMED else len(at_risk)
    owner, team_of = list_scope(ctx, owner, owners)
    shape = pyramid_of(counts)
    return Reply("tiers", {
        "owner": owner, "team_of": team_of,
        "counts": {str(k): n for k, n in shape["counts"].items()},
        "total": shape["total"],
        "is_pyramid": shape["is_pyramid"],
        "top": {str(k): names for k, names in top.items()},
        "at_risk": at_risk,
        "at_risk_count": at_risk_count,
        "thresholds": {"tier1": ctx.playbook.tiers.tier1_min_score, "tier2": ctx.playbook.tiers.tier2_min_score},
    })


def _field_value(ctx: Context, field: str, raw: str) -> Any:
    """Reads a value typed in chat for `field`; refuses it politely with what was expected."""
    raw = raw.strip()
    kind = ctx.playbook.field_types.get(field)
    if raw == "" or fold(raw) in EMPTY_WORDS:
        if field == "status":
            raise Refusal("bad_value", field=field, value=raw, expected=" | ".join(ACCOUNT_STATUSES))
        return None
    try:
        if field == "status":
            key = fold(raw)
            status = STATUS_WORDS.get(key, key)
            if status not in ACCOUNT_STATUSES:
                raise ValueProblem("bad_choice", " | ".join(ACCOUNT_STATUSES))
            return status
        if field == "sector":
            key = fold(raw)
            sector = SECTOR_WORDS.get(key)
            if sector is None:
                raise ValueProblem("bad_choice", " | ".join(SECTORS))
            return sector
        if kind == "number":
            return parse_quantity(field, raw)
        if kind == "bool":
            return parse_bool(raw)
        if kind == "date":
            if fold(raw) in TODAY_WORDS:
                return ctx.today()
            return parse_date(raw, ctx.playbook.tz)
        return raw
    except ValueProblem as problem:
        raise Refusal("bad_value", field=field, value=raw, expected=problem.expected) from None


def account_set(ctx: Context, account: str, changes: dict[str, str],
                expected: dict[str, str] | None = None) -> Reply:
    """Changes fields, the profile override or the tier; all or nothing, audited. `expected`
    (from a form) holds the values the form showed: when one moved since, nothing is saved and
    the reply says so with the new value, so a change made meanwhile is never silently reverted."""
    parsed = _parse_changes(ctx, changes)
    shown = _parse_changes(ctx, expected or {})
    with session_scope(ctx.engine) as session:
        acc = locks.lock(session, resolve_account(session, account, ctx))
        ctx.require("change", owner=acc.owner)
        for field, value in shown.items():
            current = _current(ctx, acc, field)
            if _comparable(current) != _comparable(value):
                raise Refusal("changed_meanwhile", field=field, account=acc.name, value=jsonable(current))
        return _apply(ctx, session, acc, parsed)


def _current(ctx: Context, acc, field: str) -> Any:
    if field == "profile":
        return acc.profile_override
    if field == "tier":
        return acc.tier_override
    if field in ACCOUNT_FIELDS:
        return getattr(acc, field)
    return typed_value((acc.custom or {}).get(field), ctx.playbook.field_types.get(field))


def _comparable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def _parse_changes(ctx: Context, changes: dict[str, str]) -> dict[str, Any]:
    custom_fields = {k for k in ctx.playbook.field_types if k not in ACCOUNT_FIELDS}
    custom_fields -= {"days_since_last_contact", "open_deals", "open_pipeline", "won_deals", "conversion_likelihood"}
    settable = [f for f in ACCOUNT_FIELDS if f != "name"] + ["profile", "tier"] + sorted(custom_fields)
    parsed: dict[str, Any] = {}
    for key, raw in changes.items():
        field = SETTABLE_ALIASES.get(fold(key), key)
        field = SETTABLE_ALIASES.get(field, field)
        if field not in settable:
            raise Refusal("unknown_field", field=key, suggestions=queries.closest(key, settable), known=settable)
        if field == "profile":
            key_ = fold(raw)
            if key_ in AUTO_WORDS + NO_PROFILE_WORDS + ("",):
                parsed[field] = None
            else:
                pid = ctx.playbook.find_profile(raw)
                if pid is None:
                    raise Refusal("bad_value", field="profile", value=raw,
                                  expected="keep | acquire | win_back | expand | auto")
                parsed[field] = pid
        elif field == "tier":
            if fold(raw) in AUTO_WORDS + NO_PROFILE_WORDS + ("",):
                parsed[field] = None
            elif raw.strip() in ("1", "2", "3"):
                parsed[field] = int(raw)
            else:
                raise Refusal("bad_value", field="tier", value=raw, expected="1 | 2 | 3 | auto")
        else:
            parsed[field] = _field_value(ctx, field, raw)
    return parsed


def _apply(ctx: Context, session, acc, parsed: dict[str, Any]) -> Reply:
    """Writes the parsed changes (the owner change checked first), audits them, and answers."""
    if "owner" in parsed and parsed["owner"] is not None:
        parsed["owner"] = known_owner(session, parsed["owner"])
    if "owner" in parsed and fold(parsed["owner"] or "") != fold(acc.owner or ""):
        ctx.require("reassign", owner=acc.owner, new_owner=parsed["owner"])
    diff: dict[str, list] = {}
    custom_changes: dict[str, Any] = {}
    for field, value in parsed.items():
        if field == "profile":
            old = acc.profile_override
            if old != value:
                acc.profile_override = value
                acc.profile_override_by = ctx.actor if value else None
                acc.profile_override_at = ctx.now() if value else None
                diff["profile"] = [old, value]
        elif field == "tier":
            if acc.tier_override != value:
                diff["tier"] = [acc.tier_override, value]
                acc.tier_override = value
        elif field in ACCOUNT_FIELDS:
            old = getattr(acc, field)
            if old != value:
                diff[field] = [old, value]
                setattr(acc, field, value)
                if field == "status":
                    acc.status_source = "chat"  # deals imported later do not override it
        else:
            old = (acc.custom or {}).get(field)
            stored = value.isoformat() if isinstance(value, date) else value
            if old != stored:
                diff[field] = [old, stored]
                custom_changes[field] = stored
    if custom_changes:
        acc.custom = locks.merge_custom(acc.custom, custom_changes)
    if diff:
        acc.updated_at = utcnow()
        session.add(acc)
        queries.audit(session, ctx.who, "account", "update", entity_id=acc.id, entity_name=acc.name,
                      changes=diff)
        session.flush()
    view = account_views(session, ctx, [acc])[0]
    data = account_data(view, ctx)
    data["changes"] = [{"field": k, "old": v[0], "new": v[1]} for k, v in diff.items()]
    return Reply("account_set", data)
