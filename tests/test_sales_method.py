"""The sales method as pure functions over plain data: GARE profiles and let-go, the misfit
checklist, stage-time indicators and tiers. No database."""
from datetime import date, datetime, timedelta, timezone

from playbook.assessment import assess_account
from playbook.facts import account_facts
from playbook.misfit import assess_fit
from playbook.profiles import decide_profile
from playbook.stage_aging import Visit, deal_timing, frozen_deals, skipped_deals
from playbook.tiers import pyramid, score_account

TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)


def facts(playbook, deals=(), **account):
    return account_facts(account, deals, TODAY, playbook)


# --- GARE profiles ---------------------------------------------------------------------------

def test_each_profile_is_decided_by_its_rule(playbook):
    expand = facts(playbook, status="customer", lifetime_value=300000, margin_pct=25, exec_sponsor=True)
    keep = facts(playbook, status="customer", lifetime_value=20000, margin_pct=25, exec_sponsor=True)
    acquire = facts(playbook, status="prospect", employees=200, annual_revenue=30_000_000)
    win_back = facts(playbook, status="former", margin_pct=22)
    assert decide_profile(expand, playbook).profile == "expand"
    assert decide_profile(keep, playbook).profile == "keep"
    assert decide_profile(acquire, playbook).profile == "acquire"
    assert decide_profile(win_back, playbook).profile == "win_back"


def test_ties_resolve_by_the_declared_order_and_say_what_else_matched(playbook):
    # An Expand account also satisfies Keep's rule; Expand comes first in the order.
    d = decide_profile(facts(playbook, status="customer", lifetime_value=300000, margin_pct=25, exec_sponsor=True),
                       playbook)
    assert d.profile == "expand" and d.decided_by == "rule"
    assert d.also_matched == ["keep"]
    assert d.rule.startswith("status = customer and lifetime_value >= 250000")
    assert all(c["holds"] for c in d.conditions)


def test_former_customers_let_go_on_purpose_are_not_won_back(playbook):
    f = facts(playbook, status="former", margin_pct=30, custom={"churn_reason": "let_go"})
    assert decide_profile(f, playbook).profile is None


def test_let_go_gives_no_profile_but_an_explicit_recommendation(playbook):
    thin = facts(playbook, status="customer", margin_pct=3, exec_sponsor=True)
    silent = facts(playbook, status="customer", margin_pct=30, exec_sponsor=False,
                   last_contact=TODAY - timedelta(days=200))
    for f in (thin, silent):
        d = decide_profile(f, playbook)
        assert d.profile is None and d.decided_by == "let_go" and d.let_go
        assert d.let_go_rule and d.let_go_conditions


def test_a_manual_override_wins_and_remembers_who_and_when(playbook):
    when = datetime(2026, 11, 1, tzinfo=timezone.utc)
    d = decide_profile(facts(playbook, status="prospect", employees=5), playbook, override="acquire",
                       override_by="alice", override_at=when)
    assert (d.profile, d.decided_by, d.override_by, d.override_at) == ("acquire", "override", "alice", when)


def test_an_account_no_rule_matches_has_no_profile(playbook):
    d = decide_profile(facts(playbook, status="prospect", employees=5, annual_revenue=100_000), playbook)
    assert d.profile is None and d.decided_by == "none" and not d.let_go


# --- misfit checklist ------------------------------------------------------------------------

def test_a_blocking_trait_makes_a_misfit_with_why_and_who_feels_the_pain(playbook):
    f = facts(playbook, margin_pct=4, exec_sponsor=True, employees=100, industry="retail", custom={"nps": "30"})
    fit = assess_fit(f, playbook, language="en")
    assert fit.verdict == "misfit"
    [trait] = fit.matched_traits
    assert trait["id"] == "thin_margin" and trait["severity"] == "blocking"
    assert trait["why"] and trait["who_feels_pain"] == ["Finance", "Support"]


def test_missing_data_is_reported_unknown_not_passed(playbook):
    fit = assess_fit(facts(playbook, employees=100), playbook)
    unknown = {t["id"] for t in fit.unknown_traits}
    assert {"thin_margin", "no_exec_sponsor", "unsupported_industry"} <= unknown
    assert fit.verdict == "unclear" and "unknown_blocking_traits" in fit.reasons


def test_success_boxes_count_the_empty_ones_like_the_article(playbook):
    f = facts(playbook, margin_pct=30, exec_sponsor=True, employees=100, industry="retail", custom={"nps": "40"})
    fit = assess_fit(f, playbook, {("box", "pain"): True})
    # decision_maker is filled from the data (exec sponsor), pain by the rep: 3 of 5 empty.
    assert fit.success_boxes == {"total": 5, "filled": 2, "empty": 3}
    assert fit.verdict == "unclear" and fit.reasons == ["empty_boxes"]
    fit = assess_fit(f, playbook, {("box", "pain"): True, ("box", "budget"): True})
    assert fit.verdict == "fit"


def test_a_reps_answer_decides_a_trait_only_when_data_is_missing(playbook):
    f = facts(playbook, margin_pct=30, employees=100, industry="retail", custom={"nps": "40"})
    assert "no_exec_sponsor" in {t["id"] for t in assess_fit(f, playbook).unknown_traits}
    fit = assess_fit(f, playbook, {("trait", "no_exec_sponsor"): True})
    assert fit.verdict == "misfit" and fit.matched_traits[0]["decided_by"] == "answer"
    # Data beats an answer: margin 30 is not thin whatever the rep ticked.
    fit = assess_fit(f, playbook, {("trait", "thin_margin"): True, ("trait", "no_exec_sponsor"): False})
    assert "thin_margin" not in {t["id"] for t in fit.matched_traits}


def test_labels_follow_the_language(playbook):
    f = facts(playbook, margin_pct=4)
    assert assess_fit(f, playbook, language="fr").matched_traits[0]["label"] == "Marge trop faible pour bien servir"
    assert assess_fit(f, playbook, language="en").matched_traits[0]["label"] == "Margin too thin to serve well"


# --- stage-time indicators -------------------------------------------------------------------

def visits(*spec):
    """spec: (stage, days ago entered, days ago left or None)"""
    return [Visit(s, NOW - timedelta(days=a), NOW - timedelta(days=b) if b is not None else None) for s, a, b in spec]


def test_indicator_is_time_at_stage_minus_standard(playbook):
    t = deal_timing("proposal", "open", visits(("solution", 40, 18), ("proposal", 18, None)), NOW, playbook)
    assert (t.days_at_stage, t.standard_days, t.indicator, t.state) == (18.0, 14.0, 4.0, "on_track")


def test_too_long_at_a_stage_is_stuck(playbook):
    t = deal_timing("proposal", "open", visits(("solution", 60, 30), ("proposal", 30, None)), NOW, playbook)
    assert t.state == "stuck" and t.indicator == 16.0


def test_a_stage_cut_short_or_jumped_is_a_skipped_step(playbook):
    short = deal_timing("proposal", "open",
                        visits(("qualification", 40, 39), ("solution", 39, 5), ("proposal", 5, None)), NOW, playbook)
    assert short.state == "skipped"
    assert short.skipped_stages == [{"stage": "qualification", "days": 1.0, "standard_days": 14.0, "how": "too_short",
                                     "at": NOW - timedelta(days=39)}]
    jumped = deal_timing("proposal", "open", visits(("qualification", 40, 20), ("proposal", 20 - 15, None)), NOW, playbook)
    assert [s["stage"] for s in jumped.skipped_stages] == ["solution"]
    assert jumped.skipped_stages[0]["how"] == "jumped"


def test_stuck_wins_over_skipped_and_closed_deals_are_never_stuck(playbook):
    both = deal_timing("proposal", "open", visits(("discovery", 90, 89), ("proposal", 89, None)), NOW, playbook)
    assert both.state == "stuck" and both.skipped_stages
    won = deal_timing("proposal", "won", visits(("proposal", 89, 60)), NOW, playbook)
    assert won.state == "on_track" and won.days_at_stage == 29.0


def test_frozen_deals_are_the_open_stuck_ones_longest_overdue_first(playbook):
    a = deal_timing("proposal", "open", visits(("proposal", 30, None)), NOW, playbook)
    b = deal_timing("proposal", "open", visits(("proposal", 60, None)), NOW, playbook)
    c = deal_timing("proposal", "nurture", visits(("proposal", 90, None)), NOW, playbook)
    d = deal_timing("proposal", "open", visits(("proposal", 3, None)), NOW, playbook)
    assert [name for name, _ in frozen_deals([("a", a), ("b", b), ("c", c), ("d", d)])] == ["b", "a"]
    assert skipped_deals([("a", a)]) == []


# --- tiers -----------------------------------------------------------------------------------

def test_tiers_rank_high_value_fits_first_and_push_at_risk_down(playbook):
    best = facts(playbook, status="customer", annual_revenue=150_000_000, lifetime_value=600_000,
                 last_contact=TODAY - timedelta(days=10), margin_pct=30)
    assert score_account(best, "fit", playbook).tier == 1
    at_risk = facts(playbook, status="customer", annual_revenue=150_000_000, lifetime_value=600_000,
                    last_contact=TODAY - timedelta(days=200), margin_pct=30)
    result = score_account(at_risk, "fit", playbook)
    assert result.at_risk and result.score < score_account(best, "fit", playbook).score
    small = facts(playbook, status="prospect", annual_revenue=500_000)
    assert score_account(small, "unclear", playbook).tier == 3


def test_conversion_likelihood_comes_from_the_best_open_deal_stage(playbook):
    f = facts(playbook, [{"status": "open", "stage": "negotiation"}, {"status": "open", "stage": "discovery"},
                         {"status": "lost", "stage": "proposal"}], status="prospect")
    assert f["conversion_likelihood"] == 80 and f["open_deals"] == 2


def test_a_tier_override_wins_but_keeps_the_score(playbook):
    r = score_account(facts(playbook, status="prospect"), "fit", playbook, tier_override=1)
    assert r.tier == 1 and r.overridden and r.score < 70


def test_pyramid_shape():
    assert pyramid([1, 2, 2, 3, 3, 3])["is_pyramid"] is True
    assert pyramid([1, 1, 1, 2, 3])["is_pyramid"] is False


def test_assess_account_puts_it_all_together(playbook):
    account = {"name": "X", "status": "customer", "margin_pct": 3, "exec_sponsor": True, "profile_override": None}
    a = assess_account(account, [], TODAY, playbook, language="fr")
    assert a.profile.let_go and a.fit.verdict == "misfit" and a.tier.tier in (1, 2, 3)


# --- coaching patterns -----------------------------------------------------------------------

def test_a_rep_repeatedly_stuck_at_one_stage_is_a_coaching_pattern(playbook):
    from playbook.coaching import coaching_patterns, stage_outcomes

    outcomes = []
    # david: 3 of his last 4 deals through proposal stayed far too long there.
    for i, days in enumerate([40, 5, 35, 50]):
        start = 100 - i * 20
        t = deal_timing("negotiation", "open", visits(("proposal", start, start - days), ("negotiation", start - days, None)),
                        NOW, playbook)
        outcomes += stage_outcomes("david", f"D{i}", t, playbook)
    # alice: one stuck deal is no pattern.
    t = deal_timing("negotiation", "open", visits(("proposal", 90, 40), ("negotiation", 40, None)), NOW, playbook)
    outcomes += stage_outcomes("alice", "A1", t, playbook)
    [pattern] = [p for p in coaching_patterns(outcomes) if p.stage == "proposal"]
    assert (pattern.owner, pattern.kind, pattern.count, pattern.of) == ("david", "stuck", 3, 4)
    assert set(pattern.deals) == {"D0", "D2", "D3"}


def test_jumping_the_same_stage_repeatedly_is_a_skipped_pattern(playbook):
    from playbook.coaching import coaching_patterns, stage_outcomes

    outcomes = []
    for i in range(3):
        t = deal_timing("proposal", "open", visits(("qualification", 20 - i, 5 - i), ("proposal", 5 - i, None)),
                        NOW, playbook)
        outcomes += stage_outcomes("emma", f"E{i}", t, playbook)
    patterns = coaching_patterns(outcomes)
    assert [(p.owner, p.stage, p.kind, p.count) for p in patterns] == [("emma", "solution", "skipped", 3)]


def test_business_days_skip_weekends_and_holidays(playbook):
    from dataclasses import replace

    business = replace(playbook, day_count="business", holidays=frozenset({date(2026, 11, 11)}))
    # Monday 2 Nov to Monday 16 Nov 2026: 14 calendar days, 10 weekdays, less 11 Nov.
    start = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)
    end = datetime(2026, 11, 16, 9, tzinfo=timezone.utc)
    t = deal_timing("proposal", "open", [Visit("proposal", start)], end, business)
    assert t.days_at_stage == 9.0
    assert deal_timing("proposal", "open", [Visit("proposal", start)], end, playbook).days_at_stage == 14.0
