"""Two people changing the same record at the same moment, on SQLite and PostgreSQL: both
changes are kept (none silently undone), and a deal never has two open stage stays.

Each round starts two threads on a barrier, each typing its own command as a rep would; after
the round the record holds both values. GARE_CONCURRENCY_ROUNDS sets the rounds (100 here)."""
from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from handlers.registry import run_command
from handlers.reply import Context
from store.database import make_engine, session_scope
from store.models import Account, AuditRecord, Deal, StageVisit

ROUNDS = int(os.environ.get("GARE_CONCURRENCY_ROUNDS", "100"))
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def book(db_url, playbook):
    # Its own engine per thread pool: a pool of several connections, as the server has.
    engine = make_engine(db_url)
    with session_scope(engine) as s:
        acme = Account(name="Société Acme", owner="alice", status="customer", industry="retail", employees=500,
                       margin_pct=25, exec_sponsor=True, custom={"segment": "retail"})
        s.add(acme)
        s.flush()
        deal = Deal(name="Acme Renewal", account_id=acme.id, owner="alice", stage="proposal", amount=120_000)
        s.add(deal)
        s.flush()
        s.add(StageVisit(deal_id=deal.id, stage="proposal", entered_at=NOW - timedelta(days=3)))
        ids = acme.id, deal.id
    yield engine, playbook, ids
    engine.dispose()


def _ctx(engine, playbook, actor):
    return Context(engine=engine, playbook=playbook, actor=actor, owner=None, language="en", clock=lambda: NOW)


def _together(*commands):
    """Runs each (ctx, text) in its own thread, released at the same instant; the replies."""
    barrier = threading.Barrier(len(commands))
    replies: list = [None] * len(commands)
    errors: list = []

    def run(i, ctx, text):
        barrier.wait()
        try:
            replies[i] = run_command(ctx, text)
        except Exception as exc:  # a crash is a failure of the test, reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c, t)) for i, (c, t) in enumerate(commands)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return replies


def test_two_people_setting_different_custom_fields_at_once_both_kept(book):
    engine, playbook, (account_id, _) = book
    alice, bruno = _ctx(engine, playbook, "alice"), _ctx(engine, playbook, "bruno")
    lost = []
    for n in range(ROUNDS):
        a, b = _together((alice, f"account #{account_id} set nps={n}"),
                         (bruno, f"account #{account_id} set churn_reason=reason{n}"))
        assert a.ok and b.ok, (a, b)
        with session_scope(engine) as s:
            custom = s.get(Account, account_id).custom
        if custom.get("nps") != n or custom.get("churn_reason") != f"reason{n}":
            lost.append((n, custom))
        assert custom.get("segment") == "retail"  # a field nobody touched stays
    assert lost == [], f"{len(lost)} of {ROUNDS} rounds lost a change: {lost[:3]}"
    with session_scope(engine) as s:
        audited = s.exec(select(func.count()).select_from(AuditRecord)
                         .where(AuditRecord.entity == "account", AuditRecord.action == "update")).one()
    assert audited == 2 * ROUNDS


def test_two_people_setting_the_same_field_end_with_one_of_their_values_and_each_audited_from_the_last(book):
    engine, playbook, (account_id, _) = book
    alice, bruno = _ctx(engine, playbook, "alice"), _ctx(engine, playbook, "bruno")
    for n in range(min(ROUNDS, 30)):
        _together((alice, f"account #{account_id} set employees={1000 + n}"),
                  (bruno, f"account #{account_id} set employees={2000 + n}"))
    with session_scope(engine) as s:
        records = s.exec(select(AuditRecord).where(AuditRecord.action == "update").order_by(AuditRecord.id)).all()
        final = s.get(Account, account_id).employees
    # Serialised: each change's "old" is the value the previous one wrote, an unbroken chain.
    chain = [r.changes["employees"] for r in records]
    for before, after in zip(chain, chain[1:]):
        assert after[0] == before[1]
    assert final == chain[-1][1]


def test_two_people_moving_one_deal_at_once_leave_one_open_stay(book):
    engine, playbook, (_, deal_id) = book
    alice, bruno = _ctx(engine, playbook, "alice"), _ctx(engine, playbook, "bruno")
    stages = [s.id for s in playbook.stages]
    doubled = []
    for n in range(ROUNDS):
        to_a, to_b = stages[n % len(stages)], stages[(n + 2) % len(stages)]
        a, b = _together((alice, f"deal #{deal_id} stage {to_a}"), (bruno, f"deal #{deal_id} stage {to_b}"))
        assert a.ok and b.ok, (a, b)
        with session_scope(engine) as s:
            open_ = s.exec(select(StageVisit).where(StageVisit.deal_id == deal_id,
                                                    StageVisit.left_at.is_(None))).all()
            stage = s.get(Deal, deal_id).stage
        if len(open_) != 1:
            doubled.append((n, [v.stage for v in open_]))
        elif open_[0].stage != stage:
            doubled.append((n, f"open stay at {open_[0].stage}, deal at {stage}"))
    assert doubled == [], f"{len(doubled)} of {ROUNDS} rounds: {doubled[:3]}"


def test_the_database_refuses_a_second_open_stay_of_one_deal(book):
    engine, _, (_, deal_id) = book
    with pytest.raises(IntegrityError):
        with session_scope(engine) as s:
            s.add(StageVisit(deal_id=deal_id, stage="negotiation", entered_at=NOW))
    with session_scope(engine) as s:  # a closed stay is fine, as many as the history has
        s.add(StageVisit(deal_id=deal_id, stage="solution", entered_at=NOW - timedelta(days=9),
                         left_at=NOW - timedelta(days=3)))
