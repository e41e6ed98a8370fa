"""`deals skipped` reads what is stored on each deal (did its history cut a stage short or jump
one?), judged again whenever the deal or its stays change and when the playbook does: its pages
must show exactly the open deals judging every deal's history finds, each once, and a stage
moved in chat must show at once."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import insert

from handlers.records import open_deals_timed
from handlers.registry import run as run_command
from handlers.reply import Context
from playbook.config import load
from playbook.stage_aging import skipped_deals
from store.database import session_scope
from store.models import Account, Deal, StageVisit

from conftest import ROOT

STAGES = ["discovery", "qualification", "solution", "proposal", "negotiation"]
NOW = datetime(2027, 3, 10, 9, 0, tzinfo=timezone.utc)


def seed(engine, deals: int = 90) -> None:
    """Deals whose earlier stays lasted from a few hours to three weeks, some moving over a
    stage, owned by three reps; a few closed."""
    with session_scope(engine) as session:
        session.execute(insert(Account.__table__), [{"name": "Skip Co", "owner": "alice", "status": "customer",
                                                     "custom": {}, "created_at": NOW, "updated_at": NOW}])
    rows, visits = [], []
    for i in range(1, deals + 1):
        hops = [0, 1 + (i % 3 == 0), 3] if i % 2 else [0, 1, 2]  # every third odd one jumps a stage
        entered = NOW - timedelta(days=60)
        for n, hop in enumerate(hops):
            stay = timedelta(hours=6 + (i * 37 % 500)) if n < len(hops) - 1 else None
            visits.append({"deal_id": i, "stage": STAGES[hop], "entered_at": entered,
                           "left_at": entered + stay if stay else None, "estimated": False})
            entered = entered + stay if stay else entered
        rows.append({"id": i, "name": f"Skip {i:03d}", "account_id": 1, "owner": ["alice", "bruno", "chloe"][i % 3],
                     "stage": STAGES[hops[-1]], "status": "won" if i % 17 == 0 else "open", "created_at": NOW,
                     "updated_at": NOW, "amount": 10.0})
    with session_scope(engine) as session:
        session.execute(insert(Deal.__table__), rows)
        session.execute(insert(StageVisit.__table__), visits)


def every_page(ctx, command: str) -> tuple[dict, list[dict]]:
    first = run_command(ctx, command).data
    rows = first["deals"] + [row for page in range(2, first["pages"] + 1)
                             for row in run_command(ctx, f"{command} page={page}").data["deals"]]
    return first, rows


def judged(ctx) -> list[str]:
    with session_scope(ctx.engine) as session:
        every = open_deals_timed(session, ctx)
    return sorted(d.name for (d, _), _ in skipped_deals([((d, a), t) for d, a, t in every]))


def test_pages_show_exactly_the_deals_whose_history_skipped_a_step(engine, playbook):
    seed(engine)
    ctx = Context(engine=engine, playbook=playbook, actor="ops", language="en", clock=lambda: NOW)
    expected = judged(ctx)
    first, rows = every_page(ctx, "deals skipped all")
    assert first["count"] == len(expected) and first["pages"] > 1
    assert sorted(r["deal"] for r in rows) == expected  # each once
    assert [(r["owner"], r["deal"]) for r in rows] == sorted((r["owner"], r["deal"]) for r in rows)
    assert all(r["skipped_stages"] for r in rows)
    mine, rows = every_page(ctx, "deals skipped bruno")
    assert mine["owner"] == "bruno" and {r["owner"] for r in rows} == {"bruno"}
    assert sorted(r["deal"] for r in rows) == [n for n in expected if int(n[-3:]) % 3 == 1]


def test_a_stage_moved_in_chat_and_a_new_playbook_are_judged_before_the_list_is_read(engine, playbook, tmp_path):
    seed(engine, deals=12)
    ctx = Context(engine=engine, playbook=playbook, actor="ops", language="en", clock=lambda: NOW)
    before = run_command(ctx, "deals skipped all").data["count"]
    skipped = judged(ctx)
    with session_scope(engine) as session:
        at_solution = [d.name for d in session.query(Deal).filter(Deal.stage == "solution", Deal.status == "open")]
    calm = next(name for name in at_solution if name not in skipped)
    # From solution straight to negotiation: proposal is jumped over.
    moved = run_command(ctx, f'deal "{calm}" stage negotiation')
    assert moved.ok, moved.data
    after = run_command(ctx, "deals skipped all").data
    assert calm in [r["deal"] for r in after["deals"]] and after["count"] == before + 1 == len(judged(ctx))
    # A playbook that forgives every short stay: only the jumps are left.
    text = (ROOT / "config.toml").read_text(encoding="utf-8").replace("skipped_tolerance_pct = 70",
                                                                      "skipped_tolerance_pct = 99")
    (tmp_path / "lenient.toml").write_text(text, encoding="utf-8")
    lenient = Context(engine=engine, playbook=load(tmp_path / "lenient.toml"), actor="ops", language="en",
                      clock=lambda: NOW)
    assert run_command(lenient, "deals skipped all").data["count"] == len(judged(lenient)) < after["count"]
