"""The rules of importing real CRM files: people, owner ids, created and derived accounts, the
order of dates, unknown stages and their aliases, repeated deal names, stage histories. On
SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlmodel import func, select

from playbook.config import parse
from store.database import session_scope
from store.imports import import_file
from store.models import Account, AuditRecord, Deal, Person, StageVisit

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=timezone.utc)
UTC = timezone.utc


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def imp(engine, playbook, kind, tmp_path, text, name="f.csv", **options):
    with session_scope(engine) as session:
        return import_file(kind, session, write(tmp_path, name, text), playbook=playbook, actor="ops@test", now=NOW,
                           **options)


def problems(report) -> list[tuple]:
    return [(p.code, p.column, p.lines, p.values) for p in report.problems]


def rows(engine, model, **where) -> list:
    with session_scope(engine) as session:
        query = select(model).order_by(model.id)
        for k, v in where.items():
            query = query.where(getattr(model, k) == v)
        return list(session.exec(query))


def count(engine, model) -> int:
    with session_scope(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


PEOPLE = """owner,email,name,role,team,manager,slack_id,teams_id
alice,Alice@Example.com,Alice Martin,Account Executive,west,claire,U_ALICE,
claire,claire@example.com,Claire Dubois,Sales Manager,west,,U_CLAIRE,7f3c0a4e-0000-4000-8000-000000000001
sophie,sophie@example.com,Sophie Laurent,Sales Ops,,,,
"""


def test_people_canonical_columns_roles_and_emails(engine, playbook, tmp_path):
    report = imp(engine, playbook, "people", tmp_path, PEOPLE)
    assert report.ok and report.created == 3
    people = {p.owner: p for p in rows(engine, Person)}
    assert (people["alice"].role, people["alice"].email, people["alice"].team, people["alice"].manager,
            people["alice"].slack_id, people["alice"].owner_key) == (
        "rep", "alice@example.com", "west", "claire", "U_ALICE", "alice")
    assert people["claire"].role == "manager" and people["sophie"].role == "admin"
    assert people["claire"].teams_id == "7f3c0a4e-0000-4000-8000-000000000001"
    assert imp(engine, playbook, "people", tmp_path, PEOPLE).unchanged == 3

    audits = count(engine, AuditRecord)
    bad = imp(engine, playbook, "people", tmp_path, PEOPLE.replace("Sales Ops", "Intern")
              + "bruno,alice@example.com,Bruno,rep,,,,\n")
    assert problems(bad) == [("bad_role", "role", [4], ["Intern"]),
                             ("duplicate_row", "email", [5], ["alice@example.com"])]
    assert bad.problems[0].expected == "rep | manager | admin"
    assert count(engine, AuditRecord) == audits and rows(engine, Person, owner="sophie")[0].role == "admin"

    taken = imp(engine, playbook, "people", tmp_path, "owner,email\nbruno,CLAIRE@example.com\n")
    assert problems(taken) == [("taken", "email", [2], ["claire@example.com"])]
    assert count(engine, Person) == 3


def test_owner_ids_kept_then_resolved_by_the_people_import(engine, playbook, tmp_path):
    accounts = imp(engine, playbook, "accounts", tmp_path, "Id,Name,OwnerId\n001A,Globex,005AAAAAAAAAAAA\n")
    assert accounts.ok and rows(engine, Account)[0].owner == "005AAAAAAAAAAAA"
    deals = imp(engine, playbook, "deals", tmp_path,
                "Id,AccountId,Name,StageName,OwnerId\n006A,001A,Globex renewal,Prospecting,005AAAAAAAAAAAA\n")
    unknown = next(n for n in deals.notes if n.code == "unknown_owner")
    assert (unknown.column, unknown.values) == ("OwnerId", ["005AAAAAAAAAAAA"])
    people = imp(engine, playbook, "people", tmp_path,
                 "Id,FirstName,LastName,Name,Email,IsActive,ManagerId\n"
                 "005AAAAAAAAAAAA,Dana,Scully,Dana Scully,dana@example.com,true,005ZZZZZZZZZZZZ\n")
    assert people.ok and [n.code for n in people.notes] == ["unknown_manager", "owner_resolved"]
    assert rows(engine, Account)[0].owner == "Dana Scully" and rows(engine, Deal)[0].owner == "Dana Scully"
    again = imp(engine, playbook, "deals", tmp_path,
                "Id,AccountId,Name,StageName,OwnerId\n006A,001A,Globex renewal,Prospecting,005AAAAAAAAAAAA\n")
    assert again.unchanged == 1 and not again.notes


def test_create_accounts_and_statuses_derived_from_deals(engine, playbook, tmp_path):
    assert imp(engine, playbook, "accounts", tmp_path, "name,industry\nGlobex,Retail\nInitech,Banking\n"
               "Hooli,Tech\n").ok
    deals = ("name,account,stage,status\nG1,Globex,proposal,won\nI1,Initech,proposal,lost\nI2,Initech,discovery,lost\n"
             "H1,Hooli,proposal,lost\nH2,Hooli,proposal,open\nU1,Umbrella,discovery,open\n")
    refused = imp(engine, playbook, "deals", tmp_path, deals)
    assert problems(refused) == [("unknown_account", "account", [7], ["Umbrella"])]
    assert count(engine, Deal) == 0
    report = imp(engine, playbook, "deals", tmp_path, deals, create_accounts=True)
    assert report.ok
    accounts = {a.name: a for a in rows(engine, Account)}
    assert accounts["Umbrella"].status == "prospect"
    assert next(n for n in report.notes if n.code == "account_created").values == ["Umbrella"]
    # A won deal makes a customer; deals all lost a prospect; an open one keeps what was there.
    assert (accounts["Globex"].status, accounts["Globex"].status_source) == ("customer", "derived")
    assert (accounts["Initech"].status, accounts["Hooli"].status) == ("prospect", "prospect")
    # A status a file (or chat) gives is never overridden.
    assert imp(engine, playbook, "accounts", tmp_path, "name,status\nGlobex,former\n").updated == 1
    assert imp(engine, playbook, "deals", tmp_path, "name,account,stage,status\nG2,Globex,proposal,won\n").ok
    assert rows(engine, Account, name="Globex")[0].status == "former"


def test_dates_order_read_from_the_file_never_guessed(engine, playbook, tmp_path):
    ambiguous = "name,account,stage,stage_entered\nA,,proposal,03/04/2025\nB,,proposal,05/06/2025\n"
    refused = imp(engine, playbook, "deals", tmp_path, ambiguous)
    assert problems(refused) == [("ambiguous_dates", "stage_entered", [2, 3], ["03/04/2025", "05/06/2025"])]
    dmy = imp(engine, playbook, "deals", tmp_path, ambiguous, date_order="dmy")
    assert dmy.ok and dmy.date_order == "dmy"
    with session_scope(engine) as session:
        entered = session.exec(select(StageVisit.entered_at).order_by(StageVisit.id)).first()
    assert entered == datetime(2025, 4, 2, 22, tzinfo=UTC)  # 3 April, midnight in Paris

    # One unambiguous date tells the order of the whole file; the playbook's is the fallback.
    us = imp(engine, playbook, "deals", tmp_path, "name,account,stage,close_date\nC,,proposal,03/04/2025\n"
             "D,,proposal,12/31/2025 7:42 PM\n")
    assert us.ok and us.date_order == "mdy"
    with_default = parse(playbook.raw | {"import": {"date_order": "mdy"}}, "test")
    assert imp(engine, with_default, "deals", tmp_path, "name,account,stage,close_date\nE,,proposal,03/04/2025\n").ok
    mixed = imp(engine, playbook, "deals", tmp_path, "name,account,stage,close_date\nF,,proposal,12/31/2025\n"
                "G,,proposal,31/12/2025\n")
    assert [(p.code, p.lines, p.detail["other_line"]) for p in mixed.problems] == [("mixed_date_order", [3], 2)]


def test_an_unknown_stage_says_which_alias_line_to_paste(engine, playbook, tmp_path):
    text = "name,account,stage\nA,,Contract signed\nB,,Contract signed\nC,,Warp speed\n"
    report = imp(engine, playbook, "deals", tmp_path, text)
    signed = report.problems[0]
    assert (signed.code, signed.count, signed.lines, signed.detail["nearest"]) == ("unknown_stage", 2, [2, 3],
                                                                                 "negotiation")
    assert signed.detail["aliases_line"] == ('aliases = ["Negotiation/Review", "Négociation/Révision", '
                                             '"Contract Sent", "contractsent", "Contrat envoyé", "Close", '
                                             '"Contract signed"]')
    assert len(report.problems) == 2  # one line per unknown stage
    raw = dict(playbook.raw)
    raw["pipeline"] = dict(raw["pipeline"], stages=[dict(s, aliases=s.get("aliases", []) + ["Contract signed"])
                                                   if s["id"] == "negotiation" else s
                                                   for s in raw["pipeline"]["stages"]])
    pasted = parse(raw, "test")
    assert imp(engine, pasted, "deals", tmp_path, text.replace("C,,Warp speed\n", "")).created == 2


def test_repeated_deal_names_are_told_apart(engine, playbook, tmp_path):
    assert imp(engine, playbook, "accounts", tmp_path, "name\nGlobex\nInitech\n").ok
    text = "name,account,stage\nRenewal 2026,Globex,proposal\nRenewal 2026,Initech,proposal\n"
    assert imp(engine, playbook, "deals", tmp_path, text).created == 2
    assert imp(engine, playbook, "deals", tmp_path, text).unchanged == 2
    twice = imp(engine, playbook, "deals", tmp_path, text + "Renewal 2026,Globex,discovery\n")
    assert problems(twice) == [("duplicate_row", "name", [4], ["Renewal 2026"])]
    # A stage history naming the deal only by its shared name asks for its id.
    history = imp(engine, playbook, "stages", tmp_path, "deal,stage,entered_at\nRenewal 2026,discovery,2025-01-02\n")
    assert problems(history) == [("ambiguous_deal", "deal", [2], ["Renewal 2026"])]


def test_stage_history_same_day_order_and_closing_rows(engine, playbook, tmp_path):
    # The deals, at their stage today, without stage-entry dates (estimated stays, merged away
    # by the history that dates them).
    assert imp(engine, playbook, "deals", tmp_path, "Id,Name,StageName\nD1,Alpha,Proposal/Price Quote\n"
               "D2,Beta,Proposal/Price Quote\n").ok
    # Alpha oldest first; Beta's file lists the newest first: same-day stays follow each file's way.
    forward = ("OpportunityId,StageName,CreatedDate\nD1,Prospecting,2025-01-06\nD1,Qualification,2025-02-03\n"
               "D1,Needs Analysis,2025-02-03\nD1,Value Proposition,2025-02-03\nD1,Proposal/Price Quote,2025-03-03\n"
               "D1,Closed Won,2025-04-01\n")
    report = imp(engine, playbook, "stages", tmp_path, forward)
    assert report.ok
    alpha = rows(engine, Deal, name="Alpha")[0]
    assert (alpha.status, alpha.stage) == ("won", "proposal")
    with session_scope(engine) as session:
        stays = [(v.stage, v.left_at is not None, v.estimated) for v in session.exec(
            select(StageVisit).where(StageVisit.deal_id == alpha.id).order_by(StageVisit.entered_at, StageVisit.id))]
    # Qualification and Needs Analysis are one stage here: one stay; then solution the same day.
    assert stays == [("discovery", True, False), ("qualification", True, False), ("solution", True, False),
                     ("proposal", True, False)]
    assert imp(engine, playbook, "stages", tmp_path, forward).created == 0

    backward = ("OpportunityId,StageName,CreatedDate\nD2,Proposal/Price Quote,2025-03-03\n"
                "D2,Value Proposition,2025-02-03\nD2,Qualification,2025-02-03\nD2,Prospecting,2025-01-06\n")
    assert imp(engine, playbook, "stages", tmp_path, backward).ok
    beta = rows(engine, Deal, name="Beta")[0]
    with session_scope(engine) as session:
        order = [v.stage for v in session.exec(select(StageVisit).where(StageVisit.deal_id == beta.id)
                                               .order_by(StageVisit.entered_at, StageVisit.left_at))]
    assert order == ["discovery", "qualification", "solution", "proposal"] and beta.stage == "proposal"


def test_currency_names_kinds_and_ignored_columns(engine, playbook, tmp_path):
    report = imp(engine, playbook, "deals", tmp_path,
                 "Topic,Pipeline Phase,Est. Revenue,Currency,Deal Type,Rating\n"
                 "A,1-Qualify,\"$1,000.00\",US Dollar,New Business,Hot\nB,2-Develop,500,GBP,Partner deal,Cold\n")
    assert report.ok and report.ignored_columns == ["Rating"]
    deals = {d.name: d for d in rows(engine, Deal)}
    assert (deals["A"].currency, deals["A"].kind, deals["A"].stage) == ("USD", "new_business", "qualification")
    assert (deals["B"].currency, deals["B"].kind) == ("GBP", None)
    assert next(n for n in report.notes if n.code == "unknown_kind").values == ["Partner deal"]
    bad = imp(engine, playbook, "deals", tmp_path, "name,stage,currency\nC,proposal,Doubloons\n")
    assert problems(bad) == [("bad_choice", "currency", [2], ["Doubloons"])]


@pytest.mark.parametrize("options,code", [({"create_accounts": True}, "create_accounts_deals_only"),
                                          ({"date_order": "ymd"}, "bad_value")])
def test_bad_options_are_refused_politely(engine, playbook, tmp_path, options, code):
    from handlers.imports import import_file as handler
    from handlers.reply import Context, Refusal

    ctx = Context(engine=engine, playbook=playbook, actor="ops", language="en", clock=lambda: NOW)
    with pytest.raises(Refusal) as refused:
        handler(ctx, "accounts", write(tmp_path, "a.csv", "name\nA\n"), **options)
    assert refused.value.code == code and count(engine, Account) == 0


def test_an_id_is_never_taken_for_a_name(engine, playbook, tmp_path):
    assert imp(engine, playbook, "accounts", tmp_path, "Record ID,Company name\n1010101010,Globex\n").ok
    text = "Deal Name,Deal Stage,Associated Company\nA,Contract Sent,1010101010\nB,Contract Sent,555555555\n"
    assert problems(imp(engine, playbook, "deals", tmp_path, text)) == [
        ("unknown_account", "Associated Company", [3], ["555555555"])]
    report = imp(engine, playbook, "deals", tmp_path, text, create_accounts=True)
    accounts = {a.crm_id: a.name for a in rows(engine, Account)}
    assert accounts == {"1010101010": "Globex", "555555555": "HubSpot company 555555555"}
    assert next(n for n in report.notes if n.code == "placeholder_account").values == ["HubSpot company 555555555"]


def test_a_stage_entry_date_given_later_replaces_the_estimate(engine, playbook, tmp_path):
    first = imp(engine, playbook, "deals", tmp_path, "Id,Name,StageName,CreatedDate\nD1,Alpha,Prospecting,2025-01-06\n")
    assert next(n for n in first.notes if n.code == "estimated_entry").count == 1
    dated = "Id,Name,StageName,CreatedDate,LastStageChangeDate\nD1,Alpha,Prospecting,2025-01-06,2025-05-30T10:00:00Z\n"
    again = imp(engine, playbook, "deals", tmp_path, dated)
    assert again.updated == 1 and again.changes[0]["fields"] == {"stage_entered": [None, "2025-05-30T10:00:00+00:00"]}
    with session_scope(engine) as session:
        visit = session.exec(select(StageVisit)).one()
    assert (visit.entered_at, visit.estimated) == (datetime(2025, 5, 30, 10, tzinfo=UTC), False)
    assert imp(engine, playbook, "deals", tmp_path, dated).unchanged == 1
