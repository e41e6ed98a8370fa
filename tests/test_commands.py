"""The core grammar driven as a rep would type it, against SQLite and PostgreSQL. Replies are
checked both as data (what `gare ask --json` prints) and as rendered text in both languages."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from bot.render import render
from handlers.registry import run_command
from handlers.reply import Context
from store.database import session_scope
from store.models import Account, AuditRecord, Deal, StageVisit

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
TODAY = NOW.date()


def seed(engine):
    with session_scope(engine) as s:
        acme = Account(name="Société Acme", owner="alice", status="customer", industry="retail", employees=500,
                       margin_pct=25, exec_sponsor=True, lifetime_value=400_000, annual_revenue=150_000_000,
                       last_contact=TODAY - timedelta(days=10), custom={"nps": "40"})
        tiny = Account(name="Tiny Co", owner="bob", status="prospect", employees=8, annual_revenue=900_000)
        thin = Account(name="Thin Margins SA", owner="bob", status="customer", margin_pct=3, exec_sponsor=True,
                       employees=80, industry="logistics", lifetime_value=50_000)
        gone = Account(name="Ancienne Maison", owner="alice", status="former", margin_pct=20, employees=60)
        s.add_all([acme, tiny, thin, gone])
        s.flush()
        renewal = Deal(name="Acme Renewal", account_id=acme.id, owner="alice", stage="proposal", amount=120_000)
        pilot = Deal(name="Tiny Pilot", account_id=tiny.id, owner="bob", stage="qualification", amount=8_000)
        rush = Deal(name="Acme Expansion", account_id=acme.id, owner="alice", stage="proposal", amount=60_000)
        s.add_all([renewal, pilot, rush])
        s.flush()
        s.add_all([
            StageVisit(deal_id=renewal.id, stage="solution", entered_at=NOW - timedelta(days=70),
                       left_at=NOW - timedelta(days=40)),
            StageVisit(deal_id=renewal.id, stage="proposal", entered_at=NOW - timedelta(days=40)),
            StageVisit(deal_id=pilot.id, stage="qualification", entered_at=NOW - timedelta(days=5)),
            StageVisit(deal_id=rush.id, stage="qualification", entered_at=NOW - timedelta(days=12),
                       left_at=NOW - timedelta(days=11)),
            StageVisit(deal_id=rush.id, stage="proposal", entered_at=NOW - timedelta(days=11)),
        ])


@pytest.fixture
def ctx(engine, playbook):
    seed(engine)
    return Context(engine=engine, playbook=playbook, actor="alice", owner="alice", language="en",
                   clock=lambda: NOW)


def ask(ctx, text):
    return run_command(ctx, text)


def text_of(ctx, reply, language="en"):
    return render(reply, language=language)


def test_fit_json_has_verdict_traits_and_boxes(ctx):
    reply = ask(ctx, "fit Thin Margins SA")
    assert reply.ok and reply.template == "fit"
    d = reply.data
    assert d["account"] == "Thin Margins SA" and d["verdict"] == "misfit"
    [trait] = d["matched_traits"]
    assert set(trait) >= {"id", "why", "who_feels_pain", "severity"}
    assert trait["id"] == "thin_margin" and trait["severity"] == "blocking"
    assert d["success_boxes"] == {"total": 5, "filled": 1, "empty": 4}
    assert "Why it hurts" in text_of(ctx, reply)


def test_fit_questions_in_english_and_french_and_accent_insensitive_names(ctx):
    for text in ("is societe acme a fit?", "est-ce que Société Acme convient ?", "fit SOCIETE ACME"):
        reply = ask(ctx, text)
        assert reply.ok and reply.data["account"] == "Société Acme", text
    assert ask(ctx, "fit Tiny Co").data["unknown_traits"]


def test_unknown_account_suggests_the_closest_names(ctx):
    reply = ask(ctx, "fit Acmee")
    assert not reply.ok and reply.data["error"] == "unknown_account"
    assert reply.data["suggestions"][0] == "Société Acme"
    assert "Société Acme" in text_of(ctx, reply)
    assert "Vouliez-vous dire" in text_of(ctx, reply, "fr")


def test_account_card_shows_profile_rule_tier_deals_and_actions(ctx):
    d = ask(ctx, "account Société Acme").data
    assert d["profile"] == "expand" and d["decided_by"] == "rule" and "lifetime_value" in d["rule"]
    assert d["tier"] == 1 and not d["let_go"]
    assert {x["deal"] for x in d["deals"]} == {"Acme Renewal", "Acme Expansion"}
    assert d["actions"] and "executive sponsor" in d["actions"][0]


def test_let_go_account_gets_no_profile_and_the_recommendation(ctx):
    d = ask(ctx, "account thin margins sa").data
    assert d["profile"] is None and d["let_go"] and d["let_go_action"]
    assert "Let go" in text_of(ctx, ask(ctx, "account thin margins sa"))


def test_deal_json_gives_stage_time_indicator_and_state(ctx):
    d = ask(ctx, "deal Acme Renewal").data
    assert (d["stage"], d["days_at_stage"], d["standard_days"], d["indicator"], d["state"]) == (
        "proposal", 40.0, 14.0, 26.0, "stuck")
    assert ask(ctx, "deal acme expansion").data["state"] == "skipped"
    assert ask(ctx, "deal tiny pilot").data["state"] == "on_track"


def test_deals_frozen_and_skipped_with_owner_filters(ctx):
    frozen = ask(ctx, "deals frozen").data
    assert [x["deal"] for x in frozen["deals"]] == ["Acme Renewal"] and frozen["total_amount"] == 120_000
    assert ask(ctx, "deals frozen bob").data["deals"] == []
    assert ask(ctx, "affaires gelées @me").data["owner"] == "alice"
    assert [x["deal"] for x in ask(ctx, "deals skipped").data["deals"]] == ["Acme Expansion"]
    bad = ask(ctx, "deals frozen zoe")
    assert not bad.ok and bad.data["error"] == "unknown_owner"


def test_accounts_filters_by_profile_in_either_language_tier_and_owner(ctx):
    assert [a["account"] for a in ask(ctx, "accounts expand").data["accounts"]] == ["Société Acme"]
    assert [a["account"] for a in ask(ctx, "comptes étendre").data["accounts"]] == ["Société Acme"]
    assert [a["account"] for a in ask(ctx, "accounts reconquérir").data["accounts"]] == ["Ancienne Maison"]
    assert [a["account"] for a in ask(ctx, "accounts let_go").data["accounts"]] == ["Thin Margins SA"]
    assert {a["account"] for a in ask(ctx, "accounts owner=bob").data["accounts"]} == {"Tiny Co", "Thin Margins SA"}
    assert all(a["tier"] == 3 for a in ask(ctx, "accounts tier=3").data["accounts"])
    assert ask(ctx, "accounts growth").data["error"] == "unknown_profile"


def test_tiers_counts_add_up(ctx):
    d = ask(ctx, "tiers").data
    assert sum(d["counts"].values()) == d["total"] == 4


def test_stages_json_is_a_list_with_name_and_standard_days(ctx):
    data = ask(ctx, "stages").data
    assert isinstance(data, list) and data[0]["name"] == "Discovery" and data[0]["standard_days"] == 14


def test_account_set_changes_fields_override_and_tier_with_audit(ctx):
    reply = ask(ctx, "account Tiny Co set employees=120 exec_sponsor=oui margin_pct=18,5 profile=acquire tier=2")
    assert reply.ok, reply.data
    d = reply.data
    assert d["profile"] == "acquire" and d["decided_by"] == "override" and d["override_by"] == "alice"
    assert d["tier"] == 2 and d["fields"]["employees"] == 120 and d["fields"]["margin_pct"] == 18.5
    with session_scope(ctx.engine) as s:
        audit = s.exec(select(AuditRecord).where(AuditRecord.entity_name == "Tiny Co")).all()
        assert audit and audit[-1].actor == "alice" and audit[-1].changes["employees"] == [8, 120]


def test_bad_values_are_refused_and_change_nothing(ctx):
    for text, code in [("account Tiny Co set employees=many", "bad_value"),
                       ("account Tiny Co set colour=blue", "unknown_field"),
                       ("account Tiny Co set status=partner", "bad_value"),
                       ("account Tiny Co set employees=5 last_contact=yesterday", "bad_value")]:
        reply = ask(ctx, text)
        assert not reply.ok and reply.data["error"] == code, text
    with session_scope(ctx.engine) as s:
        tiny = s.exec(select(Account).where(Account.name == "Tiny Co")).one()
        assert tiny.employees == 8 and tiny.status == "prospect"
    assert "Nothing was changed" in text_of(ctx, ask(ctx, "account Tiny Co set employees=many"))


def test_moving_a_deal_keeps_its_stage_history(ctx):
    reply = ask(ctx, "deal Tiny Pilot stage Conception de la solution")
    assert reply.ok and reply.data["stage"] == "solution" and reply.data["previous_stage"] == "qualification"
    assert reply.data["days_at_stage"] == 0 and reply.data["state"] == "on_track"
    with session_scope(ctx.engine) as s:
        deal = s.exec(select(Deal).where(Deal.name == "Tiny Pilot")).one()
        stays = s.exec(select(StageVisit).where(StageVisit.deal_id == deal.id).order_by(StageVisit.entered_at)).all()
        assert [(v.stage, v.left_at is None) for v in stays] == [("qualification", False), ("solution", True)]
    bad = ask(ctx, "deal Tiny Pilot stage signed")
    assert bad.data["error"] == "unknown_stage" and "Proposal" in bad.data["stages"]


def test_nurture_takes_a_frozen_deal_out_of_the_pipeline_and_back(ctx):
    reply = ask(ctx, "deal Acme Renewal nurture budget frozen until Q3")
    assert reply.ok and reply.data["status"] == "nurture" and reply.data["nurture_reason"] == "budget frozen until Q3"
    assert ask(ctx, "deals frozen").data["deals"] == []
    assert ask(ctx, "deal Acme Renewal nurture").data["unchanged"] is True
    back = ask(ctx, "deal Acme Renewal stage proposal")
    assert back.data["status"] == "open" and back.data["reopened"] and back.data["days_at_stage"] == 0


def test_checklist_answers_change_the_fit(ctx):
    assert ask(ctx, "fit Société Acme").data["verdict"] == "unclear"
    reply = ask(ctx, "checklist Acme Renewal tick pain budget")
    assert reply.ok and reply.data["success_boxes"]["filled"] == 3
    assert ask(ctx, "fit Acme Renewal").data["verdict"] == "fit"
    # The account's own checklist is separate from the deal's.
    assert ask(ctx, "fit Société Acme").data["verdict"] == "unclear"
    assert ask(ctx, "checklist Acme Renewal tick nonsense").data["error"] == "unknown_item"


@pytest.mark.parametrize("text, code", [("fit", "bad_syntax"), ("deal", "bad_syntax"), ("deals", "bad_syntax"),
                                        ("frobnicate Acme", "unknown_command"), ("accounts tier=7", "bad_tier"),
                                        ("deal nope nope", "unknown_deal")])
def test_bad_syntax_says_what_was_expected_in_both_languages(ctx, text, code):
    reply = ask(ctx, text)
    assert not reply.ok and reply.data["error"] == code
    en, fr = text_of(ctx, reply, "en"), text_of(ctx, reply, "fr")
    assert en.strip() and fr.strip() and en != fr
    assert "Traceback" not in en + fr


def test_every_reply_renders_in_french_without_english_leftovers(ctx):
    for text in ("fit Société Acme", "account Société Acme", "deal Acme Renewal", "deals frozen", "tiers",
                 "stages", "accounts", "help", "checklist Acme Renewal"):
        fr = text_of(ctx, ask(ctx, text), "fr")
        for english in ("Why it hurts", "Profile:", "Stage:", "frozen deal", "Which accounts first",
                        "standard time", "Commands", "Potential for success"):
            assert english not in fr, (text, english)


def test_dates_are_shown_in_the_playbooks_time_zone(ctx):
    # A stage entered at 23:30 UTC on 1 Nov is 2 Nov in Paris (the playbook's zone).
    with session_scope(ctx.engine) as s:
        deal = s.exec(select(Deal).where(Deal.name == "Tiny Pilot")).one()
        visit = s.exec(select(StageVisit).where(StageVisit.deal_id == deal.id)).one()
        visit.entered_at = datetime(2026, 11, 1, 23, 30, tzinfo=timezone.utc)
        s.add(visit)
    reply = ask(ctx, "deal Tiny Pilot")
    assert reply.data["entered_stage_at"].isoformat().startswith("2026-11-02T00:30:00+01:00")
    assert "Nov 2, 2026" in text_of(ctx, reply)
