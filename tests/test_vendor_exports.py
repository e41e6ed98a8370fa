"""Exports as Salesforce, HubSpot and Dynamics 365 write them (tests/fixtures/, built from each
vendor's documented columns and values) import as they are with the default playbook; the first
`deals frozen` is right, estimated flags included; importing again changes nothing; a file with
one bad row writes nothing. On SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlmodel import func, select

from handlers.registry import run
from handlers.reply import Context
from playbook.config import DEFAULT_PLAYBOOK, load
from store.database import session_scope
from store.imports import import_file
from store.models import Account, AuditRecord, Deal, Person, StageVisit

FIXTURES = Path(__file__).resolve().parent / "fixtures"
NOW = datetime(2025, 6, 2, 9, 0, tzinfo=timezone.utc)
UTC = timezone.utc

# Each vendor's files, in the order a team imports them: (kind, file, options).
VENDORS = {
    "salesforce": [("people", "User.csv", {}), ("accounts", "Account.csv", {}), ("deals", "Opportunity.csv", {}),
                   ("stages", "OpportunityHistory.csv", {})],
    "hubspot": [("people", "owners.csv", {}), ("accounts", "companies.csv", {}),
                ("deals", "deals.csv", {"create_accounts": True})],
    "dynamics": [("accounts", "accounts.csv", {}), ("deals", "opportunities.csv", {})],
}


@pytest.fixture
def default_playbook():
    return load(DEFAULT_PLAYBOOK)


def imp(engine, playbook, kind: str, path: Path, **options):
    with session_scope(engine) as session:
        return import_file(kind, session, path, playbook=playbook, actor="ops@test", now=NOW, **options)


def import_vendor(engine, playbook, vendor: str) -> dict:
    reports = {}
    for kind, name, options in VENDORS[vendor]:
        report = imp(engine, playbook, kind, FIXTURES / vendor / name, **options)
        assert report.ok, (vendor, name, [(p.code, p.column, p.values, p.lines) for p in report.problems])
        reports[kind] = report
    return reports


def ctx(engine, playbook) -> Context:
    return Context(engine=engine, playbook=playbook, actor="ops", language="en", clock=lambda: NOW)


def frozen(engine, playbook) -> dict[str, dict]:
    reply = run(ctx(engine, playbook), "deals frozen")
    assert reply.ok, reply.data
    return reply.data


def deals_by_crm(engine) -> dict[str, Deal]:
    with session_scope(engine) as session:
        return {d.crm_id: d for d in session.exec(select(Deal))}


def accounts_by_name(engine) -> dict[str, Account]:
    with session_scope(engine) as session:
        return {a.name: a for a in session.exec(select(Account))}


def counts(engine) -> tuple[int, ...]:
    with session_scope(engine) as session:
        return tuple(session.exec(select(func.count()).select_from(m)).one()
                     for m in (Account, Deal, StageVisit, Person, AuditRecord))


def note(report, code: str):
    return next((n for n in report.notes if n.code == code), None)


def test_salesforce_exports(engine, default_playbook):
    reports = import_vendor(engine, default_playbook, "salesforce")
    assert reports["people"].created == 4
    with session_scope(engine) as session:
        dana = session.exec(select(Person).where(Person.crm_id == "0055g00000DSCAAA")).one()
        assert (dana.owner, dana.email, dana.manager, dana.language, dana.active) == (
            "Dana Scully", "dana.scully@example.com", "Walter Skinner", "fr", True)
        assert session.exec(select(Person).where(Person.owner == "John Byers")).one().active is False

    accounts = accounts_by_name(engine)
    # OwnerId resolves through the people directory; an id nobody carries is kept, and reported.
    assert accounts["Globex"].owner == "Dana Scully" and accounts["Globex"].crm_id == "0015g00000GLXAAA"
    assert accounts["Hooli"].owner == "0055g00000XXXAAA" and accounts["Hooli"].status == "prospect"
    assert note(reports["accounts"], "unknown_owner").values == ["0055g00000XXXAAA"]
    assert "AccountNumber" in reports["accounts"].ignored_columns and accounts["Globex"].custom == {}

    deals = deals_by_crm(engine)
    renewal, initech_renewal = deals["0065g00000OP1AAA"], deals["0065g00000OP2AAA"]
    assert renewal.name == initech_renewal.name == "Renewal 2026"  # names repeat; ids tell them apart
    assert renewal.account_id == accounts["Globex"].id and initech_renewal.account_id == accounts["Initech"].id
    assert (renewal.stage, renewal.currency, renewal.kind, renewal.owner) == ("proposal", "EUR", "renewal", "Dana Scully")
    assert (initech_renewal.stage, initech_renewal.currency) == ("negotiation", "USD")
    assert deals["0065g00000OP3AAA"].stage == "qualification"  # "Needs Analysis", an alias
    assert deals["0065g00000OP4AAA"].kind == "expansion"  # Existing Customer - Upgrade
    assert deals["0065g00000OP5AAA"].status == "won" and deals["0065g00000OP6AAA"].status == "lost"
    # IsClosed/IsWon win over the stage: a closed deal at a stage the playbook lacks keeps it.
    duplicate = deals["0065g00000OP7AAA"]
    assert (duplicate.status, duplicate.crm_stage) == ("lost", "Closed - Duplicate")
    assert note(reports["deals"], "closed_unknown_stage").values == ["Closed - Duplicate"]
    assert note(reports["deals"], "estimated_entry").count == 2  # OP3 and OP4 have no LastStageChangeDate
    assert deals["0065g00000OP3AAA"].created_at == datetime(2024, 2, 10, 13, 20, tzinfo=UTC)

    # The stage history: two stages entered at the same moment keep the file's order; the
    # closing row closes the deal at its date.
    with session_scope(engine) as session:
        pilot = [(v.stage, v.entered_at, v.left_at) for v in session.exec(
            select(StageVisit).where(StageVisit.deal_id == deals["0065g00000OP5AAA"].id)
            .order_by(StageVisit.entered_at, StageVisit.id))]
    jan20 = datetime(2025, 1, 20, 10, tzinfo=UTC)
    assert [s for s, _, _ in pilot] == ["qualification", "proposal", "negotiation"]
    assert pilot[1][1:] == (jan20, jan20) and pilot[2][2] == datetime(2025, 2, 14, 16, 30, tzinfo=UTC)

    # The first `deals frozen`: the Initech renewal sits at negotiation since March (exact), the
    # Umbrella platform has no stage-entry date but is open since February 2024 (estimated);
    # the Hooli deal is on time at its stage, but past its close date.
    data = frozen(engine, default_playbook)
    assert [(d["deal"], d["account"], d["estimated"]) for d in data["deals"]] == [
        ("Umbrella platform", "Umbrella", True), ("Renewal 2026", "Initech", False)]
    umbrella = data["deals"][0]
    assert umbrella["open_days"] == 477.8 and umbrella["window_days"] == 35 and umbrella["indicator"] > 400
    assert data["estimated"] == 1 and data["totals"] == [{"currency": "EUR", "amount": 0.0},
                                                         {"currency": "USD", "amount": 280000.0}]
    assert [d["deal"] for d in data["overdue"]] == ["Hooli reseller deal"]
    assert "estimated: no stage-entry date in the CRM" in _text(engine, default_playbook, "deals frozen")


def test_hubspot_exports(engine, default_playbook, tmp_path):
    reports = import_vendor(engine, default_playbook, "hubspot")
    accounts = accounts_by_name(engine)
    assert accounts["Globex"].crm_id == "101" and accounts["Umbrella"].owner == "Fox Mulder"  # owner id resolved
    assert accounts["Initech"].status == "prospect" and accounts["Globex"].status == "customer"

    deals = deals_by_crm(engine)
    assert deals["9001"].stage == "negotiation" and deals["9002"].stage == "qualification"
    assert deals["9003"].stage == "discovery"  # an internal stage id: appointmentscheduled
    assert deals["9003"].owner == "Dana Scully" and deals["9003"].account_id is None  # a contact-only deal
    assert note(reports["deals"], "no_account").count == 1
    # A company given by its id only, unknown: an account that says so, listed for sales ops.
    placeholder = accounts["HubSpot company 987654321"]
    assert placeholder.crm_id == "987654321" and deals["9004"].account_id == placeholder.id
    assert note(reports["deals"], "placeholder_account").values == ["HubSpot company 987654321"]
    assert deals["9005"].status == "won" and deals["9006"].status == "lost"
    assert (deals["9001"].kind, deals["9003"].kind) == ("expansion", "new_business")
    # Columns of other pipelines, and "Date exited", are not read.
    assert 'Date entered "Onboarding call (Customer Success Pipeline)"' in reports["deals"].ignored_columns

    # "Date entered" columns give the history in one row.
    with session_scope(engine) as session:
        history = [(v.stage, v.entered_at) for v in session.exec(
            select(StageVisit).where(StageVisit.deal_id == deals["9001"].id).order_by(StageVisit.entered_at))]
    assert [s for s, _ in history] == ["discovery", "qualification", "solution", "proposal", "negotiation"]
    assert history[-1][1] == datetime(2025, 2, 1, 8, 30, tzinfo=UTC)  # 09:30 in Paris

    data = frozen(engine, default_playbook)
    assert [(d["deal"], d["account"], d["estimated"]) for d in data["deals"]] == [
        ("Data migration", "HubSpot company 987654321", True), ("Renewal 2026", "Globex", False)]

    # Without --create-accounts, the unknown company stops the file, naming the row and the fix.
    variant = tmp_path / "deals.csv"
    variant.write_text((FIXTURES / "hubspot" / "deals.csv").read_text(encoding="utf-8").replace("987654321", "123123123"),
                       encoding="utf-8")
    refused = imp(engine, default_playbook, "deals", variant)
    assert [(p.code, p.lines, p.values) for p in refused.problems] == [("unknown_account", [5], ["123123123"])]


def test_dynamics_exports(engine, default_playbook):
    reports = import_vendor(engine, default_playbook, "dynamics")
    assert reports["deals"].date_order == "mdy"  # 8/31/2024 proves the order of the file
    accounts = accounts_by_name(engine)
    assert accounts["Fabrikam, Inc."].crm_id == "9d1b0a44-5d3e-ef11-8409-000d3a5c2b11"
    assert accounts["Adventure Works"].status == "former" and accounts["Contoso Ltd"].annual_revenue == 25e6
    with session_scope(engine) as session:
        renewals = session.exec(select(Deal).where(Deal.name == "Renewal 2026").order_by(Deal.id)).all()
        assert [(d.account_id, d.stage, d.currency) for d in renewals] == [
            (accounts["Contoso Ltd"].id, "proposal", "USD"), (accounts["Fabrikam, Inc."].id, "qualification", "USD")]
        assert renewals[0].created_at == datetime(2024, 5, 20, 17, 42, tzinfo=UTC)  # 7:42 PM in Paris
        assert renewals[0].close_date == date(2024, 8, 31)
    deals = deals_by_crm(engine)
    assert deals["410c8a12-7b2d-ef11-8409-000d3a5c2b11"].status == "won"
    assert deals["420c8a12-7b2d-ef11-8409-000d3a5c2b11"].status == "lost"

    data = frozen(engine, default_playbook)
    assert [(d["deal"], d["account"], d["estimated"], d["close_date_passed"]) for d in data["deals"]] == [
        ("Renewal 2026", "Contoso Ltd", True, True)]
    card = run(ctx(engine, default_playbook), "deal Renewal 2026")
    assert card.data["error"] == "ambiguous" and {c["account"] for c in card.data["candidates"]} == {
        "Contoso Ltd", "Fabrikam, Inc."}


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_importing_again_changes_nothing(engine, default_playbook, vendor):
    import_vendor(engine, default_playbook, vendor)
    before = counts(engine)
    again = import_vendor(engine, default_playbook, vendor)
    assert {k: (r.created, r.updated) for k, r in again.items()} == {k: (0, 0) for k in again}
    assert counts(engine) == before


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_a_bad_row_writes_nothing(engine, default_playbook, vendor, tmp_path):
    kind, name, options = next(f for f in VENDORS[vendor] if f[0] == "deals")
    for earlier, file, opts in VENDORS[vendor]:
        if earlier == "deals":
            break
        assert imp(engine, default_playbook, earlier, FIXTURES / vendor / file, **opts).ok
    before = counts(engine)
    source = (FIXTURES / vendor / name).read_text(encoding="utf-8").splitlines()
    broken = tmp_path / name
    # The last row's amount becomes words: that one cell refuses the whole file.
    amount = next(i for i, h in enumerate(_split(source[0])) if h in ("Amount", "Est. Revenue"))
    cells = _split(source[-1])
    cells[amount] = "lots"
    broken.write_text("\n".join(source[:-1] + [_join(cells)]) + "\n", encoding="utf-8")
    report = imp(engine, default_playbook, kind, broken, **options)
    assert not report.ok and [(p.code, p.lines) for p in report.problems] == [("bad_number", [len(source)])]
    assert counts(engine) == before


def _split(line: str) -> list[str]:
    import csv
    return next(csv.reader([line]))


def _join(cells: list[str]) -> str:
    import csv
    import io
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


def _text(engine, playbook, command: str) -> str:
    from bot.render import render

    return render(run(ctx(engine, playbook), command), language="en")
