"""Records as real CRMs give them, in chat: names several deals share ("which one?" and #id),
deals without an account, stage time estimated when the CRM never gave a stage-entry date,
close dates passed, amounts in several currencies. Driven as users type, on SQLite and
PostgreSQL; the playbook's pure rules (stage windows, aliases, [currency]) tested alone."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from bot.render import render
from handlers.registry import run
from handlers.reply import Context
from playbook.config import PlaybookError, load, parse
from playbook.money import totals
from playbook.stage_aging import Visit, deal_timing
from store.database import session_scope
from store.models import Account, Deal, StageVisit

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def seed(engine) -> dict[str, int]:
    """Two "Renewal 2026" (Globex, Initech); a deal without account; one open since long ago
    whose stage-entry date the CRM never gave; one in dollars past its close date."""
    with session_scope(engine) as s:
        globex, initech = Account(name="Globex", owner="alice"), Account(name="Initech", owner="bob")
        s.add_all([globex, initech])
        s.flush()
        deals = {
            "g": Deal(name="Renewal 2026", account_id=globex.id, owner="alice", stage="proposal", amount=48_000,
                      created_at=NOW - 60 * DAY),
            "i": Deal(name="Renewal 2026", account_id=initech.id, owner="bob", stage="negotiation", amount=30_000,
                      currency="USD", close_date=date(2025, 5, 1), created_at=NOW - 90 * DAY),
            "web": Deal(name="Website redesign", owner="alice", stage="discovery", amount=5_000,
                        created_at=NOW - 3 * DAY),
            "old": Deal(name="Umbrella platform", account_id=initech.id, owner="bob", stage="qualification",
                        amount=250_000, currency="USD", created_at=NOW - 480 * DAY),
        }
        s.add_all(deals.values())
        s.flush()
        s.add_all([
            StageVisit(deal_id=deals["g"].id, stage="proposal", entered_at=NOW - 10 * DAY),
            StageVisit(deal_id=deals["i"].id, stage="negotiation", entered_at=NOW - 5 * DAY),
            StageVisit(deal_id=deals["web"].id, stage="discovery", entered_at=NOW - 3 * DAY),
            # Imported yesterday with no stage-entry date: the stay began before, nobody knows when.
            StageVisit(deal_id=deals["old"].id, stage="qualification", entered_at=NOW - DAY, estimated=True),
        ])
        return {k: d.id for k, d in deals.items()}


@pytest.fixture
def ids(engine):
    return seed(engine)


@pytest.fixture
def ctx(engine, playbook, ids):
    return Context(engine=engine, playbook=playbook, actor="alice", language="en", clock=lambda: NOW)


def test_a_shared_name_asks_which_one_and_an_id_picks_it(ctx, ids):
    reply = run(ctx, "deal Renewal 2026 stage negotiation")
    assert not reply.ok and reply.data["error"] == "ambiguous" and reply.data["kind"] == "deal"
    assert [(c["id"], c["account"], c["owner"], c["stage_name"]) for c in reply.data["candidates"]] == [
        (ids["g"], "Globex", "alice", "Proposal"), (ids["i"], "Initech", "bob", "Negotiation")]
    text = render(reply, language="en")
    assert "Several deals are called “Renewal 2026”. Which one?" in text and f"#{ids['g']}  Renewal 2026 – Globex" in text
    assert "Plusieurs affaires s'appellent" in render(reply, language="fr")
    # Slack: one button per candidate, running the same command on it.
    blocks = render(reply, surface="slack", language="en", command="deal Renewal 2026 stage negotiation")["blocks"]
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        ("gare_run_1", f"deal #{ids['g']} stage negotiation"), ("gare_run_2", f"deal #{ids['i']} stage negotiation")]

    moved = run(ctx, f"deal #{ids['g']} stage negotiation")
    assert moved.ok and moved.data["account"] == "Globex" and moved.data["stage"] == "negotiation"
    assert run(ctx, "deal #999999").data["error"] == "unknown_deal"
    assert run(ctx, f"checklist #{ids['i']}").data["account"] == "Initech"


def test_a_deal_without_account_says_so(ctx, ids):
    card = run(ctx, "deal Website redesign")
    assert card.ok and card.data["account"] is None and card.data["account_missing"]
    assert "account missing" in render(card, language="en") and "No account:" in render(card, language="en")
    for command in ("checklist Website redesign", "fit Website redesign"):
        refused = run(ctx, command)
        assert refused.data == {"error": "no_account", "deal": "Website redesign"}
        assert "has no account in the CRM" in render(refused, language="en")
    assert run(ctx, "deals frozen").ok and run(ctx, "account Globex").ok


def test_estimated_frozen_deal_and_close_date_passed(ctx, ids):
    frozen = run(ctx, "deals frozen")
    assert [(d["deal"], d["estimated"]) for d in frozen.data["deals"]] == [("Umbrella platform", True)]
    old = frozen.data["deals"][0]
    assert (old["open_days"], old["window_days"], old["indicator"], old["state"]) == (480.0, 35.0, 445.0, "stuck")
    assert frozen.data["totals"] == [{"currency": "EUR", "amount": 0.0}, {"currency": "USD", "amount": 250000.0}]
    assert [d["deal"] for d in frozen.data["overdue"]] == ["Renewal 2026"]
    text = render(frozen, language="en")
    assert "open 480 d, 35 d standard up to this stage (estimated: no stage-entry date in the CRM)" in text
    assert "close date passed" in text and "0 d /" not in text
    card = render(run(ctx, "deal Umbrella platform"), language="en")
    assert "estimated" in card and "stuck somewhere" in card
    slack = render(frozen, surface="slack", language="en")
    assert any("estimated" in b.get("text", {}).get("text", "") for b in slack["blocks"] if b["type"] == "section")


def test_the_nudge_and_the_digest_carry_the_flags(engine, playbook, ids):
    from handlers.manager_digest import manager_digest_data
    from handlers.rep_nudge import rep_nudge_data

    manager = parse(playbook.raw | {"teams": {"t": {"manager": "claire", "members": ["alice", "bob"]}}}, "test")
    ctx = Context(engine=engine, playbook=manager, actor="claire", language="en", clock=lambda: NOW)
    with session_scope(engine) as session:
        nudge = rep_nudge_data(session, ctx, "bob")
        digest = manager_digest_data(session, ctx, "claire")
    assert [d["deal"] for d in nudge["frozen"]] == ["Umbrella platform"] and nudge["frozen"][0]["estimated"]
    assert [d["deal"] for d in nudge["overdue"]] == ["Renewal 2026"]
    assert (digest["frozen_estimated"], digest["overdue_count"]) == (1, 1)
    from handlers.reply import Reply
    for template, data in (("rep_nudge", nudge), ("manager_digest", digest)):
        for surface in ("text", "slack"):
            out = render(Reply(template, data), surface=surface, language="en")
            assert "estimated" in str(out) and "close date" in str(out)


def test_totals_convert_with_playbook_rates_and_never_mix_currencies():
    playbook = load_with({"currency": {"code": "EUR", "rates": {"USD": 0.9}}})
    assert (playbook.currency, playbook.rates) == ("EUR", {"USD": 0.9})
    assert totals([(100, "USD"), (50, None), (10, "GBP"), (None, "USD")], playbook) == [
        {"currency": "EUR", "amount": 140.0}, {"currency": "GBP", "amount": 10.0}]


def test_stage_windows_and_estimated_timing(playbook):
    assert [playbook.stuck_window(s.id) for s in playbook.stages] == [21.0, 35.0, 59.5, 70.0, 98.0]
    recent = deal_timing("solution", "open", [Visit("solution", NOW - DAY, estimated=True)], NOW, playbook,
                         opened_at=NOW - 30 * DAY)
    assert (recent.state, recent.estimated, recent.indicator, recent.open_days) == ("on_track", True, None, 30.0)
    old = deal_timing("solution", "open", [Visit("solution", NOW - DAY, estimated=True)], NOW, playbook,
                      opened_at=NOW - 100 * DAY)
    assert (old.state, old.indicator) == ("stuck", 40.5)
    # Known entry dates are judged as always; an estimated stay is never a skipped step.
    moved = deal_timing("proposal", "open", [Visit("solution", NOW - 2 * DAY, NOW - DAY, estimated=True),
                                             Visit("proposal", NOW - DAY)], NOW, playbook)
    assert (moved.estimated, moved.skipped_stages) == (False, [])


def test_stage_aliases_are_matched_like_names_and_checked_at_load(playbook):
    assert playbook.find_stage("proposal/price quote").id == "proposal"
    assert playbook.find_stage("Décideur impliqué").id == "proposal"
    assert playbook.find_stage("CONTRACTSENT").id == "negotiation"
    assert playbook.nearest_stage("Contract signed").id == "negotiation"
    with pytest.raises(PlaybookError, match="already names the stage 'proposal'"):
        load_with(stage_aliases={"negotiation": ["Proposal/Quote"]})
    with pytest.raises(PlaybookError, match="is a deal outcome"):
        load_with(stage_aliases={"negotiation": ["Closed Won"]})
    with pytest.raises(PlaybookError, match=r"\[import.date_order\]|import\.date_order"):
        load_with({"import": {"date_order": "ymd"}})
    with pytest.raises(PlaybookError, match="currency.rates.USD"):
        load_with({"currency": {"code": "EUR", "rates": {"USD": 0}}})


def load_with(extra: dict | None = None, stage_aliases: dict | None = None):
    from playbook.config import DEFAULT_PLAYBOOK

    raw = dict(load(DEFAULT_PLAYBOOK).raw)
    raw |= extra or {}
    if stage_aliases:
        raw["pipeline"] = dict(raw["pipeline"], stages=[
            dict(s, aliases=s.get("aliases", []) + stage_aliases.get(s["id"], [])) for s in raw["pipeline"]["stages"]])
    return parse(raw, "test.toml")
