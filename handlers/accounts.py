"""Account commands: `account <name>`, `account <name> set field=value …`, `accounts [profile]
[tier=N] [owner=…]` and `tiers` (the pyramid)."""
from __future__ import annotations

from datetime import date
from typing import Any

from playbook.words import (
    AUTO_WORDS, EMPTY_WORDS, LET_GO_WORDS, NO_PROFILE_WORDS, SECTOR_WORDS, SETTABLE_ALIASES, STATUS_WORDS, fold,
)
from handlers.reply import Context, Refusal, Reply
from handlers.records import AccountView, account_views, deal_data, resolve_account, resolve_owner
from playbook.config import ACCOUNT_FIELDS, PROFILE_IDS, localized
from playbook.profiles import common_actions
from playbook.tiers import pyramid
from store import queries
from store.database import session_scope
from store.models import ACCOUNT_STATUSES, SECTORS, utcnow
from store.values import ValueProblem, parse_bool, parse_date, parse_number

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


def accounts(ctx: Context, profile: str | None = None, tier: int | None = None, owner: str | None = None) -> Reply:
    profile_id = None
    if profile:
        key = fold(profile)
        if key in LET_GO_WORDS:
            profile_id = "let_go"
        elif key in NO_PROFILE_WORDS:
            profile_id = "none"
        else:
            profile_id = ctx.playbook.find_profile(profile)
            if profile_id is None:
                raise Refusal("unknown_profile", name=profile)
    with session_scope(ctx.engine) as session:
        owner = resolve_owner(session, ctx, owner)
        views = account_views(session, ctx, queries.list_accounts(session, owner=owner), with_timings=False)
    rows = []
    for view in views:
        s = view.assessment
        if profile_id == "let_go" and not s.profile.let_go:
            continue
        if profile_id == "none" and (s.profile.profile or s.profile.let_go):
            continue
        if profile_id in PROFILE_IDS and s.profile.profile != profile_id:
            continue
        if tier is not None and s.tier.tier != tier:
            continue
        rows.append(account_summary(view, ctx))
    rows.sort(key=lambda r: (r["tier"], -r["score"], fold(r["account"])))
    return Reply("accounts", {"filters": {"profile": profile_id, "tier": tier, "owner": owner},
                              "accounts": rows, "count": len(rows)})


def tiers(ctx: Context, tier: int | None = None, owner: str | None = None) -> Reply:
    with session_scope(ctx.engine) as session:
        owner = resolve_owner(session, ctx, owner)
        views = account_views(session, ctx, queries.list_accounts(session, owner=owner), with_timings=False)
    shape = pyramid(v.assessment.tier.tier for v in views)
    top = {1: [], 2: [], 3: []}
    at_risk = []
    for v in sorted(views, key=lambda v: -v.assessment.tier.score):
        top[v.assessment.tier.tier].append(v.account.name)
        if v.assessment.tier.at_risk:
            at_risk.append(v.account.name)
    return Reply("tiers", {
        "owner": owner,
        "counts": {str(k): n for k, n in shape["counts"].items()},
        "total": shape["total"],
        "is_pyramid": shape["is_pyramid"],
        "top": {str(k): names[:5] for k, names in top.items()},
        "at_risk": at_risk,
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
            value = parse_number(raw)
            return int(value) if field == "employees" else value
        if kind == "bool":
            return parse_bool(raw)
        if kind == "date":
            return parse_date(raw, ctx.playbook.tz)
        return raw
    except ValueProblem as problem:
        raise Refusal("bad_value", field=field, value=raw, expected=problem.expected) from None


def account_set(ctx: Context, account: str, changes: dict[str, str]) -> Reply:
    """Changes fields, the profile override or the tier; all or nothing, audited."""
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

    with session_scope(ctx.engine) as session:
        acc = resolve_account(session, account, ctx)
        diff: dict[str, list] = {}
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
                custom = dict(acc.custom or {})
                old = custom.get(field)
                stored = value.isoformat() if isinstance(value, date) else value
                if old != stored:
                    diff[field] = [old, stored]
                    if stored is None:
                        custom.pop(field, None)
                    else:
                        custom[field] = stored
                    acc.custom = custom
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
