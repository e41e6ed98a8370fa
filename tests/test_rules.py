"""The rule language admins write in config.toml, tested as pure functions."""
from datetime import date

import pytest

from playbook.rules import RuleError, check_fields, evaluate, explain, parse_rule

FIELDS = {"status": "text", "margin_pct": "number", "exec_sponsor": "bool", "last_contact": "date",
          "industry": "text", "days_since_last_contact": "number", "region": "text"}


def holds(rule, **facts):
    return evaluate(parse_rule(rule), facts)


def test_comparisons_on_numbers_text_dates_and_booleans():
    assert holds("margin_pct < 5", margin_pct=3) is True
    assert holds("margin_pct >= 5", margin_pct=3) is False
    assert holds("status = customer", status="Customer") is True
    assert holds("exec_sponsor = no", exec_sponsor=False) is True
    assert holds("last_contact < 2026-01-01", last_contact=date(2025, 6, 1)) is True
    assert holds("industry in [gambling, crypto]", industry="Crypto") is True
    assert holds("industry not in [gambling, crypto]", industry="retail") is True


def test_missing_data_is_unknown_not_false():
    assert holds("margin_pct < 5") is None
    assert holds("margin_pct < 5 or status = customer", status="customer") is True
    assert holds("margin_pct < 5 and status = customer", status="prospect") is False
    assert holds("margin_pct < 5 and status = customer", status="customer") is None
    assert holds("not margin_pct < 5") is None


def test_is_empty_and_is_set_are_never_unknown():
    assert holds("region is empty") is True
    assert holds("region is empty", region="") is True
    assert holds("region is set", region="Bretagne") is True
    assert holds("(region is empty or region not in [nord])") is True


def test_precedence_and_parentheses():
    rule = "status = customer and (margin_pct < 5 or (exec_sponsor = no and days_since_last_contact > 180))"
    assert holds(rule, status="customer", margin_pct=20, exec_sponsor=False, days_since_last_contact=200) is True
    assert holds(rule, status="customer", margin_pct=20, exec_sponsor=True, days_since_last_contact=200) is False
    assert holds(rule, status="prospect", margin_pct=1) is False


def test_text_compared_with_a_number_compares_as_text():
    assert holds("region = 75", region="75") is True


def test_french_connectives_are_understood():
    assert holds("status = customer et margin_pct < 5", status="customer", margin_pct=2) is True
    assert holds("status = former ou margin_pct < 5", status="customer", margin_pct=2) is True


def test_explain_reports_each_condition_with_the_value():
    rows = explain(parse_rule("status = customer and margin_pct >= 20"), {"status": "customer", "margin_pct": 12})
    assert [(r["condition"], r["value"], r["holds"]) for r in rows] == [
        ("status = customer", "customer", True), ("margin_pct >= 20", 12, False)]


@pytest.mark.parametrize("text", ["", "margin_pct", "margin_pct <", "margin_pct ~ 3", "(status = customer",
                                  "status = customer and", "industry in gambling"])
def test_unreadable_rules_are_refused(text):
    with pytest.raises(RuleError):
        parse_rule(text)


def test_unknown_field_and_wrong_kind_are_refused_with_the_fix():
    with pytest.raises(RuleError, match="unknown field 'margn_pct'.*Known fields"):
        check_fields(parse_rule("margn_pct < 5"), FIELDS, lambda: "here")
    with pytest.raises(RuleError, match="number field"):
        check_fields(parse_rule("margin_pct < low"), FIELDS, lambda: "here")
    with pytest.raises(RuleError, match="cannot be compared"):
        check_fields(parse_rule("status > customer"), FIELDS, lambda: "here")
