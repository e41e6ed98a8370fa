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


def sent(engine, ctx: Context, text: str):
    """The reply to a command, and how many statements it sent (after a first run)."""
    run_command(ctx, text)
    count = []

    def counted(*_args) -> None:
        count.append(1)

    event.listen(engine, "before_cursor_execute", counted)
    try:
        reply = run_command(ctx, text)
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return reply, len(count)


# Typos a hurried rep makes in the first letters, where a search by the start of a name is lost.
FIRST_LETTER_TYPOS = {
    'fit "Lgobex Trading 00001"': ("unknown_account", "Globex Trading 00001"),
    'fit "Gloebx Trading 00001"': ("unknown_account", "Globex Trading 00001"),
    'fit "Hlobex Trading 00001"': ("unknown_account", "Globex Trading 00001"),
    'deal "Lgobex Trading 00001 renewal"': ("unknown_deal", "Globex Trading 00001 renewal"),
    'deal "Globex Tardign 00001 renewal"': ("unknown_deal", "Globex Trading 00001 renewal"),
}


def test_a_typo_in_the_first_letters_still_suggests_the_name_meant_for_the_same_statements(engine, playbook):
    ctx = Context(engine=engine, playbook=playbook, actor="ops", language="en", clock=lambda: NOW)
    load(engine, playbook, 0, 200)
    small = {text: sent(engine, ctx, text) for text in FIRST_LETTER_TYPOS}
    load(engine, playbook, 200, 2000)
    large = {text: sent(engine, ctx, text) for text in FIRST_LETTER_TYPOS}
    for text, (error, meant) in FIRST_LETTER_TYPOS.items():
        for reply, _ in (small[text], large[text]):
            assert reply.data["error"] == error and reply.data["suggestions"][0] == meant, (text, reply.data)
    assert {text: small[text][1] for text in small} == {text: large[text][1] for text in large}


def test_a_one_word_name_mistyped_in_its_first_letters_suggests_the_names_with_that_word(engine, playbook):
    load(engine, playbook, 0, 2000)
    ctx = Context(engine=engine, playbook=playbook, actor="ops", language="en", clock=lambda: NOW)
    for typed in ("Lgobex", "Gloebx", "Hlobex", "Glboex"):
        reply = run_command(ctx, f"fit {typed}")
        assert reply.data["error"] == "unknown_account", typed
        assert reply.data["suggestions"] and all(s.startswith("Globex ") for s in reply.data["suggestions"]), \
            (typed, reply.data["suggestions"])


def test_sqlite_finds_the_names_like_a_mistyped_one_through_indexes_only(engine):
    """Every read of the search is an index range: no table is read from end to end."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's plans depend on its statistics")
    import re

    from sqlalchemy import text

    from store import queries

    params = {"kind": "account", "read": queries.WORD_READ, "pool": queries.SUGGESTION_POOL}
    for n in range(queries.TYPED_WORDS * queries.READS_PER_WORD):
        params[f"low{n}"], params[f"high{n}"] = "glo", "glp"
    with engine.connect() as conn:
        plan = [row[3] for row in conn.execute(text("EXPLAIN QUERY PLAN " + queries._word_search("account").text),
                                               params)]
        prefix = [row[3] for row in conn.execute(text(
            "EXPLAIN QUERY PLAN SELECT DISTINCT name_key FROM account WHERE name_key >= 'glo' AND name_key < 'glp'"))]
    reads = [line for line in plan if "name_word" in line]
    assert len(reads) == queries.TYPED_WORDS * queries.READS_PER_WORD
    assert all(line.startswith("SEARCH name_word USING COVERING INDEX") for line in reads), reads
    assert not [line for line in plan + prefix if re.match(r"SCAN (name_word|account|deal)\b", line)], plan + prefix
    assert any("SEARCH account USING INTEGER PRIMARY KEY" in line for line in plan), plan
    assert prefix == ["SEARCH account USING COVERING INDEX ix_account_name_key (name_key>? AND name_key<?)"], prefix
