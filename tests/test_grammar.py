"""The one grammar every channel shares, as pure parsing: English and French words, names with
spaces, accents and keywords inside them."""
import pytest

from handlers.registry import parse
from handlers.reply import Refusal


@pytest.mark.parametrize("text, name, args", [
    ("fit Acme", "fit", {"account": "Acme"}),
    ("is Société Générale a fit?", "fit", {"account": "Société Générale"}),
    ("est-ce que Boulangerie Martin convient ?", "fit", {"account": "Boulangerie Martin"}),
    ("Boulangerie Martin est-elle adaptée ?", "fit", {"account": "Boulangerie Martin"}),
    ("compte Acme", "account", {"account": "Acme"}),
    ('account "Jet Set Travel" set margin_pct=3', "account_set", {"account": "Jet Set Travel",
                                                                 "changes": {"margin_pct": "3"}}),
    ("account Jet Set Travel set owner=Jean Dupont region=Île de France", "account_set",
     {"account": "Jet Set Travel", "changes": {"owner": "Jean Dupont", "region": "Île de France"}}),
    ("comptes garder tier=1 owner=@me", "accounts", {"profile": "garder", "tier": 1, "owner": "@me"}),
    ("affaire Acme Renouvellement étape négociation", "deal_stage",
     {"deal": "Acme Renouvellement", "stage": "négociation"}),
    ('deal "Stage Two" stage proposal', "deal_stage", {"deal": "Stage Two", "stage": "proposal"}),
    ("deal Acme Renewal nurture buyer not at proposal stage yet", "deal_nurture",
     {"deal": "Acme Renewal", "reason": "buyer not at proposal stage yet"}),
    ("deal Acme Renewal snooze 2027-01-15 budget in January", "deal_snooze",
     {"deal": "Acme Renewal", "until": "2027-01-15", "reason": "budget in January"}),
    ("affaires gelées alice", "deals_frozen", {"owner": "alice"}),
    ("deals skipped owner=bob", "deals_skipped", {"owner": "bob"}),
    ("checklist Acme Renewal tick budget, pain", "checklist_answer",
     {"name": "Acme Renewal", "answers": {"budget": "yes", "pain": "yes"}}),
    ("checklist Acme Renewal no_exec_sponsor=no", "checklist_answer",
     {"name": "Acme Renewal", "answers": {"no_exec_sponsor": "no"}}),
    ("fait Acme 2", "action_done", {"account": "Acme", "number": "2"}),
    ("réglages jour=mardi", "settings", {"changes": {"jour": "mardi"}}),
    ("niveaux", "tiers", {"profile": None, "tier": None, "owner": None}),
    ("étapes", "stages", {}),
    ("", "help", {}),
])
def test_commands_parse_in_both_languages(text, name, args):
    command = parse(text)
    assert command.name == name
    assert command.args == args or all(command.args.get(k) == v for k, v in args.items())


@pytest.mark.parametrize("text, code", [
    ("fit", "bad_syntax"), ("deals lost", "bad_syntax"), ("accounts tier=4", "bad_tier"),
    ("accounts colour=red", "bad_filter"), ("account Acme set", "bad_syntax"), ("bonjour", "unknown_command"),
    ("account Acme set margin=1 margin=2", "duplicate_field"),
])
def test_bad_syntax_is_a_refusal_with_a_code(text, code):
    with pytest.raises(Refusal) as info:
        parse(text)
    assert info.value.code == code
