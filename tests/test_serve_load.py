"""The server under load, as Slack and Teams see it: a slash command is acknowledged while its
work still waits for the database; when the bounded pool is full the user is told "busy, try
again in a moment" at once (Slack and Teams), no more requests are in progress than the bound,
and every request gets exactly one answer."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager

from fake_slack import wait_for
from fake_teams import card_text
from handlers.demo import load_demo_data
from handlers.reply import Context
from slack_harness import NOW, SlackRig, all_text
from teams_harness import TeamsRig, card

BUSY_WORDS = ("try again in a moment", "réessayez dans un instant")  # in the speaker's or the playbook's language


def busy(text: str) -> bool:
    return any(words in text for words in BUSY_WORDS)


@contextmanager
def store_write_lock(engine):
    """Another connection holds the store's write lock: every write waits for it (a slow or
    contended database)."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        else:
            cursor.execute("LOCK TABLE handled_event IN EXCLUSIVE MODE")
        yield
    finally:
        raw.rollback()
        raw.close()


def _demo(engine, playbook):
    load_demo_data(Context(engine=engine, playbook=playbook, actor="demo", clock=lambda: NOW))


def test_slack_acknowledges_while_the_work_waits_for_the_database(engine, playbook):
    _demo(engine, playbook)
    rig = SlackRig(engine, playbook)
    try:
        with store_write_lock(engine):
            key = rig.command("whoami")  # answered 200 by the server: acknowledged
            wait_for(lambda: rig.shell.pool.pending == 1, what="the command's work waiting on the pool")
            time.sleep(0.2)
            assert rig.responses(key) == []  # the acknowledgement did not wait for the work
        answer = rig.wait_response(key)
        assert "alice" in all_text(answer["blocks"]) and not busy(answer["text"])
    finally:
        rig.close()


def test_a_full_pool_says_busy_at_once_and_holds_no_more_than_its_bound(engine, playbook, monkeypatch):
    monkeypatch.setenv("GARE_WORKERS", "1")
    monkeypatch.setenv("GARE_QUEUE", "1")  # two requests in progress at most
    _demo(engine, playbook)
    rig = SlackRig(engine, playbook)
    try:
        slack_is_slow = rig.fake.hold("users.info")  # first-time speakers wait for Slack, in progress
        first = [rig.command("whoami", user=user) for user in ("U_ALICE", "U_CHLOE")]
        wait_for(lambda: rig.shell.pool.admitted == 2, what="two commands in progress")
        # Both now wait on Slack, outside the pool's threads (on a loaded machine their first
        # database job may still be running when the others arrive).
        wait_for(lambda: len(rig.fake.of("users.info")) >= 2 and rig.shell.pool.pending == 0,
                 what="both waiting on Slack")
        rest = [rig.command("whoami", user=user) for user in ("U_BRUNO", "U_CLAIRE", "U_NOBODY", "U_ALICE")]
        for key in rest:
            assert busy(rig.wait_response(key)["text"])
        assert rig.shell.pool.admitted == 2 and rig.shell.pool.pending == 0
        assert all(rig.responses(key) == [] for key in first)
        slack_is_slow.set()
        answers = [rig.wait_response(key) for key in first]
        assert "alice" in all_text(answers[0]["blocks"]) and "chloe" in all_text(answers[1]["blocks"])
        wait_for(lambda: rig.shell.pool.admitted == 0, what="every request finished")
        time.sleep(0.2)
        assert [len(rig.responses(key)) for key in first + rest] == [1] * 6
    finally:
        rig.close()


def test_a_busy_pool_is_not_busy_half_way(engine, playbook, monkeypatch):
    """A request let in finishes even when others crowd the pool meanwhile: its change is made
    and shown, never answered "busy" after the fact."""
    monkeypatch.setenv("GARE_WORKERS", "1")
    monkeypatch.setenv("GARE_QUEUE", "0")  # one request at a time
    _demo(engine, playbook)
    rig = SlackRig(engine, playbook)
    try:
        rig.wait_response(rig.command("whoami", user="U_ALICE"))  # alice is known from now on
        with store_write_lock(engine):
            key = rig.command("settings mute=skipped", user="U_ALICE")
            wait_for(lambda: rig.shell.pool.admitted == 1, what="the change in progress")
            crowd = rig.command("whoami", user="U_CHLOE")
            assert busy(rig.wait_response(crowd)["text"])
        answer = rig.wait_response(key)
        assert not busy(answer["text"]) and "skipped" in answer["text"].lower(), answer["text"]
    finally:
        rig.close()


def test_teams_says_busy_at_once_when_the_pool_is_full(engine, playbook, monkeypatch):
    monkeypatch.setenv("GARE_WORKERS", "1")
    monkeypatch.setenv("GARE_QUEUE", "0")
    _demo(engine, playbook)
    rig = TeamsRig(engine, playbook)
    try:
        roster_is_slow = rig.fake.hold("member")  # a first-time speaker waits for the roster, in progress
        answered: list[dict] = []
        first = threading.Thread(target=lambda: answered.append(rig.say("whoami", user="alice")))
        first.start()
        wait_for(lambda: rig.shell.pool.admitted == 1, what="alice's message in progress")
        refused = rig.say("whoami", user="bruno")
        assert busy(card_text(card(refused)))
        clicked = rig.execute({"type": "Action.Execute", "verb": "page", "data": {"cmd": "accounts", "p": 2}},
                              user="bruno")
        assert busy(clicked["value"])
        assert answered == []
        roster_is_slow.set()
        first.join(30)
        assert "alice" in card_text(card(answered[0])) and not busy(card_text(card(answered[0])))
        wait_for(lambda: rig.shell.pool.admitted == 0, what="every turn finished")
    finally:
        rig.close()
