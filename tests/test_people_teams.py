"""`gare people sync teams`: the roster of the teams Gare is installed in, page by page through
the Bot Connector, linked to the directory by verified e-mail or UPN; guests and look-alikes
refused; the first weekly run then reaches everyone who has a chat with Gare."""
from __future__ import annotations

from sqlmodel import select

from bot.teams.sync import NoTeam, sync_teams
from fake_teams import aad
from store.database import session_scope
from store.models import Person
from store.queries import Actor

import pytest


def test_sync_links_a_teams_roster_page_by_page(teams, monkeypatch):
    import bot.teams.sync as sync

    with pytest.raises(NoTeam):
        sync_teams(teams.engine, teams.playbook, teams.settings, dry_run=True, actor=Actor("t"))
    teams.install("claire", where="channel")  # Gare added to the West team
    monkeypatch.setattr(sync, "PAGE_SIZE", 4)
    dry = sync_teams(teams.engine, teams.playbook, teams.settings, dry_run=True, actor=Actor("t"))
    assert {x["owner"] for x in dry.linked} == {"alice", "bruno", "chloe", "david", "emma", "farid", "claire", "hugo",
                                                "sophie"}
    with session_scope(teams.engine) as s:
        assert not s.exec(select(Person).where(Person.teams_id.is_not(None))).all()
    report = sync_teams(teams.engine, teams.playbook, teams.settings, dry_run=False, actor=Actor("t"))
    pages = teams.fake.of("members")
    assert len(pages) >= 3 * 2 and all(p.conversation == "19:team-west@thread.tacv2" for p in pages)
    assert {(x["reason"], x["name"]) for x in report.refused} >= {("guest", "alice"), ("other_domain", "David")}
    assert {m["name"] for m in report.owning_nothing} == {"Zed"}
    with session_scope(teams.engine) as s:
        assert s.exec(select(Person).where(Person.owner == "alice")).one().teams_id == aad("alice")
        assert s.exec(select(Person).where(Person.teams_id == aad("guest"))).first() is None
