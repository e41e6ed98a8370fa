"""Deal commands: `deal <name>` (stage time against the standard), `deal <name> stage <stage>`,
`deal <name> nurture [reason]`, `deals frozen|skipped [owner]` and `stages`."""
from __future__ import annotations

from playbook.words import fold
from playbook.assessment import time_deal
from playbook.config import localized
from playbook.money import home_total, totals
from playbook.stage_aging import frozen_deals, skipped_deals
from handlers.reply import Context, Refusal, Reply
from handlers.records import deal_data, open_deals_timed, resolve_deal, resolve_owner, stage_label
from store import queries
from store.database import session_scope
from store.models import Account, utcnow

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
    return data


def deal(ctx: Context, deal: str) -> Reply:
    with session_scope(ctx.engine) as session:
        return Reply("deal", _one(session, ctx, resolve_deal(session, deal, ctx)))


def deal_stage(ctx: Context, deal: str, stage: str) -> Reply:
    spec = ctx.playbook.find_stage(stage)
    with session_scope(ctx.engine) as session:
        d = resolve_deal(session, deal, ctx)
        if spec is None:
            raise Refusal("unknown_stage", name=stage,
                          stages=[localized(s.name, ctx.language) for s in ctx.playbook.stages])
        if d.status in ("won", "lost"):
            raise Refusal("deal_closed", deal=d.name, status=d.status)
        previous = d.stage
        if d.stage == spec.id and d.status == "open":
            data = _one(session, ctx, d)
            data["unchanged"] = True
            return Reply("deal_stage", data)
        was_nurture = d.status == "nurture"
        if was_nurture:
            # Back from nurture: the buyer has matured; the deal re-enters the rep's pipeline.
            d.status, d.nurture_reason = "open", None
            queries.audit(session, ctx.who, "deal", "reopen", entity_id=d.id, entity_name=d.name,
                          changes={"status": ["nurture", "open"]})
        if d.stage == spec.id:
            queries.reopen_visit(session, d, ctx.now())
        else:
            queries.move_stage(session, d, spec.id, ctx.now(), ctx.who)
        d.updated_at = utcnow()
        session.add(d)
        session.flush()
        data = _one(session, ctx, d)
        data.update(unchanged=False, previous_stage=previous, previous_stage_name=stage_label(ctx, previous),
                    reopened=was_nurture)
        return Reply("deal_stage", data)


def deal_nurture(ctx: Context, deal: str, reason: str | None = None) -> Reply:
    """A frozen deal leaves the rep's pipeline for marketing nurture, with the reason recorded."""
    with session_scope(ctx.engine) as session:
        d = resolve_deal(session, deal, ctx)
        if d.status == "nurture":
            data = _one(session, ctx, d)
            data["unchanged"] = True
            return Reply("deal_nurture", data)
        if d.status in ("won", "lost"):
            raise Refusal("deal_closed", deal=d.name, status=d.status)
        if reason is not None and len(reason) > 500:
            raise Refusal("too_long", field="reason", limit=500)
        d.status, d.nurture_reason, d.updated_at = "nurture", reason, utcnow()
        queries.close_open_visits(session, d, ctx.now())
        session.add(d)
        queries.audit(session, ctx.who, "deal", "nurture", entity_id=d.id, entity_name=d.name,
                      changes={"status": ["open", "nurture"], "reason": [None, reason]})
        session.flush()
        data = _one(session, ctx, d)
        data["unchanged"] = False
        return Reply("deal_nurture", data)


def deals_frozen(ctx: Context, owner: str | None = None) -> Reply:
    """Open deals stuck at their stage (estimated ones included, marked), longest overdue first;
    then the open deals whose close date has passed although their stage time is not over."""
    with session_scope(ctx.engine) as session:
        owner = resolve_owner(session, ctx, owner)
        timed = open_deals_timed(session, ctx, [owner] if owner else None)
    stuck = frozen_deals([((d, a), t) for d, a, t in timed])
    rows = [deal_data(ctx, d, t, a) for (d, a), t in stuck]
    frozen = {r["id"] for r in rows}
    overdue = sorted((deal_data(ctx, d, t, a) for d, a, t in timed if d.id not in frozen),
                     key=lambda r: (r["close_date"] or ctx.today(), fold(r["deal"])))
    overdue = [r for r in overdue if r["close_date_passed"]]
    amounts = [(r["amount"], r["currency"]) for r in rows]
    return Reply("deals_frozen", {"owner": owner, "deals": rows, "count": len(rows),
                                  "total_amount": home_total(amounts, ctx.playbook),
                                  "totals": totals(amounts, ctx.playbook),
                                  "estimated": sum(1 for r in rows if r["estimated"]),
                                  "overdue": overdue[:OVERDUE_SHOWN], "overdue_count": len(overdue)})


def deals_skipped(ctx: Context, owner: str | None = None) -> Reply:
    with session_scope(ctx.engine) as session:
        owner = resolve_owner(session, ctx, owner)
        timed = open_deals_timed(session, ctx, [owner] if owner else None)
    skipped = skipped_deals([((d, a), t) for d, a, t in timed])
    rows = [deal_data(ctx, d, t, a) for (d, a), t in skipped]
    rows.sort(key=lambda r: (fold(r["owner"] or ""), fold(r["deal"])))
    return Reply("deals_skipped", {"owner": owner, "deals": rows, "count": len(rows)})


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
        d = resolve_deal(session, deal, ctx)
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
