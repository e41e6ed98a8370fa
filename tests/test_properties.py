"""Property-based tests (hypothesis) of every way text and values enter Gare: the command grammar
(registry.run on any text), CSV imports (generated rows and broken files), Slack modal and Teams
card submissions (generated values). For every input: no crash, no trace in a reply, and the
database unchanged unless the input was accepted.

Profiles: `ci` (the default) is derandomized (the same examples every run) and bounded so that
the module stays under a minute per database; `long` tries 10,000 examples per entry point:
    GARE_HYPOTHESIS=long GARE_TEST_DB=sqlite .venv/bin/pytest -q tests/test_properties.py
"""
from __future__ import annotations

import csv
import hashlib
from dataclasses import replace
import io
import json
import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlmodel import SQLModel

from bot.render import render
from fake_teams import find_action
from handlers.demo import load_demo_data
from handlers.imports import import_file
from handlers.registry import run as run_command
from handlers.reply import Context
from playbook.words import COMMAND_WORDS
from store.database import session_scope
from store.models import Account
from store.values import LIMITS
from teams_harness import card

PROFILE = os.environ.get("GARE_HYPOTHESIS", "ci")
settings.register_profile("ci", derandomize=True, deadline=None, database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                 HealthCheck.data_too_large, HealthCheck.filter_too_much])
settings.register_profile("long", parent=settings.get_profile("ci"), derandomize=False)


def examples(ci: int):
    """This entry point's settings: `ci` examples in the ci profile, 10,000 in the long one."""
    return settings(settings.get_profile(PROFILE), max_examples=10_000 if PROFILE == "long" else ci)


# --- what the database holds, to tell whether an input changed it ----------------------------------

# Once-only claims of deliveries, conversations and speakers met, messages queued: the transport's
# own records, written whatever the input (a claim is released when the input is refused).
TRANSPORT = {"handled_event", "chat_message", "teams_conversation", "chat_user", "outbox_message"}


def fingerprint(engine) -> str:
    """Every row of every table (the demo book is small), hashed."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in TRANSPORT:
                continue
            for row in conn.execute(select(table).order_by(*table.primary_key.columns)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def no_trace(reply_text: str) -> None:
    assert "Traceback" not in reply_text and 'File "' not in reply_text, reply_text


def stored_numbers_within_limits(engine) -> None:
    with engine.connect() as conn:
        for row in conn.execute(text("SELECT annual_revenue, employees, margin_pct, lifetime_value FROM account")):
            for field, value in zip(("annual_revenue", "employees", "margin_pct", "lifetime_value"), row):
                if value is not None:
                    low, high = LIMITS[field]
                    assert math.isfinite(value) and low <= value <= high, (field, value)


@pytest.fixture
def demo(engine, playbook):
    from teams_harness import NOW

    ctx = Context(engine=engine, playbook=playbook, actor="demo", clock=lambda: NOW)
    load_demo_data(ctx)
    with session_scope(engine) as s:
        names = [n for (n,) in s.execute(select(Account.name).order_by(Account.name).limit(6))]
    return ctx, names


# --- values people type ----------------------------------------------------------------------------

NASTY_NUMBERS = ["1e308", "-1e308", "1e20", "9" * 40, "nan", "inf", "-inf", "Infinity", "1e-400", "-0", "0x10",
                 "1_000", "١٢٣", "½", "1,2,3", "(5)", "€ 3 000", "12 %", "101", "-1", "2147483648", "1.5", ""]
numbers = st.one_of(st.sampled_from(NASTY_NUMBERS), st.floats(allow_nan=True, allow_infinity=True).map(repr),
                    st.integers(min_value=-10**30, max_value=10**30).map(str))
words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
values = st.one_of(numbers, words, st.sampled_from(["yes", "non", "2026-02-30", "31/12/2026", "today", "auto",
                                                    "expand", "customer", "=HYPERLINK(1)", "\x00", "'", '"', "#1"]))
FIELDS = ["annual_revenue", "employees", "margin_pct", "lifetime_value", "nps", "status", "sector", "owner",
          "industry", "last_contact", "exec_sponsor", "profile", "tier", "churn_reason", "amount", "name"]


def command_text(names: list[str]):
    verbs = sorted({w for forms in COMMAND_WORDS.values() for ws in forms.values() for w in ws})
    subject = st.one_of(st.sampled_from(names).map(lambda n: f'"{n}"'), st.sampled_from(names), words,
                        st.sampled_from(["#1", "#999999999999999999999", "#0", "#-1"]))
    near = st.one_of(st.integers(-10, 10**7).map(str), st.sampled_from(["0", "100", "1e15", "2000000000", "yes",
                                                                        "customer", "public", "2026-01-15", "alice"]))
    change = st.tuples(st.sampled_from(FIELDS), st.one_of(near, values)).map(lambda fv: f"{fv[0]}={fv[1]}")
    structured = st.tuples(st.sampled_from(verbs), subject, st.sampled_from(["", "set", "page", "owner=", "tier="]),
                           st.lists(st.one_of(change, values, words), max_size=3)).map(
        lambda t: " ".join([t[0], t[1], t[2], *t[3]]))
    # The commands that write, with values near and beyond their limits.
    setting = st.tuples(st.sampled_from(names), st.lists(change, min_size=1, max_size=3)).map(
        lambda t: f'account "{t[0]}" set ' + " ".join(t[1]))
    kpi = st.tuples(st.sampled_from(names), st.sampled_from(["churn", "referrals", "renewal_revenue", "x"]),
                    st.one_of(numbers, st.integers(-5, 150).map(str))).map(lambda t: f'kpi "{t[0]}" {t[1]} {t[2]}')
    return st.one_of(structured, setting, kpi, words)


# --- 1. the command grammar ------------------------------------------------------------------------

@pytest.fixture
def grammar_cases(demo):
    return demo


def test_any_text_typed_gets_a_polite_reply_and_changes_nothing_unless_accepted(grammar_cases, engine):
    ctx, names = grammar_cases
    admin = Context(engine=engine, playbook=ctx.playbook, actor="ops", owner=None, language="en", clock=ctx.clock)
    tried = {"n": 0, "accepted": 0}

    @examples(150)
    @given(text_=command_text(names), language=st.sampled_from(["en", "fr"]))
    def check(text_, language):
        tried["n"] += 1
        before = fingerprint(engine)
        reply = run_command(replace(admin, language=language), text_)
        assert reply.data.get("error") != "internal", (text_, reply.data)
        no_trace(render(reply, surface="text", language=language))
        if reply.ok:
            tried["accepted"] += 1
        else:
            assert fingerprint(engine) == before, text_

    check()
    stored_numbers_within_limits(engine)
    print(f"grammar: {tried['n']} texts, {tried['accepted']} accepted")


# --- 2. CSV imports --------------------------------------------------------------------------------

HEADERS = ["name", "owner", "status", "annual_revenue", "employees", "margin_pct", "nps", "last_contact",
           "exec_sponsor", "sector", "lifetime_value", "churn_reason", "crm_id"]


CLEAN = {
    "name": st.from_regex(r"[A-Z][a-z]{2,9}( Co| SA| Ltd)?", fullmatch=True),
    "owner": st.sampled_from(["alice", "bruno", "chloe", ""]),
    "status": st.sampled_from(["customer", "prospect", "former", "client"]),
    "annual_revenue": st.integers(0, 10**12).map(str), "lifetime_value": st.integers(0, 10**9).map(str),
    "employees": st.integers(0, 10**6).map(str), "margin_pct": st.integers(0, 100).map(str),
    "nps": st.integers(-100, 100).map(str), "last_contact": st.dates().map(str),
    "exec_sponsor": st.sampled_from(["yes", "no", "oui"]), "sector": st.sampled_from(["commercial", "public"]),
    "churn_reason": words, "crm_id": st.from_regex(r"[0-9A-Z]{6}", fullmatch=True),
}


@st.composite
def csv_files(draw):
    """A file of accounts: known columns, mostly clean values with hostile ones among them, and
    now and then a broken structure (a stray quote, a cut, a row in another delimiter, binary)."""
    # (hypothesis shrinks an integer towards 0: 0 is the common case, 9 the rare one)
    headers = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=6, unique=True))
    if "name" not in headers and draw(st.integers(0, 9)) < 9:
        headers.insert(0, "name")
    if draw(st.integers(0, 9)) == 9:
        headers.append(headers[0])  # a column named twice
    cell = {h: st.one_of(CLEAN[h], CLEAN[h], CLEAN[h], values) for h in headers}
    rows = [list(r) for r in draw(st.lists(st.tuples(*(cell[h] for h in headers)), max_size=6))]
    if "name" in headers:  # one row per account, unless the file says otherwise
        at = headers.index("name")
        for n, row in enumerate(rows):
            row[at] = f"{row[at]} {n}" if row[at].strip() else row[at]
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(headers)
    writer.writerows(rows)
    data = out.getvalue()
    damage = (["none"] * 6 + ["quote", "cut", "other_delimiter", "bytes"])[draw(st.integers(0, 9))]
    if damage == "quote":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + '"' + data[at:]
    elif damage == "cut":
        data = data[:draw(st.integers(0, len(data)))]
    elif damage == "other_delimiter":
        data += ";".join(["Mixed Co", "alice", "customer"]) + "\n"
    encoded = data.encode("utf-8", "surrogatepass")
    if damage == "bytes":
        encoded = draw(st.binary(max_size=200)) + encoded
    return encoded


def test_any_csv_is_imported_whole_or_refused_with_nothing_written(demo, engine, tmp_path):
    ctx, _ = demo
    admin = Context(engine=engine, playbook=ctx.playbook, actor="ops", owner=None, language="en", clock=ctx.clock)
    tried = {"n": 0, "written": 0}

    @examples(100)
    @given(content=csv_files())
    def check(content):
        tried["n"] += 1
        path = tmp_path / "accounts.csv"
        path.write_bytes(content)
        before = fingerprint(engine)
        reply = import_file(admin, "accounts", path)
        no_trace(render(reply, surface="text", language="en"))
        if reply.ok and reply.data.get("created", 0) + reply.data.get("updated", 0):
            tried["written"] += 1
        if not reply.ok:
            assert fingerprint(engine) == before

    check()
    stored_numbers_within_limits(engine)
    print(f"csv: {tried['n']} files, {tried['written']} written")


# --- 3. Slack modals -------------------------------------------------------------------------------

MODAL_FIELDS = ["owner", "industry", "region", "annual_revenue", "employees", "margin_pct", "lifetime_value"]


def test_any_slack_modal_submission_is_saved_or_refused_under_its_field(rig):
    from test_slack_modals import _state

    name = run_command(rig.context(), "accounts owner=alice").data["accounts"][0]["account"]
    card_ = rig.wait_response(rig.command(f"account {name}"))
    rig.click("U_ALICE", card_["blocks"], "gare_edit_account")
    opened = {"views": 1, "view": rig.wait_call("views.open")["view"]}
    opened["shown"] = shown = _state(opened["view"])
    tried = {"n": 0, "saved": 0}

    def reopen():
        """A saved form is done with: the next submission is of a form opened anew, from a new card."""
        opened["views"] += 1
        rig.click("U_ALICE", card_["blocks"], "gare_edit_account", message_ts=f"{opened['views']}.0")
        opened["view"] = rig.wait_call("views.open", count=opened["views"])["view"]
        opened["shown"] = _state(opened["view"])

    @examples(60)
    @given(changes=st.dictionaries(st.sampled_from([f for f in MODAL_FIELDS if f"f_{f}" in shown]), values,
                                   min_size=1, max_size=3))
    def check(changes):
        tried["n"] += 1
        before = fingerprint(rig.engine)
        submitted = {**opened["shown"], **{f"f_{k}": {"type": "plain_text_input", "value": v} for k, v in changes.items()}}
        view = {**opened["view"], "id": f"V{tried['n']}"}
        status, answer = rig.submit("U_ALICE", view, submitted)
        assert status == 200
        no_trace(json.dumps(answer, ensure_ascii=False))
        if answer.get("response_action") == "errors":
            assert set(answer["errors"]) <= {f"f_{k}" for k in changes} | set(shown), answer
            assert fingerprint(rig.engine) == before, changes
        else:
            tried["saved"] += 1
            assert answer == {}, answer
            reopen()

    check()
    stored_numbers_within_limits(rig.engine)
    print(f"slack modal: {tried['n']} submissions, {tried['saved']} saved")


# --- 4. Teams cards --------------------------------------------------------------------------------

def test_any_teams_card_submission_is_saved_or_refused_under_its_field(teams):
    with session_scope(teams.engine) as s:
        name = s.execute(select(Account.name).where(Account.owner == "alice").order_by(Account.name)).scalars().first()
    account = card(teams.say(f'account "{name}"'))
    form = card(teams.submit({}, find_action(account, verb="edit_account")))
    save = find_action(form, verb="save_account")
    inputs = {i["id"] for i in form["body"] if (i.get("type") or "").startswith("Input.")}
    tried = {"n": 0, "saved": 0}

    @examples(60)
    @given(changes=st.dictionaries(st.sampled_from(sorted(i for i in inputs if i.startswith("f_"))), values,
                                   min_size=1, max_size=3))
    def check(changes):
        tried["n"] += 1
        before = fingerprint(teams.engine)
        answer = teams.execute(save, inputs=changes)
        value = answer["value"]
        said = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        no_trace(said)
        assert "something went wrong" not in said.lower()
        if "Saved" in said:
            tried["saved"] += 1
        else:
            assert fingerprint(teams.engine) == before, changes

    check()
    stored_numbers_within_limits(teams.engine)
    print(f"teams card: {tried['n']} submissions, {tried['saved']} saved")
