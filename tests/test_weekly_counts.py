"""The weekly run reads what its messages say once for all recipients: the SQL statements it
sends do not grow with the number of reps and managers (nor with their books), on SQLite and
PostgreSQL. Counted on one team of five reps, then on seven teams; a run that read each
recipient's data on its own would send six or seven times more."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

from sqlalchemy import event

from bot.nudges import run_weekly
from playbook.words import fold
from store.database import session_scope
from store.imports import import_accounts, import_deals
from store.models import Person

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=timezone.utc)
STAGES = ["Discovery", "Qualification", "Solution design", "Proposal", "Negotiation"]


def team(engine, playbook, t: int, reps: int = 5, accounts: int = 6) -> None:
    """Manager t, their reps, and each rep's accounts with two deals each as a CRM exports them
    (stage entries spread over 90 days: some deals frozen, some past their close date)."""
    owners = [f"rep{t:02d}{r:02d}" for r in range(reps)]
    with session_scope(engine) as s:
        for owner, role, manager in [(f"manager{t:02d}", "manager", None)] + [(o, "rep", f"manager{t:02d}") for o in owners]:
            s.add(Person(owner=owner, owner_key=fold(owner), role=role, manager=manager, team=f"Team {t:02d}",
                         slack_id=f"U{owner.upper()}", email=f"{owner}@example.com"))
    rows = ["name,owner,status,industry,annual_revenue,employees,margin_pct,exec_sponsor,last_contact,lifetime_value"]
    deals = ["name,account,owner,stage,stage_entered,amount,close_date,status"]
    for i in range(reps * accounts):
        n = t * 1000 + i
        name, owner = f"Account {n:05d}", owners[i % reps]
        rows.append(f"{name},{owner},{('customer', 'prospect', 'former')[i % 3]},Retail,{(i % 40) * 1_000_000},"
                    f"{i % 900},{i % 30},{'yes' if i % 2 else 'no'},2025-0{1 + i % 5}-10,{(i % 7) * 50_000}")
        for k, suffix in enumerate(("renewal", "expansion")):
            entered = NOW - timedelta(days=(i * 7 + k * 13) % 90)
            deals.append(f"{name} {suffix},{name},{owner},{STAGES[(i + k) % len(STAGES)]},"
                         f"{entered:%Y-%m-%dT%H:%M:%SZ},{1000 + i},2025-0{3 + (i % 5)}-30,"
                         f"{'won' if (i + k) % 9 == 0 else 'open'}")
    with session_scope(engine) as s:
        assert import_accounts(s, io.StringIO("\n".join(rows) + "\n"), playbook=playbook, actor="ops@test",
                               now=NOW).problems == []
    with session_scope(engine) as s:
        assert import_deals(s, io.StringIO("\n".join(deals) + "\n"), playbook=playbook, actor="ops@test",
                            now=NOW).problems == []


def weekly_run(engine, playbook, kind: str) -> tuple[int, int, str]:
    """(statements, messages composed, one of them) of a dry run: the second, as the first
    stores the assessments the imports left to do."""
    run_weekly(engine, playbook, kind=kind, clock=lambda: NOW, dry_run=True, language="en")
    sent = []

    def count(*_args) -> None:
        sent.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        summary = run_weekly(engine, playbook, kind=kind, clock=lambda: NOW, dry_run=True, language="en")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert summary.failed == [] and summary.previews
    return len(sent), len(summary.previews), summary.previews[0][1]


def test_a_weekly_run_sends_the_same_statements_for_seven_teams_as_for_one(engine, playbook):
    team(engine, playbook, 1)
    small = {kind: weekly_run(engine, playbook, kind) for kind in ("reps", "managers")}
    for t in range(2, 8):
        team(engine, playbook, t, accounts=12)
    large = {kind: weekly_run(engine, playbook, kind) for kind in ("reps", "managers")}
    assert (small["reps"][1], small["managers"][1]) == (5, 1)
    assert (large["reps"][1], large["managers"][1]) == (35, 7)
    assert {k: v[0] for k, v in small.items()} == {k: v[0] for k, v in large.items()}, (
        {k: v[:2] for k, v in small.items()}, {k: v[:2] for k, v in large.items()})
    # What the messages say is still there: a rep's frozen deals, a team's digest.
    assert "frozen deal" in large["reps"][2] and "Team digest for manager01" in large["managers"][2]
