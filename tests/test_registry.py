"""The command registry is the one place a command is declared: these tests walk it. Every
command parses from its own examples in both languages, has help in both, every word the
grammar accepts is known to `help`, and every reply a command can return renders on every chat
surface in both languages, as does every refusal the handlers can raise."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlmodel import select

from bot.render import SURFACES, TEMPLATES, environment, render
from handlers import registry
from handlers.manager_digest import manager_digest_data
from handlers.demo import load_demo_data
from handlers.directory import check
from handlers.reply import Context, Reply
from playbook.words import COMMAND_WORDS, KEYWORDS
from store.database import session_scope
from store.models import Account, AccountPlan, Deal, PlanTask, StageVisit

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parent.parent
CHAT_SURFACES = [s for s in SURFACES if s != "text" and any((TEMPLATES / s).glob("*.j2"))]


def test_every_command_parses_from_its_examples_in_both_languages():
    for command in registry.COMMANDS:
        for language in ("en", "fr"):
            examples = command.examples.get(language)
            assert examples, f"{command.name} has no {language} example"
            for text in examples:
                assert registry.parse(text).name == command.name, (command.name, text)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_command_has_help_in_both_languages(language):
    env = environment("text", language)
    macros = env.get_template("_help.txt.j2").module
    english = environment("text", "en").get_template("_help.txt.j2").module
    for command in registry.COMMANDS:
        summary, detail = str(macros.summary(command.name)).strip(), str(macros.detail(command.name)).strip()
        assert summary and detail, f"no help line for {command.name} in templates/text/_help.txt.j2"
        if language == "fr":
            assert detail != str(english.detail(command.name)).strip(), f"{command.name}: help not translated"
        for kind, text in registry.usage(command, language):
            if kind == "param" and text != "N":
                shown = str(macros.placeholder(text))
                assert shown and (language == "en" or shown != text), f"placeholder {text!r} not translated"


def test_help_knows_every_word_the_grammar_accepts():
    for table in (COMMAND_WORDS, KEYWORDS):
        for family, by_language in table.items():
            for words in by_language.values():
                for word in words:
                    assert registry.topic_of(word) is not None, f"help {word} has no topic"


def test_help_lists_every_command_and_a_topic_lists_only_its_own():
    ctx_data = registry.help_(_bare_context(), None).data
    assert {c["name"] for c in ctx_data["commands"]} == {c.name for c in registry.COMMANDS}
    deal = registry.help_(_bare_context(), "affaire").data
    assert deal["topic"] == "deal" and {c["name"] for c in deal["commands"]} == {
        "deal", "deal_set", "deal_stage", "deal_nurture", "deal_snooze"}


def _bare_context():
    from playbook.config import load

    return Context(engine=None, playbook=load(ROOT / "config.toml"), actor="t", language="en")


# --- every reply on every surface -------------------------------------------------------------

def _world(engine, playbook) -> None:
    """The demo, plus the names the examples use (Acme, Acme Renewal) and a rep with nothing due."""
    load_demo_data(Context(engine=engine, playbook=playbook, actor="demo", clock=lambda: NOW))
    with session_scope(engine) as s:
        acme = Account(name="Acme", owner="alice", status="customer", margin_pct=25, employees=300,
                       exec_sponsor=True, lifetime_value=300_000, annual_revenue=40_000_000)
        quiet = Account(name="Quiet Co", owner="quentin", status="prospect", employees=5)
        casino = Account(name="Casino Royale", owner="alice", status="prospect", industry="gambling", employees=400)
        thin = Account(name="Thin Co", owner="alice", status="customer", margin_pct=2, employees=90)
        s.add_all([acme, quiet, casino, thin])
        s.flush()
        renewal = Deal(name="Acme Renewal", account_id=acme.id, owner="alice", stage="proposal", amount=50_000)
        bet = Deal(name="Casino Pilot", account_id=casino.id, owner="alice", stage="qualification", amount=9_000)
        s.add_all([renewal, bet])
        s.flush()
        s.add(StageVisit(deal_id=renewal.id, stage="proposal", entered_at=NOW - timedelta(days=40)))
        s.add(StageVisit(deal_id=bet.id, stage="qualification", entered_at=NOW - timedelta(days=3)))


EXTRA_RUNS = ["deal Casino Pilot stage proposal", "account Thin Co decide raised spoke with their CFO",
              "nudge quentin", "account Nowhere", "deal Nowhere", "accounts tier=9", "deals lost", "bonjour",
              "checklist Acme Renewal tick zzz", "account Acme set margin=abc", "done Acme 9"]


def test_every_reply_renders_on_every_surface_in_both_languages(engine, playbook):
    _world(engine, playbook)
    seen: dict[str, list[Reply]] = {}
    for language in ("en", "fr"):
        ctx = Context(engine=engine, playbook=playbook, actor="alice", owner="alice", language=language,
                      clock=lambda: NOW)
        texts = [e for c in registry.COMMANDS for lang in ("en", "fr") for e in c.examples[lang]] + EXTRA_RUNS
        for text in texts:
            reply = registry.run(ctx, text)
            seen.setdefault(reply.template, []).append(reply)
            for surface in ["text", *CHAT_SURFACES]:
                out = render(reply, surface=surface, language=language)
                assert out, (text, surface)
                if surface == "text":
                    assert "Traceback" not in out and out.strip(), text
    declared = {r for c in registry.COMMANDS for r in c.replies} | {"error", "help"}
    missing = declared - set(seen)
    assert not missing, f"no example or extra run returns {sorted(missing)}"


@pytest.mark.parametrize("surface", CHAT_SURFACES)
def test_every_declared_reply_has_a_template_on_every_surface(surface):
    ext = SURFACES[surface]
    for command in registry.COMMANDS:
        for reply in (*command.replies, "error"):
            assert (TEMPLATES / "text" / f"{reply}.txt.j2").is_file(), reply
            assert (TEMPLATES / surface / f"{reply}.{ext}.j2").is_file(), f"{reply} has no {surface} template"


def test_the_terminals_own_replies_reach_a_chat_as_their_text(engine, playbook, caplog):
    """Replies only the terminal returns today (demo, people check, export) still have chat
    templates: should one reach Slack or Teams, it says what the terminal says, not a fallback."""
    ctx = Context(engine=engine, playbook=playbook, actor="alice", owner="alice", language="fr", clock=lambda: NOW)
    replies = [load_demo_data(ctx), check(ctx), Reply("export_done", {"kind": "accounts", "rows": 68})]
    for reply in replies:
        text = render(reply, language="fr").strip()
        first = text.splitlines()[0]
        for surface in CHAT_SURFACES:
            out = json.dumps(render(reply, surface=surface, language="fr"), ensure_ascii=False)
            assert first.replace('"', '\\"') in out, (reply.template, surface)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # no fallback was needed


def _refusal_codes() -> set[str]:
    codes = set()
    for path in list((ROOT / "handlers").glob("*.py")) + [ROOT / "handlers" / "reply.py"]:
        codes |= set(re.findall(r'Refusal\(\s*"([a-z_]+)"', path.read_text(encoding="utf-8")))
    return codes


def test_every_refusal_a_handler_raises_has_its_own_words():
    """A refusal that fell through to the generic "something went wrong" would leave the user
    without the fix: each code has its own sentence, in both languages, on every surface."""
    generic = render(Reply("error", {"error": "internal"}, ok=False), language="en").strip()
    for code in sorted(_refusal_codes()):
        data = {"error": code, "name": "X", "field": "f", "value": "v", "expected": "number", "got": "x",
                "suggestions": [], "known": [], "stages": [], "deal": "D", "status": "won", "limit": 5,
                "item": "i", "account": "A", "command": "deal", "until": NOW.date(), "today": NOW.date(),
                "rule": "not_yours", "needs": "manager", "owner": "bob", "verb": "change", "example": None}
        for language in ("en", "fr"):
            text = render(Reply("error", data, ok=False), language=language).strip()
            assert text and text != generic, f"refusal {code!r} has no words of its own"
            for surface in CHAT_SURFACES:
                assert render(Reply("error", data, ok=False), surface=surface, language=language)


def test_a_reply_without_a_chat_template_falls_back_to_its_text(caplog):
    """Never silence: a reply with only a text template reaches a chat as that text, and the
    gap is logged as an error for the team to fix."""
    reply = Reply("console_goodbye", {})
    text = render(reply, language="fr").strip()
    for surface in CHAT_SURFACES:
        caplog.clear()
        out = render(reply, surface=surface, language="fr")
        assert text in str(out)
        assert any(r.levelname == "ERROR" and "console_goodbye" in r.getMessage() for r in caplog.records)


# --- no mixed languages ---------------------------------------------------------------------------

TELL_TALE = {
    # words that give a reply away as French in an English reply, and the reverse
    "en": re.compile(r"\b(affaires?|gelées?|niveaux?|étapes?|relances?|jours|comptes?|depuis|aucune?|réglages|"
                     r"semaine|équipe|proposition|négociation)\b", re.I),
    "fr": re.compile(r"\b(deals?|frozen|stage|since|days|tiers?|accounts?|nothing|settings|week|team|"
                     r"proposal|negotiation|stuck|skipped)\b", re.I),
}


def test_no_reply_mixes_languages(engine, playbook):
    """Every reply rendered in English has no French word, and the reverse, once the names of
    records and people (which are what they are) are taken out."""
    _world(engine, playbook)
    with session_scope(engine) as s:
        names = list(s.exec(select(Account.name))) + list(s.exec(select(Deal.name)))
        # what people wrote in plans is theirs, in whatever language they wrote it
        names += [t for t in s.exec(select(PlanTask.text)) if t] + [g for g in s.exec(select(AccountPlan.goal)) if g]
    names = sorted(set(names) | {"alice", "bruno", "chloe", "david", "emma", "farid", "claire", "hugo", "sophie"},
                   key=len, reverse=True)
    problems = []
    for language in ("en", "fr"):
        ctx = Context(engine=engine, playbook=playbook, actor="alice", owner="alice", language=language,
                      clock=lambda: NOW)
        with session_scope(engine) as s:
            digest_reply = Reply("manager_digest", manager_digest_data(s, ctx, "hugo"))
        for text in [e for c in registry.COMMANDS for e in c.examples[language]] + EXTRA_RUNS + ["nudge david", None]:
            reply = registry.run(ctx, text) if text is not None else digest_reply
            out = render(reply, language=language)
            for name in names:
                out = out.replace(name, " ")
            # command words and placeholders the reader types are the grammar's, not prose
            out = re.sub(r"^.*(deal|affaire|account|compte) [A-Z\"].*$", " ", out, flags=re.M)
            hits = TELL_TALE[language].findall(out)
            if hits:
                problems.append((language, text, sorted(set(hits))))
    assert not problems, problems


def test_every_chat_card_has_its_text_for_notifications_and_fallback():
    """Teams sends each card with a summary and a fallback text made from the text template: a
    card without one (a form) could not be sent at all."""
    for surface in CHAT_SURFACES:
        ext = SURFACES[surface]
        for path in (TEMPLATES / surface).glob(f"*.{ext}.j2"):
            name = path.name[: -len(f".{ext}.j2")]
            if name.startswith("_") or name.endswith("_modal"):  # building blocks; Slack modals carry their own title
                continue
            assert (TEMPLATES / "text" / f"{name}.txt.j2").is_file(), f"{surface}/{path.name} has no text template"
