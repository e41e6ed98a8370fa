"""`gare bench seed`: the synthetic org the benchmarks measure on, loaded through the store's
bulk path, on SQLite and PostgreSQL. What makes it worth measuring on is checked through the
commands a rep would type: frozen and skipped deals, renewals, misfits, several tiers."""
from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from handlers.registry import run_command
from handlers.reply import Context
from store.database import session_scope
from store.models import Account, Deal, Person, StageVisit
from test_cli import gare


def test_a_seeded_org_has_teams_stuck_and_skipped_deals_and_renewals(db_url, engine, playbook):
    result = gare("bench", "seed", "--accounts", "300", "--deals", "1500", "--reps", "20", "--lang", "en",
                  db_url=db_url)
    assert result.returncode == 0, result.stderr
    assert "Synthetic org loaded" in result.stdout and "1,500" in result.stdout
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Account)).one() == 300
        assert s.exec(select(func.count()).select_from(Deal)).one() == 1500
        assert s.exec(select(func.count()).select_from(StageVisit)).one() > 1500
        managers = s.exec(select(Person).where(Person.role == "manager")).all()
        reps = s.exec(select(Person).where(Person.role == "rep")).all()
        kinds = set(s.exec(select(Deal.kind).distinct()).all())
    assert len(managers) == 2 and len(reps) == 20 and all(r.manager for r in reps)
    assert {"new_business", "renewal", "expansion"} <= kinds
    ctx = Context(engine=engine, playbook=playbook, actor="salesops", owner="salesops", language="en")
    frozen = run_command(ctx, "deals frozen all")
    skipped = run_command(ctx, "deals skipped all")
    assert frozen.ok and len(frozen.data["deals"]) > 0
    assert skipped.ok and len(skipped.data["deals"]) > 0
    tiers = run_command(ctx, "tiers")
    # A large book has many customers at risk: the reply names the most valuable and counts the rest.
    assert tiers.ok and tiers.data["at_risk_count"] > len(tiers.data["at_risk"]) == 20
    from bot.render import render
    text = render(tiers, language="en", currency="EUR")
    assert f"{tiers.data['at_risk_count']} customers at risk:" in text
    assert f"… and {tiers.data['at_risk_count'] - 20} more." in text
    # The same seed gives the same org; a database that holds accounts is refused, untouched.
    again = gare("bench", "seed", "--accounts", "10", "--deals", "10", "--lang", "en", db_url=db_url)
    assert again.returncode == 2 and "already holds accounts" in again.stdout + again.stderr
    assert "Traceback" not in again.stdout + again.stderr
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Account)).one() == 300
