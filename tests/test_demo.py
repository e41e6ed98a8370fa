"""The demo dataset (`gare demo`): what a newcomer sees first must show the whole method."""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func
from sqlmodel import select

from playbook.assessment import assess_account, time_deal
from playbook.tiers import pyramid
from store.database import session_scope
from store.demo import DASH, DemoReport, generate_demo, load_demo
from store.models import Account, AuditRecord, ChecklistAnswer, Deal, StageVisit
from store.queries import (account_record, checklist_answers, deal_record, deals_by_account, find_account,
                           find_deal, visits_by_deal)

TODAY = date(2026, 3, 10)
NOON = datetime.combine(TODAY, time(12), tzinfo=timezone.utc)


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; they were stored as UTC.
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def _summary(accounts, deals_of, answers_of, visits_of, playbook, today=TODAY, now=NOON):
    """Profiles, verdicts, tiers and deal states, the way the chat commands compute them."""
    profiles, verdicts, tiers, at_risk = Counter(), Counter(), [], 0
    for acc in accounts:
        result = assess_account(acc, deals_of(acc), today, playbook, answers_of(acc))
        profiles[result.profile.profile or ("let_go" if result.profile.let_go else "none")] += 1
        verdicts[result.fit.verdict] += 1
        tiers.append(result.tier.tier)
        at_risk += result.tier.at_risk
    states, stuck_at = Counter(), Counter()
    for acc in accounts:
        for deal in deals_of(acc):
            timing = time_deal(deal, visits_of(deal), now, playbook)
            states[timing.state] += 1
            if timing.state == "stuck":
                stuck_at[(deal["owner"], deal["stage"])] += 1
            if deal["status"] == "open" and timing.skipped_stages:
                states["open_with_skipped_stage"] += 1
    return profiles, verdicts, pyramid(tiers), at_risk, states, stuck_at


def _check_story(profiles, verdicts, pyr, at_risk, states, stuck_at):
    for profile in ("expand", "keep", "acquire", "win_back"):
        assert profiles[profile] >= 3, (profile, profiles)
    assert profiles["let_go"] >= 3 and profiles["none"] >= 3, profiles
    assert verdicts["fit"] >= 5 and verdicts["misfit"] >= 5 and verdicts["unclear"] >= 5, verdicts
    c = pyr["counts"]
    assert pyr["is_pyramid"] and c[1] >= 5 and c[2] >= c[1] + 5 and c[3] >= c[2] + 5, c
    assert at_risk >= 3
    assert states["stuck"] >= 6 and states["skipped"] >= 4 and states["on_track"] > states["stuck"], states
    assert states["open_with_skipped_stage"] >= 4, states
    # Several reps stuck, and one of them again and again at the same stage: a coaching pattern.
    assert len({owner for owner, _ in stuck_at}) >= 4, stuck_at
    assert max(stuck_at.values()) >= 3, stuck_at


# --- pure ------------------------------------------------------------------------------------

def test_generated_data_is_deterministic_and_well_formed(playbook):
    data = generate_demo(playbook, TODAY)
    assert data == generate_demo(playbook, TODAY)
    assert len(data.accounts) >= 60 and len(data.deals) >= 150
    names = [a.name for a in data.accounts]
    assert len(set(names)) == len(names)
    assert len({d.name for d in data.deals}) == len(data.deals)
    assert any(a.name != a.name.encode("ascii", "ignore").decode() for a in data.accounts)  # accents
    assert len(data.owners) >= 5
    stage_ids = [s.id for s in playbook.stages]
    box_ids = {b.id for b in playbook.success_boxes}
    statuses = Counter(d.status for d in data.deals)
    assert statuses["open"] > len(data.deals) / 2 and statuses["won"] and statuses["lost"]
    assert statuses["nurture"] >= 2
    owner_of = {a.name: a.owner for a in data.accounts}
    assert sum(d.owner == owner_of[d.account] for d in data.deals) >= 0.85 * len(data.deals)
    for acc in data.accounts:
        assert set(acc.boxes) <= box_ids
    for deal in data.deals:
        assert deal.account in owner_of and deal.name.startswith(f"{deal.account} {DASH} ")
        assert deal.stage in stage_ids and set(deal.boxes) <= box_ids
        assert deal.nurture_reason if deal.status == "nurture" else deal.nurture_reason is None
        visits = deal.visits
        assert visits and visits[-1].stage == deal.stage
        order = [stage_ids.index(v.stage) for v in visits]
        assert order == sorted(order) and len(set(order)) == len(order)
        for v, nxt in zip(visits, visits[1:]):
            assert v.left_at == nxt.entered_at
        for v in visits:
            assert v.entered_at.tzinfo is not None and v.entered_at.utcoffset() == timedelta(0)
            assert v.entered_at < NOON and (v.left_at is None or v.entered_at < v.left_at <= NOON)
        assert (visits[-1].left_at is None) == (deal.status == "open")
    # Everything moves with the day: a month later, the same deals are just as stuck.
    later = generate_demo(playbook, TODAY + timedelta(days=30))
    assert [d.name.rsplit(" ", 1)[0] for d in later.deals] == [d.name.rsplit(" ", 1)[0] for d in data.deals]
    assert later.deals[0].visits[0].entered_at - data.deals[0].visits[0].entered_at == timedelta(days=30)


def test_generated_data_tells_the_whole_story(playbook):
    data = generate_demo(playbook, TODAY)
    deals: dict[str, list] = {}
    for d in data.deals:
        deals.setdefault(d.account, []).append(d)
    accounts = [a.record() | {"_demo": a} for a in data.accounts]
    _check_story(*_summary(
        accounts,
        deals_of=lambda acc: [d.record() | {"_demo": d} for d in deals.get(acc["name"], [])],
        answers_of=lambda acc: {("box", k): v for k, v in acc["_demo"].boxes.items()},
        visits_of=lambda deal: deal["_demo"].visits,
        playbook=playbook,
    ))


# --- database --------------------------------------------------------------------------------

def _counts(session) -> dict[str, int]:
    return {model.__name__: session.exec(select(func.count()).select_from(model)).one()
            for model in (Account, Deal, StageVisit, ChecklistAnswer)}


def test_load_demo_fills_the_database(engine, playbook):
    with session_scope(engine) as session:
        report = load_demo(session, playbook, today=TODAY, actor="alice")
    assert isinstance(report, DemoReport)
    assert report.accounts_created >= 60 and report.deals_created >= 150
    assert report.accounts_updated == report.deals_updated == 0
    assert len(report.owners) >= 5 and "david" in report.owners

    with session_scope(engine) as session:
        counts = _counts(session)
        assert counts["Account"] == report.accounts_created and counts["Deal"] == report.deals_created
        assert counts["StageVisit"] == report.visits and counts["ChecklistAnswer"] > 10
        audits = list(session.exec(select(AuditRecord)))
        assert len(audits) == 1 and audits[0].actor == "alice"
        assert audits[0].changes["deals_created"] == report.deals_created
        # Accent- and case-insensitive lookups find demo rows.
        assert find_account(session, "societe alpine des eaux claires").name == "Société Alpine des Eaux Claires"
        assert find_deal(session, f"Westbrook Pharmaceuticals {DASH} Enterprise platform") is not None

        accounts = session.exec(select(Account)).all()
        deals = deals_by_account(session, [a.id for a in accounts])
        visits = visits_by_deal(session, [d.id for ds in deals.values() for d in ds])
        answers = checklist_answers(session, "account", [a.id for a in accounts])
        assert all(v.entered_at is not None for vs in visits.values() for v in vs)
        records = [account_record(a) for a in accounts]
        _check_story(*_summary(
            records,
            deals_of=lambda acc: [deal_record(d, acc["name"]) for d in deals.get(acc["id"], [])],
            answers_of=lambda acc: answers.get(acc["id"], {}),
            visits_of=lambda deal: [{"stage": v.stage, "entered_at": _utc(v.entered_at), "left_at": _utc(v.left_at)}
                                    for v in visits.get(deal["id"], [])],
            playbook=playbook,
        ))
        # Some fits show boxes a rep filled in.
        fits = [assess_account(r, [deal_record(d) for d in deals.get(r["id"], [])], TODAY, playbook,
                               answers.get(r["id"], {})).fit for r in records]
        assert sum(any(b["decided_by"] == "answer" and b["filled"] for b in f.boxes) for f in fits) >= 5
        assert session.exec(select(func.count()).select_from(ChecklistAnswer)
                            .where(ChecklistAnswer.subject == "deal")).one() > 0


def test_load_demo_twice_creates_nothing(engine, playbook):
    with session_scope(engine) as session:
        first = load_demo(session, playbook, today=TODAY)
    with session_scope(engine) as session:
        before = _counts(session)
        # A rep's own account is left alone.
        session.add(Account(name="Mon Client Perso", owner="alice", status="prospect"))
    with session_scope(engine) as session:
        second = load_demo(session, playbook, today=TODAY)
    assert second.accounts_created == second.deals_created == 0
    assert second.accounts_updated == first.accounts_created and second.deals_updated == first.deals_created
    assert second.visits == first.visits
    with session_scope(engine) as session:
        after = _counts(session)
        assert after == before | {"Account": before["Account"] + 1}
        assert find_account(session, "Mon Client Perso").owner == "alice"
        assert session.exec(select(func.count()).select_from(AuditRecord)).one() == 2


def test_load_demo_later_moves_everything_with_the_day(engine, playbook):
    """Loaded again next year: renewals change their year in place, stuck deals stay stuck."""
    with session_scope(engine) as session:
        first = load_demo(session, playbook, today=date(2026, 12, 20))
        renewals = {d.name for d in session.exec(select(Deal).where(Deal.name.like("%Renewal 2026")))}
    assert renewals
    later = date(2027, 2, 15)
    with session_scope(engine) as session:
        again = load_demo(session, playbook, today=later)
    assert again.deals_created == 0 and again.deals_updated == first.deals_created
    with session_scope(engine) as session:
        assert session.exec(select(func.count()).select_from(Deal)).one() == first.deals_created
        assert not session.exec(select(Deal).where(Deal.name.in_(renewals), Deal.status == "open")).all()
        stuck = 0
        now = datetime.combine(later, time(12), tzinfo=timezone.utc)
        open_deals = session.exec(select(Deal).where(Deal.status == "open")).all()
        visits = visits_by_deal(session, [d.id for d in open_deals])
        for d in open_deals:
            plain = [{"stage": v.stage, "entered_at": _utc(v.entered_at), "left_at": _utc(v.left_at)}
                     for v in visits[d.id]]
            assert all(v["entered_at"] < now for v in plain)
            stuck += time_deal(deal_record(d), plain, now, playbook).state == "stuck"
        assert stuck >= 6


def test_load_demo_defaults_to_today(engine, playbook):
    with session_scope(engine) as session:
        report = load_demo(session, playbook)
    assert report.deals_created >= 150
    now = datetime.now(timezone.utc)
    with session_scope(engine) as session:
        latest = session.exec(select(func.max(StageVisit.entered_at))).one()
        assert _utc(latest) < now and _utc(latest) > now - timedelta(days=3)


def test_generation_survives_a_short_pipeline(playbook):
    """A playbook with fewer stages still gets a demo: stages are clamped, never invented."""
    import copy

    from playbook.config import parse

    for n in (1, 2, 3):
        raw = copy.deepcopy(playbook.raw)
        raw["pipeline"]["stages"] = raw["pipeline"]["stages"][:n]
        for stage in raw["pipeline"]["stages"]:
            stage.pop("stuck_after_days", None)
        raw["misfit"].pop("gate_stage", None)  # the default gate fits any pipeline
        for kind in raw.get("deal_kinds", {}).values():
            kind.pop("standard_days", None)
        short = parse(raw)
        data = generate_demo(short, TODAY)
        ids = {s.id for s in short.stages}
        assert len(data.deals) >= 150
        assert all(d.stage in ids and all(v.stage in ids for v in d.visits) for d in data.deals)
