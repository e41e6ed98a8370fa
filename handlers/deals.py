"""Deal commands: `deal <name>` (stage time against the standard), `deal <name> stage <stage>`,
`deal <name> nurture [reason]`, `deals frozen|skipped [owner]` and `stages`."""
from __future__ import annotations

from datetime import timezone

from playbook.words import AUTO_WORDS, DEAL_SETTABLE_ALIASES, EMPTY_WORDS, NO_PROFILE_WORDS, TODAY_WORDS, fold
from playbook.assessment import time_deal
from playbook.config import localized
from playbook.money import home_total, totals
from playbook.stage_aging import overdue_by, stuck_limits
from handlers.reply import Context, Refusal, Reply
from handlers.rep_nudge import frozen_row, tiers_of
from handlers.records import (
    checklist_assessment, deal_data, kind_label, list_owners, list_scope, refresh_skipped, resolve_deal,
    stage_label,
)
from playbook.method import needs_gate_confirmation
from store import assessed, frozen as frozen_store, locks, queries
from store.database import session_scope
from store.models import Account, Deal, OutboxMessage, StageVisit, utcnow
from store.queries import jsonable
from store.values import ValueProblem, parse_date, parse_quantity

OVERDUE_SHOWN = 20  # open deals past their close date listed under the frozen ones


def _one(session, ctx: Context, deal) -> dict:
    visits = queries.visits_by_deal(session, [deal.id]).get(deal.id, [])
    timing = time_deal(queries.deal_record(deal), visits, ctx.now(), ctx.playbook)
    account = session.get(Account, deal.account_id) if deal.account_id is not None else None
    data = deal_data(ctx, deal, timing, account.name if account else None)
    data["history"] = [dict(h, stage_name=stage_label(ctx, h["stage"]), entered_at=ctx.local(h["entered_at"]),
                            left_at=ctx.local(h["left_at"])) for h in timing.history]
    spec = ctx.playbook.stage(deal.stage)
    data["stuck_after_days"] = spec.stuck_after_days if spec else None
    if timing.state == "stuck" and deal.status == "open":
        # A frozen renewal or expansion (or a top-tier deal) calls for the manager, not nurture.
        tier = tiers_of(session, ctx, [account.id]).get(account.id) if account else None
        row = frozen_row(ctx, deal, timing, data["account"], tier)
        data.update(treatment=row["treatment"], advice=row["advice"])
    return data


def deal(ctx: Context, deal: str) -> Reply:
    with session_scope(ctx.engine) as session:
        return Reply("deal", _one(session, ctx, resolve_deal(session, deal, ctx)))


def deal_stage(ctx: Context, deal: str, stage: str, confirm: str | None = None) -> Reply:
    """Moves a deal; the full stage history is kept. Moving a misfit's deal across the gate
    stage asks for a confirmation with a reason (`confirm REASON`), audited for the manager."""
    spec = ctx.playbook.find_stage(stage)
    with session_scope(ctx.engine) as session:
        d = locks.lock(session, resolve_deal(session, deal, ctx))
        ctx.require("change", owner=d.owner)
        if spec is None:
            raise Refusal("unknown_stage", name=stage,
                          stages=[localized(s.name, ctx.language) for s in ctx.playbook.stages])
        if d.status in ("won", "lost"):
            raise Refusal("deal_closed", deal=d.name, status=d.status)
        gate = _gate(session, ctx, d, spec.id, confirm)
        if isinstance(gate, Reply):
            return gate
        previous = d.stage
        if d.stage == spec.id and d.status == "open":
            data = _one(session, ctx, d)
            data["unchanged"] = True
            return Reply("deal_stage", data)
        was_nurture = d.status == "nurture"
        nurture_days = None
        if was_nurture:
            stay = next((h for h in reversed(time_deal(queries.deal_record(d), queries.visits_by_deal(
                session, [d.id]).get(d.id, []), ctx.now(), ctx.playbook).history) if h["stage"] == NURTURE), None)
            nurture_days = stay["days"] if stay else None
            # Back from nurture: the buyer has matured; the deal re-enters the rep's pipeline.
            d.status, d.nurture_reason = "open", None
            queries.audit(session, ctx.who, "deal", "reopen", entity_id=d.id, entity_name=d.name,
                          changes={"status": ["nurture", "open"]})
        if d.stage == spec.id:
            queries.reopen_visit(session, d, ctx.now())
        else:
            queries.move_stage(session, d, spec.id, ctx.now(), ctx.who)
        if gate is not None:
            queries.audit(session, ctx.who, "deal", "misfit_override", entity_id=d.id, entity_name=d.name,
                          changes={"stage": [previous, spec.id], "reason": gate["reason"],
                                   "traits": [t["id"] for t in gate["traits"]]})
        d.updated_at = utcnow()
        session.add(d)
        session.flush()
        data = _one(session, ctx, d)
        data.update(unchanged=False, previous_stage=previous, previous_stage_name=stage_label(ctx, previous),
                    reopened=was_nurture, nurture_days=nurture_days)
        return Reply("deal_stage", data)


def _gate(session, ctx: Context, d, to_stage: str, confirm: str | None) -> Reply | dict | None:
    """None when the move needs no confirmation; the misfit_gate question when it does and none
    was given; the confirmed override ({reason, traits}) otherwise."""
    gate = ctx.playbook.method.gate_stage
    account = session.get(Account, d.account_id) if d.account_id else None
    if gate is None or account is None or ctx.playbook.stage_index(d.stage) > ctx.playbook.stage_index(gate):
        return None  # no gate, no account to judge, or already past the gate
    fit = checklist_assessment(session, ctx, account, d).fit
    if not needs_gate_confirmation(ctx.playbook, fit.verdict, to_stage):
        return None
    traits = [{"id": t["id"], "label": t["label"], "why": t["why"], "who_feels_pain": t["who_feels_pain"]}
              for t in fit.matched_traits if t["severity"] == "blocking"]
    if confirm is None:
        return Reply("misfit_gate", {"deal": d.name, "account": account.name, "owner": d.owner,
                                     "stage": to_stage, "stage_name": stage_label(ctx, to_stage),
                                     "gate_stage_name": stage_label(ctx, gate), "traits": traits}, ok=False)
    reason = " ".join(confirm.split())
    if not reason:
        raise Refusal("gate_reason_missing", deal=d.name)
    if len(reason) > 500:
        raise Refusal("too_long", field="reason", limit=500)
    return {"reason": reason, "traits": traits}


def deal_nurture(ctx: Context, deal: str, reason: str | None = None) -> Reply:
    """A frozen deal leaves the rep's pipeline for marketing nurture, with the reason recorded;
    marketing hears of it in the playbook's nurture channel (and in the weekly nurture list)."""
    reason = " ".join((reason or "").split()) or None
    with session_scope(ctx.engine) as session:
        d = locks.lock(session, resolve_deal(session, deal, ctx))
        ctx.require("change", owner=d.owner)
        if d.status == "nurture":
            data = _one(session, ctx, d)
            data.update(unchanged=True, marketing_told=False)
            return Reply("deal_nurture", data)
        if d.status in ("won", "lost"):
            raise Refusal("deal_closed", deal=d.name, status=d.status)
        if reason is None and ctx.playbook.method.nurture_reason_required:
            raise Refusal("nurture_reason_missing", deal=d.name)
        if reason is not None and len(reason) > 500:
            raise Refusal("too_long", field="reason", limit=500)
        now = ctx.now()
        d.status, d.nurture_reason, d.updated_at = "nurture", reason, utcnow()
        queries.close_open_visits(session, d, now)
        session.add(StageVisit(deal_id=d.id, stage=NURTURE, entered_at=now))  # time in nurture is kept
        session.add(d)
        queries.audit(session, ctx.who, "deal", "nurture", entity_id=d.id, entity_name=d.name,
                      changes={"status": ["open", "nurture"], "reason": [None, reason]})
        session.flush()
        data = _one(session, ctx, d)
        data["unchanged"] = False
        channel = ctx.playbook.method.nurture_channel
        if channel:
            session.add(OutboxMessage(kind="nurture_handover", platform="slack", channel=channel,
                                      language=ctx.playbook.language, data=jsonable(handover_data(data, ctx))))
        data["marketing_told"] = bool(channel)
        return Reply("deal_nurture", data)


NURTURE = "nurture"  # the stage name of a stay in marketing nurture, in the stage history


def handover_data(data: dict, ctx: Context) -> dict:
    """What marketing reads about a deal handed to nurture."""
    return {"deal": data["deal"], "account": data["account"], "owner": data["owner"], "reason": data["nurture_reason"],
            "stage_name": data["stage_name"], "amount": data["amount"], "kind": data.get("kind"),
            "since": ctx.today()}


FROZEN_PAGE = 15  # frozen deals a list shows at a time, on every surface


def deals_frozen(ctx: Context, owner: str | None = None, everyone: bool = False, page: int = 1) -> Reply:
    """Open deals stuck at their stage (estimated ones included, marked), longest overdue first,
    a page at a time; then the open deals whose close date has passed although their stage time
    is not over. The database counts and totals them all and hands over the few a page can show
    (store.frozen), which are then timed exactly: a pipeline of 300,000 open deals is never read."""
    now = ctx.now()
    limits, own_kinds = stuck_limits(ctx.playbook, now.astimezone(timezone.utc))
    with session_scope(ctx.engine) as session:
        owners = list_owners(session, ctx, owner, everyone)
        count, estimated, sums, frozen_past = frozen_store.frozen_totals(session, limits, own_kinds, owners,
                                                                         ctx.today())
        pages = max(1, -(-count // FROZEN_PAGE))
        page = min(page, pages)  # past the end: the last page, as the chat pagers do
        candidates = frozen_store.frozen_candidates(session, limits, own_kinds, owners, page * FROZEN_PAGE) \
            if count else []
        ranked = sorted(candidates, key=lambda c: (-_overdue(ctx, limits, c, now), c[1], c[0]))
        shown = [c[0] for c in ranked[(page - 1) * FROZEN_PAGE: page * FROZEN_PAGE]]
        overdue_count = frozen_store.past_close_date(session, owners, ctx.today()) - frozen_past
        overdue_ids = frozen_store.first_past_close_date(session, limits, own_kinds, owners, ctx.today(),
                                                         OVERDUE_SHOWN) if overdue_count else []
        deals, names, visits = queries.open_deals_matching(session, Deal.id.in_(shown + overdue_ids)) \
            if shown or overdue_ids else ([], {}, {})
    rows = _timed_rows(ctx, shown, deals, names, visits)
    overdue = sorted(_timed_rows(ctx, overdue_ids, deals, names, visits),
                     key=lambda r: (r["close_date"] or ctx.today(), fold(r["deal"])))
    shown_owner, team_of = list_scope(ctx, owner, owners)
    return Reply("deals_frozen", {"owner": shown_owner, "team_of": team_of, "everyone": everyone and owner is None,
                                  "deals": rows, "count": count, "page": page, "pages": pages,
                                  "total_amount": home_total(sums, ctx.playbook),
                                  "totals": totals(sums, ctx.playbook), "estimated": estimated,
                                  "overdue": overdue, "overdue_count": overdue_count})


def _timed_rows(ctx: Context, ids, deals, names, visits) -> list[dict]:
    """The deals of `ids`, in that order, as lists show them: timed now."""
    by_id, now = {d.id: d for d in deals}, ctx.now()
    return [deal_data(ctx, by_id[i], time_deal(queries.deal_record(by_id[i]), visits.get(i, []), now, ctx.playbook),
                      names.get(by_id[i].account_id)) for i in ids if i in by_id]


def _overdue(ctx: Context, limits, candidate, now) -> float:
    """A candidate's days over its standard (or over its window, when judged by it)."""
    _, began, position, by_window = candidate
    limit = limits[position]
    return overdue_by(began, limit.window_days if by_window else limit.standard_days, now, ctx.playbook)


SKIPPED_PAGE = 15  # deals that skipped a step a list shows at a time, on every surface


def deals_skipped(ctx: Context, owner: str | None = None, everyone: bool = False, page: int = 1) -> Reply:
    """Open deals whose history shows a stage cut short or jumped over, by owner then name, a
    page at a time: the database counts and pages them from what is stored on each deal
    (refresh_skipped judges first the deals changed since), and only the page's are timed."""
    refresh_skipped(ctx)
    with session_scope(ctx.engine) as session:
        owners = list_owners(session, ctx, owner, everyone)
        count = assessed.skipped_count(session, owners)
        pages = max(1, -(-count // SKIPPED_PAGE))
        page = min(page, pages)  # past the end: the last page, as the chat pagers do
        ids = assessed.skipped_page(session, owners, (page - 1) * SKIPPED_PAGE, SKIPPED_PAGE) if count else []
        deals, names, visits = queries.open_deals_matching(session, Deal.id.in_(ids)) if ids else ([], {}, {})
    rows = _timed_rows(ctx, ids, deals, names, visits)
    shown_owner, team_of = list_scope(ctx, owner, owners)
    return Reply("deals_skipped", {"owner": shown_owner, "team_of": team_of, "everyone": everyone and owner is None,
                                   "deals": rows, "count": count, "page": page, "pages": pages})


def stages(ctx: Context) -> Reply:
    return Reply("stages", [
        {"id": s.id, "name": localized(s.name, ctx.language), "standard_days": s.standard_days,
         "stuck_after_days": s.stuck_after_days, "skipped_under_days": s.skipped_under_days,
         "probability_pct": s.probability_pct}
        for s in ctx.playbook.stages
    ])


def deal_snooze(ctx: Context, deal: str, until, reason: str | None = None) -> Reply:
    """Silence nudges about a deal until a date, for a reason the rep states (a known wait, such
    as the buyer's budget cycle): a nudge that is always ignored teaches reps to ignore nudges."""
    from datetime import date as _date

    from store.values import ValueProblem, parse_date

    if isinstance(until, str):
        try:
            until = parse_date(until, ctx.playbook.tz)
        except ValueProblem:
            raise Refusal("bad_value", field="until", value=until, expected="date") from None
    if not isinstance(until, _date):
        raise Refusal("bad_value", field="until", value=str(until or ""), expected="date")
    if until <= ctx.today():
        raise Refusal("snooze_not_future", until=until, today=ctx.today())
    reason = (reason or "").strip()
    if not reason:
        raise Refusal("snooze_reason_missing")
    if len(reason) > 500:
        raise Refusal("too_long", field="reason", limit=500)
    with session_scope(ctx.engine) as session:
        d = locks.lock(session, resolve_deal(session, deal, ctx))
        ctx.require("change", owner=d.owner)
        if d.status in ("won", "lost"):
            raise Refusal("deal_closed", deal=d.name, status=d.status)
        unchanged = d.snoozed_until == until and d.snooze_reason == reason
        if not unchanged:
            queries.audit(session, ctx.who, "deal", "snooze", entity_id=d.id, entity_name=d.name,
                          changes={"snoozed_until": [d.snoozed_until, until], "snooze_reason": [d.snooze_reason, reason]})
            d.snoozed_until, d.snooze_reason, d.updated_at = until, reason, utcnow()
            session.add(d)
            session.flush()
        data = _one(session, ctx, d)
        data["unchanged"] = unchanged
        return Reply("deal_snooze", data)


# What chat may change on a deal; the stage has its own command (its history matters), the
# owner comes from the CRM.
DEAL_SETTABLE = ("kind", "amount", "currency", "close_date")


def deal_set(ctx: Context, deal: str, changes: dict[str, str]) -> Reply:
    """Changes a deal's kind (new business, renewal, expansion: it decides whether a frozen deal
    is escalated or nurtured), amount, currency or close date; all or nothing, audited."""
    parsed = {field: _deal_value(ctx, field, raw) for field, raw in _deal_fields(changes).items()}
    with session_scope(ctx.engine) as session:
        d = locks.lock(session, resolve_deal(session, deal, ctx))
        ctx.require("change", owner=d.owner)
        diff = {f: [getattr(d, f), v] for f, v in parsed.items() if getattr(d, f) != v}
        if diff:
            for field, (_old, new) in diff.items():
                setattr(d, field, new)
            d.updated_at = utcnow()
            session.add(d)
            queries.audit(session, ctx.who, "deal", "update", entity_id=d.id, entity_name=d.name, changes=diff)
            session.flush()
        data = _one(session, ctx, d)
        data["changes"] = [{"field": f, "old": _shown(ctx, f, old, d), "new": _shown(ctx, f, new, d)}
                           for f, (old, new) in diff.items()]
        return Reply("deal_set", data)


def _deal_fields(changes: dict[str, str]) -> dict[str, str]:
    out = {}
    for key, raw in changes.items():
        field = DEAL_SETTABLE_ALIASES.get(fold(key).replace(" ", "_"), fold(key))
        if field not in DEAL_SETTABLE:
            raise Refusal("unknown_field", field=key, suggestions=queries.closest(key, list(DEAL_SETTABLE)),
                          known=list(DEAL_SETTABLE))
        out[field] = raw
    return out


def _deal_value(ctx: Context, field: str, raw: str):
    """A value typed in chat for a deal field, or a polite refusal saying what was expected."""
    from store.imports.deals import currency_code

    raw = raw.strip()
    empty = raw == "" or fold(raw) in EMPTY_WORDS
    try:
        if field == "kind":
            if empty or fold(raw) in AUTO_WORDS + NO_PROFILE_WORDS:
                return None
            kind = ctx.playbook.find_deal_kind(raw)
            if kind is None:
                raise ValueProblem("bad_choice", " | ".join(
                    kind_label(ctx, k.id).lower() for k in ctx.playbook.deal_kinds))
            return kind
        if empty:
            return None
        if field == "amount":
            return parse_quantity("amount", raw)
        if field == "currency":
            return currency_code(raw)
        if fold(raw) in TODAY_WORDS:
            return ctx.today()
        return parse_date(raw, ctx.playbook.tz)
    except ValueProblem as problem:
        raise Refusal("bad_value", field=field, value=raw, expected=problem.expected) from None


def _shown(ctx: Context, field: str, value, d):
    """A changed value as the reader sees it: a kind by its name, an amount with its currency."""
    if field == "kind":
        return kind_label(ctx, value) if value else None
    if field == "amount" and value is not None:
        return {"amount": value, "currency": d.currency or ctx.playbook.currency}
    return value
