"""The number of SQL statements a command sends does not grow with the book: each command is
counted on 200 accounts, then again once the book holds 2,000 (ten times more), on SQLite and
PostgreSQL. A command that loops over records with one query each, or reads a list in chunks
that grow with the data, fails here."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event

from handlers.registry import run_command
from handlers.reply import Context
from store.database import session_scope
from store.imports import import_accounts, import_deals

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=timezone.utc)
REPS = [f"Rep {n:02d}" for n in range(10)]
WORDS = ["Northwind", "Globex", "Initech", "Umbrella", "Soylent", "Hooli", "Vandelay", "Stark", "Wayne", "Tyrell"]
STAGES = ["Discovery", "Qualification", "Solution design", "Proposal", "Negotiation"]

# What is asked at both sizes: records that exist in the smaller book, and a typo.
COMMANDS = {
    "fit": "fit Globex Trading 00001",
    "account": "account Globex Trading 00001",
    "deal": 'deal "Globex Trading 00001 renewal"',
    "mistyped name": "fit Globx Tradng 00001",
    "accounts": "accounts",
    "tiers": "tiers",
    "deals frozen": "deals frozen",
    "nudge": f"nudge {REPS[3]}",
}


def book(start: int, stop: int) -> tuple[str, str]:
    """Accounts and deals as a CRM exports them: two deals per account, at varied stages and
    stage entry dates (some of them frozen), some won."""
    accounts = ["name,owner,status,industry,annual_revenue,employees,margin_pct,exec_sponsor,last_contact,lifetime_value"]
    deals = ["name,account,owner,stage,stage_entered,amount,close_date,status"]
    for i in range(start, stop):
        name = f"{WORDS[i % len(WORDS)]} Trading {i:05d}"
        owner = REPS[i % len(REPS)]
        status = ("customer", "prospect", "former")[i % 3]
        accounts.append(f"{name},{owner},{status},Retail,{(i % 40) * 1_000_000},{i % 900},{i % 30},"
                        f"{'yes' if i % 2 else 'no'},2025-0{1 + i % 5}-10,{(i % 7) * 50_000}")
        for n, suffix in enumerate(("renewal", "expansion")):
            entered = NOW - timedelta(days=(i * 7 + n * 13) % 90)
            deals.append(f"{name} {suffix},{name},{owner},{STAGES[(i + n) % len(STAGES)]},"
                         f"{entered:%Y-%m-%dT%H:%M:%SZ},{1000 + i},2025-09-30,{'won' if (i + n) % 9 == 0 else 'open'}")
    return "\n".join(accounts) + "\n", "\n".join(deals) + "\n"


def load(engine, playbook, start: int, stop: int) -> None:
    accounts, deals = book(start, stop)
    with session_scope(engine) as session:
        report = import_accounts(session, io.StringIO(accounts), playbook=playbook, actor="ops@test", now=NOW)
        assert report.problems == [] and report.created == stop - start
    with session_scope(engine) as session:
        report = import_deals(session, io.StringIO(deals), playbook=playbook, actor="ops@test", now=NOW)
        assert report.problems == [] and report.created == 2 * (stop - start)


def statements(engine, ctx: Context, text: str) -> int:
    run_command(ctx, text)  # once first: caches that fill on first use are not the data's size
    sent = []

    def count(*_args) -> None:
        sent.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        reply = run_command(ctx, text)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert reply.ok or reply.data.get("error") == "unknown_account", (text, reply.data)
    return len(sent)


@pytest.fixture
def counts(engine, playbook) -> dict[str, tuple[int, int]]:
    ctx = Context(engine=engine, playbook=playbook, actor="ops", language="en", clock=lambda: NOW)
    load(engine, playbook, 0, 200)
    small = {name: statements(engine, ctx, text) for name, text in COMMANDS.items()}
    load(engine, playbook, 200, 2000)
    large = {name: statements(engine, ctx, text) for name, text in COMMANDS.items()}
    return {name: (small[name], large[name]) for name in COMMANDS}


def test_statements_per_command_do_not_grow_with_the_book(counts):
    grown = {name: pair for name, pair in counts.items() if pair[0] != pair[1]}
    assert grown == {}, f"statements at 200 and 2,000 accounts: {counts}"


def test_a_mistyped_name_on_the_larger_book_still_suggests_the_name_meant(engine, playbook):
    load(engine, playbook, 0, 2000)
    ctx = Context(engine=engine, playbook=playbook, actor="ops", language="en", clock=lambda: NOW)
    reply = run_command(ctx, COMMANDS["mistyped name"])
    assert reply.data["error"] == "unknown_account"
    assert reply.data["suggestions"][0] == "Globex Trading 00001"
    deal = run_command(ctx, 'deal "Globex Tradin 00001 renewl"')
    assert deal.data["error"] == "unknown_deal" and deal.data["suggestions"][0] == "Globex Trading 00001 renewal"
