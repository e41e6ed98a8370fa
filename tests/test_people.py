"""People: who is speaking, and what they may do. Driven as Slack drives Gare (signed requests,
the Web API stand-in answering users.info, users.list and users.lookupByEmail) and from the
console with --as, on SQLite and PostgreSQL. Nobody can act as someone else through a name;
every change checks the role; the first weekly run after import + sync reaches everyone."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.nudges import run_weekly
from bot.slack.sync import sync_slack
from handlers import registry
from handlers.people import console_context
from slack_harness import NOW, all_text
from store.database import session_scope
from store.models import Account, AuditRecord, Deal, Person
from store.queries import Actor


def _account_of(engine, owner: str) -> str:
    with session_scope(engine) as s:
        return s.exec(select(Account).where(Account.owner == owner).order_by(Account.name)).first().name


def _open_deal_of(engine, owner: str) -> str:
    with session_scope(engine) as s:
        return s.exec(select(Deal).where(Deal.owner == owner, Deal.status == "open").order_by(Deal.name)).first().name


def _margin(engine, name: str):
    with session_scope(engine) as s:
        return s.exec(select(Account).where(Account.name == name)).one().margin_pct


def _user(rig, user_id: str, **fields) -> None:
    profile = fields.pop("profile")
    rig.fake.users[user_id] = {"id": user_id, "name": user_id.lower(), "locale": "en-US", **fields,
                               "profile": profile}


# --- impersonation through Slack ------------------------------------------------------------------

@pytest.mark.parametrize("user_id, user", [
    # A display name and a real name equal to a manager's owner name identify nobody.
    ("U_FAKE_CLAIRE", {"real_name": "claire", "profile": {"email": "zed@example.com", "display_name": "claire",
                                                          "real_name": "claire"}}),
    # david's local part on another domain is not david.
    ("U_CONTRACTOR", {"real_name": "David", "profile": {"email": "david@contractor.example", "display_name": "david"}}),
    # A guest with a team member's address is a guest.
    ("U_GUEST", {"is_restricted": True, "profile": {"email": "alice@example.com", "display_name": "alice"}}),
    ("U_SINGLE", {"is_ultra_restricted": True, "profile": {"email": "bruno@example.com"}}),
    # A deactivated account stays unlinked.
    ("U_GONE", {"deleted": True, "profile": {"email": "emma@example.com"}}),
    ("U_BOTTY", {"is_bot": True, "profile": {"email": "farid@example.com"}}),
])
def test_nobody_is_taken_for_someone_else(rig, user_id, user):
    _user(rig, user_id, **user)
    name = _account_of(rig.engine, "alice")
    before = _margin(rig.engine, name)
    changed = rig.wait_response(rig.command(f'account "{name}" set margin_pct=1', user=user_id))
    assert "I don't know who you are yet" in all_text(changed["blocks"])
    read = rig.wait_response(rig.command("deals frozen", user=user_id))
    assert "I don't know who you are yet" in all_text(read["blocks"])  # unlinked_can_read = false
    me = rig.wait_response(rig.command("whoami", user=user_id))
    assert "I don't know who you are yet." in all_text(me["blocks"])
    assert _margin(rig.engine, name) == before
    with session_scope(rig.engine) as s:
        assert s.exec(select(Person).where(Person.slack_id == user_id)).first() is None


def test_a_verified_company_email_links_the_person_once(rig):
    me = rig.wait_response(rig.command("whoami", user="U_CLAIRE"))
    text = all_text(me["blocks"])
    assert "You are claire (Claire Roux), manager." in text and "verified company e-mail" in text
    assert "alice, bruno, chloe" in text
    again = rig.wait_response(rig.command("whoami", user="U_CLAIRE"))
    assert "linked to you in the directory" in all_text(again["blocks"])
    assert len(rig.fake.of("users.info")) == 1


def test_unlinked_users_may_read_only_when_the_playbook_says_so(rig):
    from dataclasses import replace

    rig.shell.playbook = replace(rig.playbook, people=replace(rig.playbook.people, unlinked_can_read=True))
    read = rig.wait_response(rig.command("stages", user="U_NOBODY"))
    assert "standard" in all_text(read["blocks"]).lower()
    name = _account_of(rig.engine, "alice")
    refused = rig.wait_response(rig.command(f'account "{name}" set margin_pct=1', user="U_NOBODY"))
    assert "I don't know who you are yet" in all_text(refused["blocks"])


# --- permissions, through Slack and its buttons ---------------------------------------------------

def test_a_rep_cannot_change_another_reps_account_or_deal(rig):
    name, deal = _account_of(rig.engine, "alice"), _open_deal_of(rig.engine, "alice")
    before = _margin(rig.engine, name)
    msg = rig.wait_response(rig.command(f'account "{name}" set margin_pct=1', user="U_BRUNO"))
    assert "alice" in all_text(msg["blocks"]) and "Rien n'a été modifié" in all_text(msg["blocks"])  # bruno: de-DE → fr
    assert _margin(rig.engine, name) == before
    nurture = rig.wait_response(rig.command(f'deal "{deal}" nurture no budget', user="U_BRUNO"))
    assert "alice" in all_text(nurture["blocks"])
    with session_scope(rig.engine) as s:
        assert s.exec(select(Deal).where(Deal.name == deal)).one().status == "open"


def test_the_nurture_modal_is_checked_when_submitted_not_only_when_opened(rig):
    deal = _open_deal_of(rig.engine, "alice")
    card = rig.wait_response(rig.command(f'deal "{deal}"', user="U_ALICE"))
    rig.click("U_ALICE", card["blocks"], "gare_nurture", deal)
    view = rig.wait_call("views.open")["view"]
    # Bruno submits the modal alice opened (a forged or shared submission): refused at submit.
    status, body = rig.submit("U_BRUNO", view, {"reason": {"type": "plain_text_input", "value": "no budget"}})
    assert status == 200 and body.get("response_action") == "errors"
    with session_scope(rig.engine) as s:
        assert s.exec(select(Deal).where(Deal.name == deal)).one().status == "open"


def test_a_manager_changes_their_teams_records_and_the_audit_says_who_from_where(rig):
    name = _account_of(rig.engine, "alice")
    msg = rig.wait_response(rig.command(f'account "{name}" set margin_pct=21 owner=bruno', user="U_CLAIRE"))
    assert "Saved" in all_text(msg["blocks"])
    with session_scope(rig.engine) as s:
        account = s.exec(select(Account).where(Account.name == name)).one()
        assert (account.margin_pct, account.owner) == (21, "bruno")
        record = s.exec(select(AuditRecord).where(AuditRecord.entity == "account", AuditRecord.entity_id == account.id)
                        .order_by(AuditRecord.id.desc())).first()
        assert (record.actor, record.platform, record.platform_user_id) == ("claire", "slack", "U_CLAIRE")


def test_owner_changes_need_a_manager_of_both_sides_or_an_admin(engine, playbook, rig):
    name = _account_of(rig.engine, "alice")
    as_alice = console_context(engine, playbook, as_owner="alice", operator_name="t", language="en",
                               clock=lambda: NOW)
    refused = registry.run(as_alice, f'account "{name}" set owner=bruno')
    assert refused.data["error"] == "not_allowed" and refused.data["needs"] == "manager"
    as_claire = console_context(engine, playbook, as_owner="claire", operator_name="t", language="en",
                                clock=lambda: NOW)
    across = registry.run(as_claire, f'account "{name}" set owner=david')  # david is in hugo's team
    assert across.data["error"] == "not_allowed" and across.data["rule"] == "outside_team"
    as_sophie = console_context(engine, playbook, as_owner="sophie", operator_name="t", language="en",
                                clock=lambda: NOW)
    assert registry.run(as_sophie, f'account "{name}" set owner=david').ok
    typo = registry.run(as_sophie, f'account "{name}" set owner=davdi')
    assert typo.data["error"] == "unknown_owner" and "david" in typo.data["suggestions"]


def test_a_reps_nudge_is_theirs_their_managers_and_admins(engine, playbook, rig):
    def ask(who, text):
        ctx = console_context(engine, playbook, as_owner=who, operator_name="t", language="en", clock=lambda: NOW)
        return registry.run(ctx, text)
    assert ask("bruno", "nudge alice").data["rule"] == "not_your_team"
    assert ask("hugo", "nudge alice").data["rule"] == "not_your_team"
    assert ask("claire", "nudge alice").ok and ask("alice", "nudge").ok and ask("sophie", "nudge alice").ok


def test_a_managers_lists_default_to_their_team_and_all_widens_them(engine, playbook, rig):
    ctx = console_context(engine, playbook, as_owner="claire", operator_name="t", language="en", clock=lambda: NOW)
    team = registry.run(ctx, "accounts")
    assert team.data["filters"]["team_of"] == "claire"
    assert {a["owner"] for a in team.data["accounts"]} <= {"alice", "bruno", "chloe", "claire"}
    everyone = registry.run(ctx, "accounts all")
    assert {"david", "emma"} <= {a["owner"] for a in everyone.data["accounts"]}
    frozen = registry.run(ctx, "deals frozen")
    assert frozen.data["team_of"] == "claire" and all(d["owner"] in ("alice", "bruno", "chloe")
                                                        for d in frozen.data["deals"])
    assert registry.run(ctx, "deals frozen all").data["team_of"] is None


def test_history_shows_who_changed_what_newest_first(engine, playbook, rig):
    name = _account_of(rig.engine, "alice")
    as_alice = console_context(engine, playbook, as_owner="alice", operator_name="t", language="en",
                               clock=lambda: NOW)
    registry.run(as_alice, f'account "{name}" set margin_pct=11')
    registry.run(as_alice, f'account "{name}" set margin_pct=12')
    reply = registry.run(as_alice, f'history "{name}"')
    first = reply.data["entries"][0]
    assert first["actor"] == "alice" and first["platform"] == "console"
    assert {"field": "margin_pct", "old": 11, "new": 12} in first["changes"]


# --- reaching everyone on day one ------------------------------------------------------------------

def test_import_sync_and_the_first_weekly_run_reaches_every_rep_and_manager_once(rig):
    """The demo loads its team into the directory as `gare import people` would; the sync links
    every member by e-mail (users.list, page by page); the run then reaches everyone once."""
    for who in ("david", "emma", "farid", "hugo"):
        rig.fake.users[f"U_{who.upper()}"] = {"id": f"U_{who.upper()}", "name": who, "locale": "en-GB",
                                              "profile": {"email": f"{who}@example.com"}}
    settings = rig.shell.settings
    dry = sync_slack(rig.engine, rig.playbook, settings, dry_run=True, actor=Actor("t"), pause=0)
    assert {x["owner"] for x in dry.linked} >= {"alice", "bruno", "chloe", "david", "emma", "farid", "claire", "hugo"}
    with session_scope(rig.engine) as s:
        assert not s.exec(select(Person).where(Person.slack_id.is_not(None))).all()  # a dry run links nothing
    report = sync_slack(rig.engine, rig.playbook, settings, dry_run=False, actor=Actor("t"), pause=0)
    assert {x["owner"] for x in report.not_on_platform} == {"sophie"}
    assert {m["user_id"] for m in report.owning_nothing} >= {"U_NOBODY"}
    assert len(rig.fake.of("users.list")) >= 1

    from bot.delivery import SlackCourier

    class Clock:
        def __call__(self):
            return NOW + timedelta(days=(7 - NOW.weekday()) % 7)  # a Monday
    courier = SlackCourier(rig.engine, rig.playbook, settings, sleep=lambda s: None, monotonic=time.monotonic)
    reps = run_weekly(rig.engine, rig.playbook, kind="reps", clock=Clock(), courier=courier)
    managers = run_weekly(rig.engine, rig.playbook, kind="managers", clock=Clock(), courier=courier)
    assert not reps.failed and not reps.unreachable and not managers.failed
    assert set(reps.sent) | set(reps.nothing_to_say) == {"alice", "bruno", "chloe", "david", "emma", "farid"}
    assert set(managers.sent) == {"claire", "hugo"}
    assert not rig.fake.of("users.lookupByEmail")  # everyone was linked by the sync
    channels = [c.body["channel"] for c in rig.fake.of("chat.postMessage")]
    assert len(channels) == len(set(channels))  # once each
