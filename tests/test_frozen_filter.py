"""`deals frozen` lets the database pick the deals that may be stuck (their stay began before
their stage's limit for their kind), then judges those alone: it must find exactly the deals
judging every open deal finds, stuck or past their close date, in calendar and business days,
for kinds with their own standard times and for stays whose start is estimated; and its pages,
counts and totals, drawn by the database, must show exactly those deals, each once, longest
overdue first."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, or_

from handlers.records import open_deals_timed, possibly_frozen
from handlers.registry import run as run_command
from handlers.reply import Context
from playbook.assessment import time_deal
from playbook.config import load
from playbook.stage_aging import frozen_deals
from store import queries
from store.database import session_scope
from store.models import Account, Deal, StageVisit

from conftest import ROOT

STAGES = ["discovery", "qualification", "solution", "proposal", "negotiation"]
KINDS = [None, "new_business", "renewal", "expansion"]
# Friday evening and Monday morning (Paris): where business days and calendar days part most.
MOMENTS = [datetime(2027, 4, 9, 19, 30, tzinfo=timezone.utc), datetime(2027, 4, 12, 6, 15, tzinfo=timezone.utc)]


def playbook_with(tmp_path, day_count: str):
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('day_count = "calendar"', f'day_count = "{day_count}"')
    text = text.replace('[deal_kinds.renewal]\n', '[deal_kinds.renewal]\nstandard_days = { negotiation = 30, proposal = 5 }\n')
    path = tmp_path / f"{day_count}.toml"
    path.write_text(text, encoding="utf-8")
    return load(path)


def seed(engine, playbook, now: datetime) -> int:
    """Open deals at every stage and kind whose stay began every 3 hours from 3 days before to 3
    days after their stage's limit (in calendar days) (those with an estimated start were also created around the
    pipeline's window), some with an earlier stay; some past their close date; a few won; and deals just entered."""
    deals, visits = [], []
    with session_scope(engine) as session:
        session.execute(insert(Account.__table__), [{"name": "Filter Co", "owner": "alice", "status": "customer",
                                                     "custom": {}, "created_at": now, "updated_at": now}])
    step = 0
    for stage in STAGES:
        for kind in KINDS:
            # Business days: about 5 of every 7 calendar days count.
            stretch = 7 / 5 if playbook.day_count == "business" else 1
            limit = playbook.stage_for(stage, kind).stuck_after_days * stretch
            window = playbook.stuck_window(stage, kind) * stretch
            for hours in range(-72, 73, 3):
                step += 1
                estimated = step % 3 == 0
                entered = now - timedelta(days=limit if not estimated else limit / 2, hours=hours)
                created = now - timedelta(days=window, hours=hours) if estimated else entered - timedelta(days=step % 40)
                deals.append({"id": step, "name": f"Deal {step:04d}", "account_id": 1, "owner": "alice",
                              "stage": stage, "kind": kind, "status": "won" if step % 23 == 0 else "open",
                              "created_at": created, "updated_at": now, "amount": 100.0,
                              "close_date": (now - timedelta(days=step % 11 - 5)).date()})
                if step % 4 == 1:
                    visits.append({"deal_id": step, "stage": STAGES[(STAGES.index(stage) + 4) % 5],
                                   "entered_at": entered - timedelta(days=30), "left_at": entered, "estimated": False})
                visits.append({"deal_id": step, "stage": stage, "entered_at": entered, "left_at": None,
                               "estimated": estimated})
    for fresh in range(step + 1, step + 41):  # entered today, due next month: never candidates
        deals.append({"id": fresh, "name": f"Fresh {fresh:04d}", "account_id": 1, "owner": "alice",
                      "stage": STAGES[fresh % 5], "kind": KINDS[fresh % 4], "status": "open", "created_at": now,
                      "updated_at": now, "amount": 100.0, "close_date": (now + timedelta(days=30)).date()})
        visits.append({"deal_id": fresh, "stage": STAGES[fresh % 5], "entered_at": now - timedelta(hours=1),
                       "left_at": None, "estimated": fresh % 2 == 0})
    with session_scope(engine) as session:
        session.execute(insert(Deal.__table__), deals)
        session.execute(insert(StageVisit.__table__), visits)
    return len(deals)


def candidates_timed(session, ctx) -> list[tuple]:
    """What the nudges time: the open deals the database finds frozen or past their close date."""
    deals, names, visits = queries.open_deals_matching(session, or_(possibly_frozen(ctx), Deal.close_date < ctx.today()))
    return [(d, names.get(d.account_id), time_deal(queries.deal_record(d), visits.get(d.id, []), ctx.now(), ctx.playbook))
            for d in deals]


def judged(timed, today: date) -> tuple[list[int], list[int]]:
    stuck = [d.id for (d, _), _ in frozen_deals([((d, a), t) for d, a, t in timed])]
    overdue = sorted(d.id for d, _, t in timed if d.close_date is not None and d.close_date < today and d.id not in stuck)
    return stuck, overdue


@pytest.mark.parametrize("day_count", ["calendar", "business"])
def test_the_database_filter_keeps_every_frozen_and_overdue_deal(engine, tmp_path, day_count):
    playbook = playbook_with(tmp_path, day_count)
    total = seed(engine, playbook, MOMENTS[0])
    for now in MOMENTS:
        ctx = Context(engine=engine, playbook=playbook, actor="ops", clock=lambda now=now: now)
        with session_scope(engine) as session:
            every = open_deals_timed(session, ctx)
            candidates = candidates_timed(session, ctx)
        stuck, overdue = judged(every, ctx.today())
        assert stuck and overdue
        assert judged(candidates, ctx.today()) == (stuck, overdue)
        assert len(candidates) < len(every) < total  # the filter leaves out deals that cannot be stuck


@pytest.mark.parametrize("day_count", ["calendar", "business"])
def test_deals_frozen_pages_show_exactly_the_frozen_deals_longest_overdue_first(engine, tmp_path, day_count):
    playbook = playbook_with(tmp_path, day_count)
    seed(engine, playbook, MOMENTS[0])
    for now in MOMENTS:
        ctx = Context(engine=engine, playbook=playbook, actor="ops", language="en", clock=lambda now=now: now)
        with session_scope(engine) as session:
            every = open_deals_timed(session, ctx)
        stuck = frozen_deals([((d, a), t) for d, a, t in every])
        stuck_ids = {d.id for (d, _), _ in stuck}
        first = run_command(ctx, "deals frozen all").data
        assert first["count"] == len(stuck) and first["pages"] == -(-len(stuck) // 15) > 1
        assert first["estimated"] == sum(1 for _, t in stuck if t.estimated)
        assert first["totals"][0]["amount"] == pytest.approx(sum(d.amount for (d, _), _ in stuck))
        shown = [row for page in range(1, first["pages"] + 1)
                 for row in run_command(ctx, f"deals frozen all page={page}").data["deals"]]
        assert sorted(r["deal"] for r in shown) == sorted(d.name for (d, _), _ in stuck)  # each once
        assert [r["indicator"] for r in shown] == sorted((r["indicator"] for r in shown), reverse=True)
        assert all(r["state"] == "stuck" for r in shown)
        # Past the last page: the last page, as the chat pagers do.
        assert run_command(ctx, f"deals frozen all page={first['pages'] + 5}").data["page"] == first["pages"]
        overdue = sorted((d for d, _, _ in every if d.close_date < ctx.today() and d.id not in stuck_ids),
                         key=lambda d: (d.close_date, d.name))
        assert first["overdue_count"] == len(overdue)
        assert [r["deal"] for r in first["overdue"]] == [d.name for d in overdue[:20]]


def test_a_page_that_is_not_a_whole_number_is_refused_and_says_how(engine, tmp_path):
    ctx = Context(engine=engine, playbook=playbook_with(tmp_path, "calendar"), actor="ops", language="en")
    for text in ("deals frozen all page=two", "deals frozen page=0", "accounts page=-1"):
        reply = run_command(ctx, text)
        assert not reply.ok and reply.data["error"] == "bad_value" and reply.data["field"] == "page", text
