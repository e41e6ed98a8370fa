"""A synthetic sales org for the benchmarks (`gare bench seed`): reps in teams under managers,
accounts with realistic spreads (few large customers, many small prospects, some misfits, some
lapsed), deals with stage histories that include stuck deals, skipped steps, passed close dates
and renewals. Rows go in through SQLAlchemy Core in batches (executemany), not through the ORM
or the CSV importers: 100,000 accounts and 500,000 deals must load in minutes, in bounded memory.

Deterministic for a given seed, so two runs measure the same book. Only for an empty database:
names are numbered, not checked against what is there."""
from __future__ import annotations

import math
import random
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from playbook.words import fold
from store.imports.table import batches
from store.models import Account, Deal, Person, StageVisit

BATCH = 5_000
FIRST = ("Alice", "Bruno", "Chloé", "David", "Emma", "Farid", "Giulia", "Hugo", "Inès", "Jonas", "Karim", "Léa",
         "Marc", "Nadia", "Olivier", "Paula", "Quentin", "Rosa", "Samuel", "Tara", "Ugo", "Véra", "William", "Yasmine")
LAST = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
        "Laurent", "Lefèvre", "Michel", "Garcia", "Müller", "Rossi", "Novak", "Kowalski", "Jensen", "Silva")
WORDS = ("Nord", "Atlas", "Horizon", "Lumen", "Vertex", "Alpine", "Rhône", "Azur", "Boréal", "Cobalt", "Delta",
         "Éole", "Fjord", "Granit", "Helios", "Iris", "Jade", "Kappa", "Loire", "Mistral", "Nova", "Orion", "Pixel",
         "Quartz", "Rivage", "Sable", "Titan", "Ulysse", "Vega", "Zénith")
TRADES = ("Logistique", "Logistics", "Industries", "Systems", "Santé", "Foods", "Énergie", "Software", "Retail",
          "Banque", "Assurances", "Construction", "Media", "Labs", "Transports", "Chimie", "Telecom", "Conseil")
SUFFIXES = ("SA", "SAS", "GmbH", "Ltd", "Inc", "BV", "SpA", "AG", "")
INDUSTRIES = ("logistics", "manufacturing", "healthcare", "retail", "software", "banking", "insurance", "energy",
              "telecom", "media", "construction", "food", "chemicals", "public sector", "education",
              "gambling", "crypto")
INDUSTRY_WEIGHTS = (12, 14, 9, 10, 12, 6, 5, 5, 4, 4, 6, 5, 3, 3, 2, 0.3, 0.3)
REGIONS = ("France", "Benelux", "DACH", "Iberia", "Italy", "Nordics", "UK & Ireland", "North America")
SECTORS = ("commercial", "commercial", "commercial", "public", "nonprofit")
STATUS = (("customer", 35), ("prospect", 50), ("former", 15))
KINDS = (("new_business", 60), ("renewal", 28), ("expansion", 12))


def _pick(rng: random.Random, weighted) -> str:
    values, weights = zip(*weighted)
    return rng.choices(values, weights)[0]


def _reps(rng: random.Random, reps: int) -> list[dict]:
    """`reps` reps in teams of ten, a manager per team, and one admin (sales ops)."""
    teams = max(1, math.ceil(reps / 10))
    people = [{"owner": "salesops", "name": "Sales Ops", "role": "admin", "team": None, "manager": None}]
    for t in range(1, teams + 1):
        people.append({"owner": f"manager{t:02d}", "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                       "role": "manager", "team": f"Team {t:02d}", "manager": None})
    for r in range(1, reps + 1):
        t = (r - 1) % teams + 1
        people.append({"owner": f"rep{r:03d}", "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "role": "rep",
                       "team": f"Team {t:02d}", "manager": f"manager{t:02d}"})
    now = datetime.now(timezone.utc)
    for p in people:
        p.update(owner_key=fold(p["owner"]), email=f"{p['owner']}@example.com", language=rng.choice(("en", "fr")),
                 active=True, created_at=now, updated_at=now)
    return people


def _account(rng: random.Random, n: int, owner: str, today: date, now: datetime) -> dict:
    name = f"{rng.choice(WORDS)} {rng.choice(TRADES)} {rng.choice(SUFFIXES)} {n:06d}".replace("  ", " ")
    status = _pick(rng, STATUS)
    revenue = round(math.exp(rng.gauss(16.0, 1.6)), -3)            # median ~9 M, a long tail of large ones
    contact = today - timedelta(days=int(rng.expovariate(1 / 60))) if rng.random() < 0.9 else None
    custom = {}
    if status == "customer" and rng.random() < 0.6:
        custom["nps"] = rng.randint(-60, 80)
    return {
        "name": name, "name_key": fold(name), "owner": owner, "status": status, "status_source": "import",
        "industry": rng.choices(INDUSTRIES, INDUSTRY_WEIGHTS)[0] if rng.random() < 0.92 else None,
        "region": rng.choice(REGIONS), "sector": rng.choice(SECTORS), "annual_revenue": revenue,
        "employees": max(1, int(revenue / rng.uniform(80_000, 300_000))),
        "margin_pct": round(rng.gauss(28, 12), 1) if rng.random() < 0.85 else None,
        "exec_sponsor": rng.random() < 0.55 if rng.random() < 0.8 else None,
        "last_contact": contact,
        "lifetime_value": round(revenue * rng.uniform(0.002, 0.05), -2) if status != "prospect" else None,
        "custom": custom, "created_at": now, "updated_at": now,
    }


def _deal_and_visits(rng: random.Random, n: int, account: tuple[int, str, str], stages: list[tuple[str, int]],
                     today: date, now: datetime) -> tuple[dict, list[dict]]:
    """One deal and its stage history. Open deals sit at a stage for a spread of days around
    its standard (a third beyond it: frozen); about one in eight jumped or rushed a stage."""
    account_id, account_name, owner = account
    kind = _pick(rng, KINDS)
    label = {"new_business": "New business", "renewal": "Renewal", "expansion": "Expansion"}[kind]
    name = f"{account_name.split(' ')[0]} {label} {today.year - rng.randint(0, 2)} #{n:06d}"
    roll = rng.random()
    status = "open" if roll < 0.6 else ("won" if roll < 0.8 else "lost")
    last = rng.randrange(len(stages)) if status == "open" else len(stages) - 1
    path = [i for i in range(last + 1) if not (0 < i < last and rng.random() < 0.12)]  # skipped steps
    stage_id, standard = stages[path[-1]]
    at_stage = int(standard * rng.lognormvariate(0, 0.7)) if status == "open" else rng.randint(1, 30)
    entered_last = today - timedelta(days=at_stage)
    moment = datetime.combine(entered_last, time(9, 0), tzinfo=timezone.utc)
    visits: list[dict] = [{"stage": stage_id, "entered_at": moment,
                           "left_at": None if status == "open" else moment + timedelta(days=rng.randint(1, 20)),
                           "estimated": False}]
    for i in reversed(path[:-1]):
        sid, std = stages[i]
        days = max(1, int(std * (rng.uniform(0.1, 0.25) if rng.random() < 0.1 else rng.lognormvariate(0, 0.4))))
        left = moment
        moment = left - timedelta(days=days)
        visits.append({"stage": sid, "entered_at": moment, "left_at": left, "estimated": False})
    close = entered_last + timedelta(days=rng.randint(-120, 150))
    amount = round(math.exp(rng.gauss(10.5, 1.1)), -2)
    deal = {"name": name, "name_key": fold(name), "account_id": account_id, "owner": owner, "stage": stage_id,
            "kind": kind, "amount": amount, "close_date": close, "status": status,
            "created_at": moment, "updated_at": now}
    return deal, visits


def seed(engine: Engine, playbook, *, accounts: int, deals: int, reps: int = 200, seed: int = 42,
         today: date | None = None, progress: Callable[[str, int, int], None] | None = None) -> dict[str, int]:
    """Loads the synthetic org into an empty database. Returns the rows written per table."""
    tick = progress or (lambda what, done, total: None)
    rng = random.Random(seed)
    today = today or date.today()
    now = datetime.now(timezone.utc)
    stages = [(s.id, s.standard_days) for s in playbook.stages]
    with engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(Account)).scalar():
            raise ValueError("the database already holds accounts: seed an empty one")
    people = _reps(rng, reps)
    owners = [p["owner"] for p in people if p["role"] == "rep"]
    written = {"people": len(people), "accounts": 0, "deals": 0, "stage_visits": 0}
    with engine.begin() as conn:
        conn.execute(insert(Person), people)
    total = accounts + deals
    book: list[tuple[int, str, str]] = []   # (id, name, owner): ~100 bytes an account
    rows = (_account(rng, n, owners[n % len(owners)], today, now) for n in range(1, accounts + 1))
    for batch in batches(rows, BATCH):
        with engine.begin() as conn:
            ids = conn.execute(insert(Account).returning(Account.id, Account.name, Account.owner), batch).all()
        book.extend((i, n, o) for i, n, o in ids)
        written["accounts"] += len(batch)
        tick("accounts", written["accounts"], total)
    # A few accounts hold many deals (the large customers), most hold one or two.
    weights = [1.0 / (1 + (k % 1000)) ** 0.3 for k in range(len(book))]
    chosen = rng.choices(range(len(book)), weights, k=deals) if book else []
    n = 0
    for start in range(0, deals, BATCH):
        deal_rows, visit_rows = [], []
        for k in chosen[start:start + BATCH]:
            n += 1
            deal, visits = _deal_and_visits(rng, n, book[k], stages, today, now)
            deal_rows.append(deal)
            visit_rows.append(visits)
        with engine.begin() as conn:
            ids = conn.execute(insert(Deal).returning(Deal.id, sort_by_parameter_order=True), deal_rows).scalars().all()
            flat = [dict(v, deal_id=i) for i, vs in zip(ids, visit_rows) for v in vs]
            conn.execute(insert(StageVisit), flat)
        written["deals"] += len(deal_rows)
        written["stage_visits"] += len(flat)
        tick("deals", accounts + written["deals"], total)
    if engine.dialect.name == "postgresql":
        # Statistics for the planner now, as autovacuum would do later: without them it picks an
        # index of deal.status where deal.account_id is the one to use.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    return written


