"""Seed 003's account plan as pure rules, with no database: a goal must be measurable and dated,
KPIs are found like account names and trend from their values, a plan's state, and what a
review carries into the next plan. The [plans] section of config.toml is checked at load."""
import tomllib
from datetime import date
from pathlib import Path

import pytest

from playbook.config import PlaybookError, load, parse
from playbook.plans import (
    KpiResult, PlanProblem, Task, carry_over, find_kpi, goal_problems, improving, kpi_status, kpi_trend,
    measurable_target, plan_state, read_day, split_goal,
)

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 3, 10)


@pytest.fixture(scope="module")
def kpis():
    return load(ROOT / "config.toml").plans.kpis


# --- dates and goals -------------------------------------------------------------------------

@pytest.mark.parametrize("text, day", [
    ("2026-06-30", date(2026, 6, 30)), ("30/06/2026", date(2026, 6, 30)), ("30/06", date(2026, 6, 30)),
    ("30 June", date(2026, 6, 30)), ("June 30, 2027", date(2027, 6, 30)), ("30 juin", date(2026, 6, 30)),
    ("1er février", date(2027, 2, 1)),  # without a year: the next one from today
    ("10 mars", date(2026, 3, 10)), ("31 décembre 2026", date(2026, 12, 31)),
])
def test_days_are_read_as_people_write_them(text, day):
    assert read_day(text, TODAY) == day


@pytest.mark.parametrize("text", ["tomorrow", "31/02/2026", "2026-13-01", "", "June"])
def test_unreadable_days_are_refused(text):
    with pytest.raises(PlanProblem) as info:
        read_day(text, TODAY)
    assert info.value.code == "bad_day"


@pytest.mark.parametrize("text, goal, day", [
    ('"5% more subscribers to the newsletter" by 30 June', "5% more subscribers to the newsletter", date(2026, 6, 30)),
    ("5% more subscribers to the newsletter by 30 June", "5% more subscribers to the newsletter", date(2026, 6, 30)),
    ("« 5 % d'abonnés en plus » d'ici le 30 juin", "5 % d'abonnés en plus", date(2026, 6, 30)),
    ("grow renewals by 10% by 2026-12-01", "grow renewals by 10%", date(2026, 12, 1)),
    ('"20 new users"', "20 new users", None),
])
def test_a_goal_and_its_date_are_told_apart(text, goal, day):
    assert split_goal(text, TODAY)[:2] == (goal, day)


def test_a_date_word_followed_by_no_date_is_reported_not_guessed():
    assert split_goal("win three departments by next year", TODAY) == ("win three departments", None, "next year")


def test_a_valid_goal_is_specific_measurable_and_dated():
    assert goal_problems("5% more subscribers to the newsletter", date(2026, 6, 30), TODAY) == []
    assert goal_problems("More subscribers to the newsletter", date(2026, 6, 30), TODAY) == ["target"]
    assert goal_problems("5% more subscribers", None, TODAY) == ["date"]
    assert goal_problems("5% more subscribers", TODAY, TODAY) == ["past"]
    assert goal_problems("grow", None, TODAY) == ["vague", "target", "date"]


def test_the_measurable_target_is_the_goals_number_with_its_unit():
    assert measurable_target("5% more subscribers") == "5%"
    assert measurable_target("€50k of upsell") == "€50k"
    assert measurable_target("20 new users in finance") == "20"
    assert measurable_target("more users") is None


# --- KPIs ------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, kpi_id", [
    ("churn_rate", "churn_rate"), ("Churn-Rate", "churn_rate"), ("churn", "churn_rate"), ("CHURN RATE", "churn_rate"),
    ("email", "email_response_rate"), ("e-mail", "email_response_rate"), ("cross", "cross_sell_revenue"),
    ("taux d'attrition", "churn_rate"), ("attrition", "churn_rate"), ("rétention", "retention_rate"),
    ("renewal", "renewal_revenue"), ("referrals", "referrals"),
])
def test_a_kpi_is_found_like_an_account_name(kpis, typed, kpi_id):
    found, candidates = find_kpi(typed, kpis)
    assert found is not None and found.id == kpi_id and candidates == []


def test_an_ambiguous_or_unknown_kpi_gives_its_candidates(kpis):
    found, candidates = find_kpi("strategic", kpis)
    assert found is None and {k.id for k in candidates} == {"strategic_emails", "strategic_calls"}
    assert find_kpi("nothing like it", kpis) == (None, [])


def test_the_default_kpis_are_the_seeds():
    ids = [k.id for k in load(ROOT / "config.toml").plans.kpis]
    assert ids[:10] == ["churn_rate", "retention_rate", "email_response_rate", "call_response_rate",
                        "strategic_emails", "strategic_calls", "referrals", "cross_sell_revenue", "upsell_revenue",
                        "renewal_revenue"]


def test_kpi_trend_compares_the_latest_value_with_the_oldest_of_the_window():
    d = [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
    assert kpi_trend([(d[0], 5.0)]) is None
    assert kpi_trend([(d[1], 4.0), (d[0], 5.0)]) == "down"  # sorted by day, whatever the order given
    assert kpi_trend([(d[0], 100.0), (d[1], 100.5)]) == "flat"
    assert kpi_trend([(d[0], 1.0), (d[1], 9.0), (d[2], 2.0), (d[3], 3.0)]) == "down"  # last three: 9 -> 3
    assert kpi_trend([(d[0], 9.0), (d[1], 1.0), (d[2], 2.0), (d[3], 3.0)], window=3) == "up"
    assert improving("down", "lower") is True and improving("down", "higher") is False
    assert improving("flat", "higher") is None and improving(None, "higher") is None


def test_kpi_status_against_the_target_knows_which_way_is_better():
    assert kpi_status(None, 3.0, "higher", 25) is None
    assert kpi_status(100, None, "higher", 25) == "unmeasured"
    assert kpi_status(100, 100, "higher", 25) == "met"
    assert kpi_status(100, 80, "higher", 25) == "below"
    assert kpi_status(100, 75, "higher", 25) == "far_below"
    assert kpi_status(3, 2.5, "lower", 25) == "met"       # churn under its target is met
    assert kpi_status(3, 3.5, "lower", 25) == "below"
    assert kpi_status(3, 4, "lower", 25) == "far_below"
    assert kpi_status(0, 1, "lower", 25) == "far_below"


# --- plan state ----------------------------------------------------------------------------------

def test_plan_state_review_due_first_then_overdue_tasks_then_no_goal():
    soon = date(2026, 6, 30)
    assert plan_state(soon, TODAY) == "on_track"
    assert plan_state(soon, TODAY, overdue_tasks=2) == "tasks_overdue"
    assert plan_state(date(2026, 3, 9), TODAY, overdue_tasks=2) == "review_due"
    assert plan_state(TODAY, TODAY) == "on_track"  # due today: not passed yet
    assert plan_state(None, TODAY, has_goal=False) == "no_goal"
    assert plan_state(None, TODAY, overdue_tasks=1, has_goal=False) == "tasks_overdue"


# --- the review's carry-over ------------------------------------------------------------------------

def test_review_carries_open_tasks_and_turns_unmet_kpis_into_tasks():
    tasks = [Task(1, "Send the ROI study", "internal", "alice", date(2026, 3, 1)),
             Task(2, "Workshop", "internal", "alice", date(2026, 2, 1), done=True),
             Task(3, "Security questionnaire", "client", "Jeanne Roy", date(2026, 4, 1))]
    kpis = [KpiResult("churn_rate", 3.0, 4.0, "far_below"), KpiResult("referrals", 2.0, 2.0, "met"),
            KpiResult("strategic_calls", 10.0, None, "unmeasured"), KpiResult("renewal_revenue", 100.0, 90.0, "below")]
    coming = carry_over(tasks, kpis, today=TODAY, owner="alice", kpi_task_days=30)
    carried = [t for t in coming if t.carried_from]
    assert [(t.carried_from, t.text, t.owner_kind, t.owner_name, t.due) for t in carried] == [
        (1, "Send the ROI study", "internal", "alice", date(2026, 3, 1)),
        (3, "Security questionnaire", "client", "Jeanne Roy", date(2026, 4, 1))]
    made = [t for t in coming if not t.carried_from]
    assert [(t.kpi_id, t.kpi_target, t.kpi_latest, t.owner_name, t.due, t.text) for t in made] == [
        ("churn_rate", 3.0, 4.0, "alice", date(2026, 4, 9), None),
        ("strategic_calls", 10.0, None, "alice", date(2026, 4, 9), None),
        ("renewal_revenue", 100.0, 90.0, "alice", date(2026, 4, 9), None)]


def test_a_kpi_whose_task_is_carried_gets_no_second_task():
    tasks = [Task(4, None, "internal", "alice", date(2026, 3, 1), kpi_id="churn_rate", kpi_target=3.0, kpi_latest=5.0)]
    coming = carry_over(tasks, [KpiResult("churn_rate", 3.0, 4.0, "below")], today=TODAY, owner="alice",
                        kpi_task_days=30)
    assert [(t.kpi_id, t.carried_from) for t in coming] == [("churn_rate", 4)]


def test_nothing_open_and_every_kpi_met_carries_nothing():
    assert carry_over([Task(1, "x", "internal", "a", TODAY, done=True)], [KpiResult("referrals", 2, 3, "met")],
                      today=TODAY, owner="a", kpi_task_days=30) == []


# --- [plans] in config.toml ------------------------------------------------------------------------

def _data() -> dict:
    return tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))


def test_the_shipped_plans_section_has_the_seeds_questions_in_both_languages():
    rules = load(ROOT / "config.toml").plans
    assert len(rules.discovery) == 6 and len(rules.review) == 4
    assert all(set(q.text) == {"en", "fr"} for q in rules.discovery + rules.review)
    assert rules.kpi("churn_rate").better == "lower" and rules.kpi("renewal_revenue").unit == "money"


def test_a_playbook_without_plans_gets_the_shipped_ones():
    data = _data()
    data.pop("plans")
    assert [k.id for k in parse(data, "mine.toml").plans.kpis] == [k.id for k in load(ROOT / "config.toml").plans.kpis]


@pytest.mark.parametrize("mutate, key, words", [
    (lambda p: p["kpis"][0].__setitem__("better", "up"), "plans.kpis.churn_rate.better", "higher"),
    (lambda p: p["kpis"][0].__setitem__("unit", "euros"), "plans.kpis.churn_rate.unit", "money"),
    (lambda p: p["kpis"].append(dict(p["kpis"][0])), "plans.kpis", "duplicate id 'churn_rate'"),
    (lambda p: p["review"][0].__setitem__("id", "worked"), "plans.review[0].id", "taken"),
    (lambda p: p["discovery"][0].pop("text"), "plans.discovery.reputation.text", "missing"),
    (lambda p: p.__setitem__("trend_window", 1), "plans.trend_window", "at least 2"),
    (lambda p: p.__setitem__("far_below_pct", 150), "plans.far_below_pct", "between 0 and 100"),
    (lambda p: p.__setitem__("colour", "blue"), "plans.colour", "unknown key"),
])
def test_a_broken_plans_section_is_refused_with_the_key_and_the_fix(mutate, key, words):
    data = _data()
    mutate(data["plans"])
    with pytest.raises(PlaybookError) as info:
        parse(data, "mine.toml")
    assert info.value.key == key and words in info.value.problem
