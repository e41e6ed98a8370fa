"""The demo dataset behind `gare demo`: a realistic book of business for six reps, so a newcomer
can type `fit <account>`, `account <name>`, `deals frozen` or `tiers` and see the method at work.

Two steps. `generate_demo` is pure: from the playbook and a day it builds plain data (accounts,
deals with their stage history, checklist answers), deterministic for a given day and relative to
it, so stuck deals are stuck whenever the demo is loaded. `load_demo` writes that data, matching
existing rows by name, so loading twice updates in place and never duplicates anything.

The data targets the default playbook (config.toml): every GARE profile, the let-go rule, fit,
misfit and unclear verdicts, a tier pyramid, and stuck and skipped deals, including one rep who
keeps getting stuck at the proposal stage (a coaching pattern)."""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import delete, insert, or_
from sqlmodel import Session, select

from playbook.assessment import assess_account
from playbook.config import Playbook
from playbook.words import fold
from store.models import Account, ActionDone, ChecklistAnswer, Deal, Person, StageVisit, utcnow
from store.queries import audit

SEED = 20260101
OWNERS = ("alice", "bruno", "chloe", "david", "emma", "farid")
# The coaching story: this rep's deals, closed and open, run over at this stage.
SLOW_REP, SLOW_STAGE = "david", "proposal"
# The demo's sales team, as `gare import people` would load it: two managers, six reps, one admin.
PEOPLE = (
    # owner, name, role, team, manager
    ("alice", "Alice Martin", "rep", "west", "claire"),
    ("bruno", "Bruno Petit", "rep", "west", "claire"),
    ("chloe", "Chloé Dubois", "rep", "west", "claire"),
    ("david", "David Laurent", "rep", "east", "hugo"),
    ("emma", "Emma Leroy", "rep", "east", "hugo"),
    ("farid", "Farid Benali", "rep", "east", "hugo"),
    ("claire", "Claire Roux", "manager", "west", None),
    ("hugo", "Hugo Moreau", "manager", "east", None),
    ("sophie", "Sophie Garnier", "admin", None, None),
)
DEMO_DOMAIN = "example.com"
DASH = "\u2013"  # "Northwind Logistics – Renewal 2027"

ACCOUNT_COLUMNS = ("owner", "status", "industry", "region", "sector", "annual_revenue", "employees", "margin_pct",
                   "exec_sponsor", "last_contact", "lifetime_value")
DEAL_COLUMNS = ("owner", "stage", "kind", "amount", "close_date", "status", "nurture_reason")
# What each demo deal is, by its label: renewals and add-ons are escalated when frozen, not nurtured.
KIND_OF_LABEL = {"Renewal": "renewal", "Contract renewal": "renewal", "Expansion": "expansion",
                 "Analytics add-on": "expansion", "Reporting add-on": "expansion"}


# --- plain data ------------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoVisit:
    stage: str
    entered_at: datetime
    left_at: datetime | None = None


@dataclass
class DemoAccount:
    name: str
    owner: str
    status: str
    industry: str | None
    region: str | None
    sector: str | None
    annual_revenue: float | None
    employees: int | None
    margin_pct: float | None
    exec_sponsor: bool | None
    last_contact: date | None
    lifetime_value: float | None
    custom: dict[str, Any] = field(default_factory=dict)
    boxes: dict[str, bool] = field(default_factory=dict)   # checklist answers: box id -> filled
    kind: str = ""                                         # the archetype it was drawn from

    def record(self) -> dict[str, Any]:
        """The mapping playbook.assessment.assess_account reads."""
        return {"name": self.name, **{c: getattr(self, c) for c in ACCOUNT_COLUMNS}, "custom": dict(self.custom)}


@dataclass
class DemoDeal:
    name: str
    account: str
    owner: str
    stage: str
    amount: float | None
    close_date: date | None
    status: str
    kind: str = "new_business"
    nurture_reason: str | None = None
    visits: list[DemoVisit] = field(default_factory=list)
    boxes: dict[str, bool] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "account": self.account, **{c: getattr(self, c) for c in DEAL_COLUMNS}}


@dataclass
class DemoData:
    today: date
    accounts: list[DemoAccount]
    deals: list[DemoDeal]

    @property
    def owners(self) -> list[str]:
        return sorted({a.owner for a in self.accounts} | {d.owner for d in self.deals})


@dataclass
class DemoReport:
    accounts_created: int = 0
    accounts_updated: int = 0
    deals_created: int = 0
    deals_updated: int = 0
    visits: int = 0
    owners: list[str] = field(default_factory=list)


NURTURE_REASONS = (
    "Budget frozen until the next fiscal year; marketing nurture until their planning cycle.",
    "No executive sponsor since the CFO left; nurture until a new sponsor is named.",
    "Too early: the owner wants to revisit after the busy season.",
)


# --- the book of business --------------------------------------------------------------------
# (name, owner, kind, industry, region, extra). `extra` pins what makes an account a good example:
# field values, the first open deal's stage, checklist answers, and timing flags for that deal:
# stuck, stuck@<stage>, skip (a stage cut short), jump (a stage jumped over), nurture.

BOOK: tuple[tuple[str, str, str, str | None, str | None, dict[str, Any]], ...] = (
    # Étendre / expand: the most valuable customers.
    ("Aciéries de Lorraine-Moselle", "alice", "expand_top", "manufacturing", "Grand Est", {"nps": 52}),
    ("Northwind Logistics", "bruno", "expand_top", "logistics", "UK & Ireland", {"nps": 41}),
    ("Groupe Hôtelier Côte d'Émeraude", "chloe", "expand_top", "hospitality", "Bretagne",
     {"flags": ("stuck",), "stage": "negotiation"}),
    ("Silverline Insurance Group", "david", "expand_top", "insurance", "UK & Ireland",
     {"flags": ("stuck@proposal",), "nps": 35}),
    ("Mutuelle Santé Armorique", "emma", "expand_top", "insurance", "Bretagne", {"nps": 63}),
    ("Kestrel Aerospace Components", "farid", "expand_top", "aerospace", "UK & Ireland",
     {"flags": ("skip",), "stage": "negotiation"}),
    ("Banque Dauphinoise de Crédit", "alice", "expand_top", "finance", "Auvergne-Rhône-Alpes", {}),
    ("Laboratoires Vasseur", "chloe", "expand_mid", "pharma", "Occitanie", {"nps": 28}),
    ("Copperleaf Foods", "emma", "expand_mid", "food", "Benelux", {"flags": ("jump",)}),
    # Garder / keep: typical customers.
    ("Brightwater Utilities", "bruno", "keep_star", "utilities", "UK & Ireland", {"nps": 45}),
    ("Électricité Dufresne", "farid", "keep_star", "energy", "Auvergne-Rhône-Alpes", {}),
    ("Boulangeries Marchand", "alice", "keep", "food", "Île-de-France",
     {"nps": 38, "boxes": {"pain": True, "budget": True, "timeline": True}}),
    ("Transports Lefèvre & Fils", "bruno", "keep", "logistics", "Hauts-de-France", {"flags": ("skip",)}),
    ("Pinecrest Health Partners", "chloe", "keep", "healthcare", "UK & Ireland", {"nps": 22}),
    ("Imprimerie Chauvet", "david", "keep", "printing", "Pays de la Loire", {"flags": ("stuck@proposal",)}),
    ("Oakhurst Retail", "emma", "keep", "retail", "UK & Ireland",
     {"boxes": {"pain": True, "budget": True, "success_criteria": True}}),
    ("Menuiseries Roussel", "farid", "keep", "construction", "Normandie", {"nps": 15}),
    ("Fromageries du Jura Réunies", "alice", "keep", "food", "Bourgogne-Franche-Comté", {"flags": ("jump",)}),
    ("Quayside Hotels", "david", "keep", "hospitality", "UK & Ireland", {}),
    ("Verrerie Bellecour", "bruno", "keep_nosponsor", "manufacturing", "Auvergne-Rhône-Alpes",
     {"annual_revenue": 35_000_000, "lifetime_value": 215_000}),
    ("Stonegate Property Management", "chloe", "keep_nosponsor", "real estate", "UK & Ireland",
     {"flags": ("stuck",)}),
    ("Cafés Tessier", "david", "keep_nosponsor", "food", "Provence-Alpes-Côte d'Azur",
     {"flags": ("stuck@proposal",)}),
    ("Tidewater Marine Services", "farid", "keep_nosponsor", "logistics", "Benelux",
     {"annual_revenue": 28_000_000}),
    ("Chaussures Lemaître", "emma", "keep_nosponsor", "retail", "Hauts-de-France", {}),
    ("Assurances Béranger", "alice", "keep_risk", "insurance", "Île-de-France",
     {"nps": -25, "flags": ("stuck",), "stage": "negotiation"}),
    ("Highmoor Telecom", "bruno", "keep_risk", "telecom", "UK & Ireland",
     {"silent_days": 143, "annual_revenue": 82_000_000, "lifetime_value": 232_000, "flags": ("stuck",)}),
    ("Papeteries de l'Estérel", "david", "keep_risk", "manufacturing", "Provence-Alpes-Côte d'Azur",
     {"nps": -10, "flags": ("stuck@proposal",)}),
    ("Lakeshore Dental Group", "farid", "keep_risk", "healthcare", "UK & Ireland", {"silent_days": 151}),
    ("Régie des Transports de Valcourt", "emma", "keep_unknown", "public transport", "Occitanie",
     {"sector": "public", "exec_sponsor": None}),
    ("Centre Hospitalier de Montvéran", "chloe", "keep_unknown", "healthcare", "Nouvelle-Aquitaine",
     {"sector": "public", "margin_pct": None, "exec_sponsor": None}),
    ("Ashford Learning Trust", "bruno", "keep_unknown", "education", "UK & Ireland",
     {"sector": "public", "exec_sponsor": None, "employees": None}),
    # Acquérir / acquire: the prospects we target.
    ("Westbrook Pharmaceuticals", "alice", "acquire_hot", "pharma", "UK & Ireland", {}),
    ("Redwood Data Systems", "bruno", "acquire", "software", "Benelux",
     {"annual_revenue": 180_000_000, "employees": 1400, "stage": "proposal"}),
    ("Caldwell & Price Engineering", "chloe", "acquire", "engineering", "UK & Ireland",
     {"annual_revenue": 45_000_000, "employees": 380, "exec_sponsor": True, "margin_pct": 24,
      "stage": "solution", "boxes": {"pain": True, "budget": True}}),
    ("Hélios Énergie Solaire", "david", "acquire", "energy", "Occitanie", {"flags": ("stuck@proposal",)}),
    ("Coopérative Agricole du Léman", "emma", "acquire", "agriculture", "Auvergne-Rhône-Alpes",
     {"flags": ("skip",), "boxes": {"budget": False}}),
    ("Lumen Grid Energy", "farid", "acquire", "energy", "Nordics", {"flags": ("stuck",)}),
    ("Éditions Pérignac", "alice", "acquire", "publishing", "Île-de-France", {}),
    ("Ironbridge Manufacturing", "bruno", "acquire", "manufacturing", "UK & Ireland",
     {"annual_revenue": 140_000_000, "employees": 2100, "stage": "proposal", "flags": ("stuck",)}),
    ("Logistique Garonne Express", "chloe", "acquire", "logistics", "Nouvelle-Aquitaine", {"flags": ("skip",)}),
    ("Greystone Capital Advisors", "david", "acquire", "finance", "UK & Ireland",
     {"annual_revenue": 250_000_000, "employees": 900, "stage": "negotiation"}),
    ("Domaines Vignal-Ravel", "emma", "acquire", "wine", "Occitanie", {"flags": ("stuck",)}),
    ("Falconridge Mining", "farid", "acquire", "mining", "Nordics",
     {"flags": ("nurture",), "nurture_reason": NURTURE_REASONS[0]}),
    ("Mairie de Saint-Aurèle", "alice", "acquire", "public administration", "Normandie", {"sector": "public"}),
    ("Nimbus Cloudworks", "chloe", "acquire", "software", "DACH",
     {"annual_revenue": 60_000_000, "employees": 450, "exec_sponsor": True, "margin_pct": 27,
      "flags": ("jump",), "boxes": {"pain": True, "timeline": True}}),
    ("Alpenrose Chocolatiers", "emma", "acquire", "food", "DACH", {}),
    ("Royal Flush Gaming", "bruno", "acquire_misfit", "gambling", "UK & Ireland", {"exec_sponsor": True}),
    ("CoinHarbor Exchange", "farid", "acquire_misfit", "crypto", "Benelux", {}),
    ("Vantage Point Media", "david", "acquire_misfit", "media", "UK & Ireland", {"exec_sponsor": False}),
    # Reconquérir / win back: former customers we would gladly take back.
    ("Société Alpine des Eaux Claires", "chloe", "win_back_top", "utilities", "Auvergne-Rhône-Alpes",
     {"churn_reason": "competitor"}),
    ("Harborview Freight", "alice", "win_back", "logistics", "UK & Ireland",
     {"annual_revenue": 60_000_000, "lifetime_value": 320_000, "churn_reason": "price", "open": True}),
    ("Cosmétiques Élodie Marceau", "emma", "win_back", "cosmetics", "Île-de-France",
     {"annual_revenue": 12_000_000, "lifetime_value": 90_000, "open": False}),
    ("Maple & Finch Legal", "bruno", "win_back", "legal", "UK & Ireland",
     {"annual_revenue": 25_000_000, "lifetime_value": 210_000, "churn_reason": "merger", "open": True,
      "flags": ("jump",)}),
    ("Pâtisseries Gaudin", "farid", "win_back", "food", "Pays de la Loire",
     {"annual_revenue": 7_000_000, "lifetime_value": 70_000, "churn_reason": "budget_cuts", "open": True}),
    ("Greenfield Agritech", "david", "win_back", "agriculture", "Benelux",
     {"annual_revenue": 30_000_000, "lifetime_value": 230_000, "churn_reason": "competitor", "open": True}),
    ("Mercier & Associés Avocats", "chloe", "win_back", "legal", "Île-de-France",
     {"annual_revenue": 9_000_000, "lifetime_value": 120_000, "open": False}),
    # Let go: customers the let_go rule flags (thin margin, or no sponsor and silent for months).
    ("Summit Peak Outdoor", "alice", "let_go_margin", "retail", "DACH", {"nps": -5}),
    ("Parfumerie Jolivet", "david", "let_go_margin", "retail", "Provence-Alpes-Côte d'Azur", {}),
    ("Blackthorn Security", "farid", "let_go_margin", "security", "UK & Ireland", {"exec_sponsor": False}),
    ("Crescent Bay Shipping", "emma", "let_go_silent", "logistics", "UK & Ireland", {}),
    ("Brasseries de la Haute-Lèze", "bruno", "let_go_silent", "beverages", "Occitanie",
     {"flags": ("nurture",), "nurture_reason": NURTURE_REASONS[1]}),
    ("Fernhill Packaging", "chloe", "let_go_silent", "packaging", "UK & Ireland", {}),
    # No profile: small prospects, and formers we let go on purpose.
    ("Atelier Céramique Nour", "alice", "small", "crafts", "Île-de-France", {"employees": 6}),
    ("Quincaillerie Bérard", "david", "small", "retail", "Bretagne",
     {"flags": ("nurture",), "nurture_reason": NURTURE_REASONS[2]}),
    ("Tiny Pixel Studio", "emma", "small", "media", "UK & Ireland", {"industry": None}),
    ("Orchard Lane Bakeries", "farid", "former", "food", "UK & Ireland", {"churn_reason": "let_go"}),
    ("Atelier Numérique Ozanne", "bruno", "former", "software", "Hauts-de-France", {"churn_reason": "bad_payer"}),
    ("Bluefin Analytics", "david", "former", "software", "Benelux",
     {"churn_reason": "let_go", "margin_pct": 18, "annual_revenue": 12_000_000, "lifetime_value": 120_000}),
)

# --- generation (pure) -----------------------------------------------------------------------

def _round(value: float, step: float) -> float:
    return float(round(value / step) * step)


def _account(name: str, owner: str, kind: str, industry: str | None, region: str | None,
             extra: dict[str, Any], rng: random.Random, today: date) -> DemoAccount:
    u = rng.uniform
    customer = dict(status="customer", exec_sponsor=True, last=rng.randint(5, 95))
    spec: dict[str, Any] = {
        "expand_top": dict(customer, revenue=u(30e6, 450e6), employees=rng.randint(300, 6000), margin=u(22, 38),
                           ltv=u(520e3, 1.4e6), last=rng.randint(3, 40),
                           boxes={"pain": True, "budget": True} | ({"timeline": True} if rng.random() < .5 else {})),
        "expand_mid": dict(customer, revenue=u(6e6, 18e6), employees=rng.randint(60, 250), margin=u(20, 28),
                           ltv=u(260e3, 420e3)),
        "keep_star": dict(customer, revenue=u(25e6, 90e6), employees=rng.randint(200, 900), margin=u(14, 19),
                          ltv=u(205e3, 245e3), boxes={"pain": True, "budget": True, "success_criteria": True}),
        "keep": dict(customer, revenue=u(5.5e6, 19e6), employees=rng.randint(50, 600), margin=u(12, 30),
                     ltv=u(60e3, 190e3)),
        "keep_nosponsor": dict(customer, revenue=u(6e6, 18e6), employees=rng.randint(40, 400), margin=u(12, 25),
                               ltv=u(60e3, 180e3), exec_sponsor=False, last=rng.randint(20, 110)),
        "keep_risk": dict(customer, revenue=u(6e6, 18e6), employees=rng.randint(50, 400), margin=u(11, 18),
                          ltv=u(60e3, 180e3)),
        "keep_unknown": dict(customer, revenue=u(6e6, 18e6), employees=rng.randint(80, 1200), margin=u(14, 26),
                             ltv=u(70e3, 190e3)),
        "acquire_hot": dict(status="prospect", revenue=u(150e6, 600e6), employees=rng.randint(800, 5000),
                            margin=u(20, 30), ltv=None, exec_sponsor=True, last=rng.randint(1, 10),
                            boxes={"pain": True, "budget": True, "timeline": True}),
        "acquire": dict(status="prospect", revenue=u(6e6, 19e6), employees=rng.randint(60, 400),
                        margin=rng.choice([None, u(15, 30)]), ltv=None, exec_sponsor=rng.choice([None, True]),
                        last=rng.randint(2, 30)),
        "acquire_misfit": dict(status="prospect", revenue=u(20e6, 80e6), employees=rng.randint(80, 500),
                               margin=u(15, 30), ltv=None, exec_sponsor=None, last=rng.randint(5, 40)),
        "win_back_top": dict(status="former", revenue=u(150e6, 400e6), employees=rng.randint(1500, 4000),
                             margin=u(22, 30), ltv=u(600e3, 900e3), exec_sponsor=True, last=rng.randint(30, 60),
                             boxes={"pain": True, "budget": True}),
        "win_back": dict(status="former", revenue=u(8e6, 19e6), employees=rng.randint(60, 500), margin=u(15, 30),
                         ltv=u(80e3, 190e3), exec_sponsor=rng.choice([None, True]), last=rng.randint(200, 700)),
        "let_go_margin": dict(customer, revenue=u(6e6, 40e6), employees=rng.randint(50, 500), margin=u(1, 4.5),
                              ltv=u(60e3, 260e3)),
        "let_go_silent": dict(customer, revenue=u(5e6, 18e6), employees=rng.randint(40, 300), margin=u(10, 20),
                              ltv=u(50e3, 180e3), exec_sponsor=False, last=rng.randint(190, 420)),
        "small": dict(status="prospect", revenue=u(0.3e6, 3e6), employees=rng.randint(4, 35), margin=u(15, 35),
                      ltv=None, exec_sponsor=rng.choice([None, True]), last=rng.choice([None, rng.randint(10, 90)])),
        "former": dict(status="former", revenue=u(4e6, 15e6), employees=rng.randint(20, 150), margin=u(3, 9),
                       ltv=u(40e3, 150e3), exec_sponsor=None, last=rng.randint(300, 900)),
    }[kind]
    last = extra.get("silent_days", spec["last"])
    custom: dict[str, Any] = {}
    if "nps" in extra:
        custom["nps"] = extra["nps"]
    elif spec["status"] == "customer" and kind not in ("keep_risk", "let_go_margin") and rng.random() < .35:
        custom["nps"] = rng.randint(10, 60)
    if "churn_reason" in extra:
        custom["churn_reason"] = extra["churn_reason"]
    return DemoAccount(
        name=name, owner=owner, status=spec["status"], kind=kind,
        industry=extra.get("industry", industry), region=region, sector=extra.get("sector", "commercial"),
        annual_revenue=_round(extra.get("annual_revenue", spec["revenue"]), 100_000),
        employees=extra.get("employees", spec["employees"]),
        margin_pct=None if (m := extra.get("margin_pct", spec["margin"])) is None else round(m, 1),
        exec_sponsor=extra.get("exec_sponsor", spec["exec_sponsor"]),
        last_contact=None if last is None else today - timedelta(days=last),
        lifetime_value=None if (v := extra.get("lifetime_value", spec["ltv"])) is None else _round(v, 1000),
        custom=custom, boxes=dict(extra.get("boxes", spec.get("boxes", {}))),
    )


@dataclass
class _Plan:
    """A deal before its history is drawn: the label and how it ended up where it is."""
    label: str
    status: str
    stage: int | str           # index into the playbook's stages (or a stage id named in BOOK)
    amount: float
    closed_days_ago: int = 0   # won/lost/nurture: when it left the pipeline
    year_from_close: bool = False
    timing: str = "on_track"   # on_track | stuck | skip | jump | slow@<stage> (a closed deal that ran over there)


def _plans(acc: DemoAccount, extra: dict[str, Any], rng: random.Random, n_stages: int) -> list[_Plan]:
    last = n_stages - 1
    late = [i for i in (last - 1, last) if i >= 0]
    early = list(range(0, min(3, n_stages)))
    u, ltv = rng.uniform, acc.lifetime_value or 0.0
    kind = acc.kind

    def stage(lo: int, hi: int) -> int:  # a stage index, kept inside short pipelines
        return rng.randint(max(0, min(lo, last)), max(0, min(hi, last)))

    def won(label: str, amount: float, lo: int = 365, hi: int = 1200) -> _Plan:
        return _Plan(label, "won", last, amount, rng.randint(lo, hi), True)

    def lost(label: str, amount: float, lo: int = 150, hi: int = 700) -> _Plan:
        return _Plan(label, "lost", stage(1, last), amount, rng.randint(lo, hi), True)

    plans: list[_Plan] = []
    if kind.startswith("expand") or kind == "keep_star":
        plans.append(_Plan("Renewal", "open", rng.choice(late), ltv * u(.18, .3), year_from_close=True))
        plans.append(_Plan("Expansion", "open", rng.choice(early), u(60e3, 250e3)))
        if rng.random() < .5:
            plans.append(_Plan("Pilot", "open", stage(0, 1), u(15e3, 40e3)))
        if kind == "expand_top":
            addon = rng.random()
            plans.append(_Plan("Analytics add-on", "open", stage(0, last), u(20e3, 60e3)) if addon < .6
                         else won("Analytics add-on", u(20e3, 60e3), 60, 500))
        plans.append(won("Platform rollout", ltv * u(.35, .5), 500, 1400))
    elif kind.startswith("keep") or kind.startswith("let_go"):
        plans.append(_Plan("Renewal", "open", stage(1, last), ltv * u(.25, .4), year_from_close=True))
        if kind.startswith("keep") and rng.random() < .7:
            plans.append(_Plan("Reporting add-on", "open", stage(0, last - 1), u(8e3, 30e3))
                         if rng.random() < .8 else lost("Reporting add-on", u(8e3, 30e3)))
        plans.append(won("Initial contract", ltv * u(.3, .5), 400, 1500))
    elif kind == "acquire_hot":
        plans.append(_Plan("Enterprise platform", "open", last, u(350e3, 600e3)))
        plans.append(_Plan("Data migration services", "open", 1, u(40e3, 90e3)))
    elif kind.startswith("acquire"):
        plans.append(_Plan("Pilot", "open", stage(0, 2), u(15e3, 45e3)))
        roll = rng.random()
        if kind == "acquire" and roll < .45:
            plans.append(_Plan("Platform licence", "open", stage(0, 1), u(80e3, 240e3)))
        elif roll < .65:
            plans.append(lost("First contract", u(30e3, 120e3), 200, 600))
    elif kind.startswith("win_back"):
        if extra.get("open", True):
            plans.append(_Plan("Win-back", "open", stage(0, 1), max(20e3, ltv * u(.15, .25)),
                               year_from_close=True))
        plans.append(won("Initial contract", ltv * u(.3, .45), 1300, 2200))
        if rng.random() < .6:
            plans.append(lost("Contract renewal", ltv * u(.2, .3), 250, 800))
    elif kind == "small":
        plans.append(_Plan("Starter pack", "open", 0, u(3e3, 9e3)))
    elif kind == "former":
        plans.append(won("Initial contract", ltv * u(.35, .5), 1200, 2000))
        plans.append(lost("Contract renewal", ltv * u(.2, .3), 300, 900))
    # The first open deal carries the account's story.
    first = next((p for p in plans if p.status == "open"), None)
    if first is not None:
        if "stage" in extra:
            first.stage = extra["stage"]
        for flag in extra.get("flags", ()):
            if flag.startswith("stuck"):
                first.timing = "stuck"
                if "@" in flag:
                    first.stage = flag.split("@", 1)[1]
            elif flag == "skip":  # needs a stage behind it to cut short
                first.timing = "skip"
                first.stage = first.stage if isinstance(first.stage, str) else max(first.stage, 1)
            elif flag == "jump":  # needs a stage between two to jump over
                first.timing = "jump"
                first.stage = first.stage if isinstance(first.stage, str) else max(first.stage, 2)
            elif flag == "nurture":
                first.status, first.closed_days_ago = "nurture", rng.randint(20, 60)
    return plans


def _history(plan: _Plan, stages: list, rng: random.Random, base: datetime) -> tuple[list[DemoVisit], date | None]:
    """Visits through the stages up to the plan's one, in order, with realistic durations; the
    current visit is left open for open deals. Returns the visits and the expected close date."""
    final = plan.stage
    path = list(range(final + 1))
    if plan.timing == "jump" and final >= 2:
        path.remove(rng.randint(1, final - 1))
    short = rng.choice(path[:-1]) if plan.timing == "skip" and len(path) > 1 else None
    durations = []
    slow = plan.timing.split("@", 1)[1] if plan.timing.startswith("slow@") else None
    for i in path[:-1]:
        s = stages[i]
        if i == short:
            durations.append(rng.uniform(0.4, max(0.5, 0.2 * s.standard_days)))
        elif s.id == slow:  # a finished stay that ran over: the history behind a coaching topic
            durations.append(s.stuck_after_days * rng.uniform(1.3, 2.0))
        else:
            durations.append(s.standard_days * rng.uniform(0.75, 1.3))
    cur = stages[final]
    if plan.status == "open":
        days_here = (cur.stuck_after_days * rng.uniform(1.4, 2.6) if plan.timing == "stuck"
                     else rng.uniform(1, max(1.5, cur.standard_days * 1.05)))
        # Entered on a working hour, at least a few hours before `base` (midnight UTC of today).
        entered = base - timedelta(days=int(days_here) + 1) + timedelta(hours=rng.randint(8, 18))
        end = None
    else:
        end = base - timedelta(days=plan.closed_days_ago) + timedelta(hours=rng.randint(8, 18))
        stay = cur.stuck_after_days * rng.uniform(1.3, 2.0) if cur.id == slow else cur.standard_days * rng.uniform(0.6, 1.2)
        entered = end - timedelta(days=stay)
    visits = [DemoVisit(cur.id, entered, end)]
    t = entered
    for i, days in zip(reversed(path[:-1]), reversed(durations)):
        start = t - timedelta(minutes=round(days * 24 * 60))
        visits.append(DemoVisit(stages[i].id, start, t))
        t = start
    visits.reverse()
    if plan.status in ("won", "lost"):
        close = end.date()
    elif plan.status == "nurture":
        close = None
    else:
        remaining = sum(s.standard_days for s in stages[final + 1:]) + max(0.0, cur.standard_days * 0.5)
        close = base.date() + timedelta(days=round(remaining * rng.uniform(0.9, 1.3)) + 7)
        if plan.timing == "stuck" and rng.random() < .5:
            close = base.date() - timedelta(days=rng.randint(3, 30))  # the close date slipped by
    return visits, close


def _label_year(plan: _Plan, close: date | None, base: datetime) -> str:
    if plan.year_from_close:
        return f"{plan.label} {(close or base.date()).year}"
    return plan.label


def generate_demo(playbook: Playbook, today: date) -> DemoData:
    """The demo dataset for `today`, as plain data; the same day always gives the same data."""
    stages = list(playbook.stages)
    stage_index = {s.id: i for i, s in enumerate(stages)}
    box_ids = {b.id for b in playbook.success_boxes}
    base = datetime.combine(today, time(0, 0), tzinfo=timezone.utc)
    accounts: list[DemoAccount] = []
    deals: list[DemoDeal] = []
    for n, (name, owner, kind, industry, region, extra) in enumerate(BOOK):
        rng = random.Random(f"{SEED}:{name}")
        acc = _account(name, owner, kind, industry, region, extra, rng, today)
        acc.boxes = {k: v for k, v in acc.boxes.items() if k in box_ids}
        accounts.append(acc)
        for plan in _plans(acc, extra, rng, len(stages)):
            if isinstance(plan.stage, str):  # a stage named in BOOK; playbooks without it use the last-but-one
                plan.stage = stage_index.get(plan.stage, max(0, len(stages) - 2))
            plan.stage = min(plan.stage, len(stages) - 1)
            # A deal is mostly owned by the account's rep; an expansion now and then by a colleague.
            deal_owner = owner
            if plan.label in ("Expansion", "Analytics add-on") and owner in OWNERS and rng.random() < .3:
                deal_owner = OWNERS[(OWNERS.index(owner) + 1 + n % (len(OWNERS) - 1)) % len(OWNERS)]
            if deal_owner == SLOW_REP and plan.status in ("won", "lost"):
                plan.timing = f"slow@{SLOW_STAGE}"  # the same rep, again and again, at the same stage
            visits, close = _history(plan, stages, rng, base)
            deal = DemoDeal(
                name=f"{name} {DASH} {_label_year(plan, close, base)}", account=name, owner=deal_owner,
                stage=stages[plan.stage].id, amount=_round(max(plan.amount, 2000), 500), close_date=close,
                status=plan.status, visits=visits, kind=KIND_OF_LABEL.get(plan.label, "new_business"),
                nurture_reason=extra.get("nurture_reason", NURTURE_REASONS[0]) if plan.status == "nurture" else None,
            )
            # Reps answered the success boxes on their late-stage deals at accounts that fit well.
            if plan.status == "open" and plan.stage >= len(stages) - 2 and acc.boxes:
                deal.boxes = {k: v for k, v in {"pain": True, "budget": True, "decision_maker": True,
                                                "timeline": rng.random() < .6}.items() if k in box_ids}
            deals.append(deal)
    return DemoData(today=today, accounts=accounts, deals=deals)


# --- loading ---------------------------------------------------------------------------------

def _stem(deal_name: str) -> str:
    """A deal's name without its year, so 'X – Renewal 2026' still matches 'X – Renewal 2027'."""
    return re.sub(r"\s+\d{4}$", "", deal_name)


def _load_people(session: Session, now: datetime) -> None:
    """The demo team in the directory, matched by owner; chat links made meanwhile are kept."""
    existing = {p.owner_key: p for p in session.exec(select(Person).where(
        Person.owner_key.in_([fold(owner) for owner, *_ in PEOPLE])))}
    for owner, name, role, team, manager in PEOPLE:
        row = existing.get(fold(owner)) or Person(owner=owner, owner_key=fold(owner), created_at=now)
        row.name, row.role, row.team, row.manager = name, role, team, manager
        row.email, row.active, row.updated_at = f"{owner}@{DEMO_DOMAIN}", True, now
        session.add(row)
    session.flush()


def load_demo(session: Session, playbook: Playbook, *, today: date | None = None, actor: str = "demo") -> DemoReport:
    """Write the demo dataset. Rows are matched by name: a second load updates them in place
    (a deal's stage history is replaced with the regenerated one) and creates nothing. The
    caller commits; everything is flushed when this returns."""
    today = today or datetime.now(playbook.tz).date()
    data = generate_demo(playbook, today)
    report = DemoReport(owners=data.owners)
    now = utcnow()
    _load_people(session, now)

    # Accounts: one query for the existing ones, updated in place; the new ones in one insert.
    names = [a.name for a in data.accounts]
    existing = {a.name: a for a in session.exec(select(Account).where(Account.name.in_(names)))}
    account_id: dict[str, int] = {}
    fresh = []
    for demo in data.accounts:
        values = {c: getattr(demo, c) for c in ACCOUNT_COLUMNS} | {"custom": dict(demo.custom)}
        row = existing.get(demo.name)
        if row is None:
            fresh.append({"name": demo.name, **values, "created_at": now, "updated_at": now})
            continue
        for column, value in values.items():
            setattr(row, column, value)
        row.updated_at = now
        session.add(row)
        account_id[demo.name] = row.id
    report.accounts_created, report.accounts_updated = len(fresh), len(existing)
    if fresh:
        session.exec(insert(Account.__table__), params=fresh)
        account_id |= dict(session.exec(select(Account.name, Account.id)
                                        .where(Account.name.in_([f["name"] for f in fresh]))).all())

    # Deals: one query, by name or by account (a renewal whose year moved on keeps its row).
    deal_names = [d.name for d in data.deals]
    found = list(session.exec(select(Deal).where(or_(Deal.name.in_(deal_names),
                                                     Deal.account_id.in_(list(account_id.values()))))))
    by_name = {d.name: d for d in found}
    wanted = set(deal_names)
    by_stem: dict[tuple[int, str], Deal] = {}
    for d in sorted(found, key=lambda d: d.name):
        if d.name not in wanted:
            by_stem.setdefault((d.account_id, _stem(d.name)), d)
    deal_id: dict[str, int] = {}
    fresh = []
    for demo in data.deals:
        owner_id = account_id[demo.account]
        values = {c: getattr(demo, c) for c in DEAL_COLUMNS} | {"name": demo.name, "account_id": owner_id}
        row = by_name.get(demo.name) or by_stem.pop((owner_id, _stem(demo.name)), None)
        if row is None:
            created = demo.visits[0].entered_at if demo.visits else now
            fresh.append(values | {"created_at": created, "updated_at": created})
            continue
        for column, value in values.items():
            setattr(row, column, value)
        row.updated_at = now
        session.add(row)
        deal_id[demo.name] = row.id
    report.deals_created, report.deals_updated = len(fresh), len(deal_id)
    if deal_id:  # their stage history is replaced by the regenerated one
        session.exec(delete(StageVisit).where(StageVisit.deal_id.in_(list(deal_id.values())))
                     .execution_options(synchronize_session=False))
    session.flush()
    if fresh:
        session.exec(insert(Deal.__table__), params=fresh)
        deal_id |= dict(session.exec(select(Deal.name, Deal.id).where(Deal.name.in_([f["name"] for f in fresh]))).all())

    # Stage history, regenerated for every deal: one insert.
    visits = [{"deal_id": deal_id[demo.name], "stage": v.stage, "entered_at": v.entered_at, "left_at": v.left_at}
              for demo in data.deals for v in demo.visits]
    if visits:
        session.exec(insert(StageVisit.__table__), params=visits)
    report.visits = len(visits)

    # Checklist answers: upsert the reps' answers on accounts and deals.
    answers = [("account", account_id[a.name], box, value, a.owner)
               for a in data.accounts for box, value in a.boxes.items()]
    answers += [("deal", deal_id[d.name], box, value, d.owner) for d in data.deals for box, value in d.boxes.items()]
    if answers:
        subject_ids = {s: sorted({i for subj, i, *_ in answers if subj == s}) for s in ("account", "deal")}
        current = {(r.subject, r.subject_id, r.item_id): r for r in session.exec(select(ChecklistAnswer).where(
            ChecklistAnswer.item_kind == "box",
            or_(*[(ChecklistAnswer.subject == s) & ChecklistAnswer.subject_id.in_(ids)
                  for s, ids in subject_ids.items() if ids])))}
        new = []
        for subject, subject_id, box, value, who in answers:
            row = current.get((subject, subject_id, box))
            if row is None:
                new.append({"subject": subject, "subject_id": subject_id, "item_kind": "box", "item_id": box,
                            "answer": value, "answered_by": who, "answered_at": now})
            elif (row.answer, row.answered_by) != (value, who):
                row.answer, row.answered_by, row.answered_at = value, who, now
                session.add(row)
        if new:
            session.exec(insert(ChecklistAnswer.__table__), params=new)

    # Common actions already done: most accounts have some, so the weekly nudge shows a
    # realistic handful due rather than every action of every account. Regenerated each load.
    base = datetime.combine(today, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=10)
    ids = list(account_id.values())
    if ids:
        session.exec(delete(ActionDone).where(ActionDone.account_id.in_(ids), ActionDone.done_by.like("demo:%")))
    done_rows = []
    for a in data.accounts:
        assessment = assess_account(a.record(), [], today, playbook)
        profile = playbook.profile(assessment.profile.profile or "")
        if profile is None:
            continue
        rng = random.Random(f"actions:{a.name}")
        for action_id in profile.action_ids():
            if rng.random() < 0.7:
                age = rng.randint(1, max(1, profile.every_days - 3))
                done_rows.append({"account_id": account_id[a.name], "action_id": action_id,
                                  "done_by": f"demo:{a.owner}", "done_at": base - timedelta(days=age)})
    if done_rows:
        session.exec(insert(ActionDone.__table__), params=done_rows)

    # Account plans for some Expand and Keep accounts (store/demo_plans.py).
    from store.demo_plans import load_demo_plans

    plans = load_demo_plans(session, today, account_id)

    audit(session, actor, "demo", "load", entity_name="demo dataset", changes={
        "today": today, "accounts_created": report.accounts_created, "accounts_updated": report.accounts_updated,
        "deals_created": report.deals_created, "deals_updated": report.deals_updated, "visits": report.visits,
        "answers": len(answers), "owners": report.owners, "plans": plans["plans"],
    })
    session.flush()
    from store.assessed import mark_stale

    mark_stale(session)  # written with Core inserts: every account is assessed again
    return report
