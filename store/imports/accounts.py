"""`gare import accounts FILE`: Salesforce Account, HubSpot companies and Dynamics 365 accounts
exports, or Gare's own columns, in English or French. An account is matched by its CRM id, else
by its name (ignoring case and accents); re-importing a file changes nothing. Columns the
playbook declares in [fields] are kept, typed; any other column is ignored and listed once."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from playbook.config import ACCOUNT_FIELDS, DERIVED_FIELDS
from playbook.words import fold, name_key
from store.imports.owners import Owners
from store.imports.plan import Job, Kind
from store.imports.table import Aliases, Row, header_key
from store.models import ACCOUNT_STATUSES, SECTORS, Account
from store.queries import _chunks

ALIASES = Aliases({
    "crm_id": ["id", "account id", "record id", "company id", "hubspot company id", "(do not modify) account",
               "identifiant", "id du compte", "id de l'enregistrement", "id de fiche d'informations"],
    "name": ["nom", "account name", "company name", "nom du compte", "nom de l'entreprise", "nom de la société",
             "raison sociale", "company", "account", "entreprise", "société", "compte"],
    "owner": ["propriétaire", "account owner", "company owner", "owner name", "propriétaire du compte",
              "propriétaire de l'entreprise", "responsable du compte", "responsable", "commercial"],
    "owner_id": ["ownerid", "owner id", "account owner id", "company owner id", "hubspot owner id",
                 "id du propriétaire"],
    "status": ["relationship type", "type de relation", "lifecycle stage", "phase du cycle de vie", "status", "statut",
               "account status", "statut du compte", "type", "account type", "type de compte"],
    "industry": ["secteur d'activité", "industrie", "activité"],
    "region": ["région", "country/region", "pays/région", "country", "pays", "billing country",
               "pays de facturation", "address 1: country/region", "adresse 1 : pays/région", "address 1: country",
               "territory", "territoire"],
    "sector": ["secteur", "type de secteur", "public/private", "public/privé"],
    "annual_revenue": ["annual revenue", "revenue", "chiffre d'affaires annuel", "chiffre d'affaires", "ca annuel",
                       "ca", "revenu annuel"],
    "employees": ["number of employees", "employee count", "headcount", "nombre d'employés", "employés",
                  "effectif", "effectifs", "nombre de salariés", "salariés"],
    "margin_pct": ["margin %", "margin", "margin percent", "marge %", "marge", "taux de marge"],
    "exec_sponsor": ["executive sponsor", "sponsor exécutif", "sponsor exec", "sponsor"],
    "last_contact": ["last contacted", "last contact date", "last activity date", "last activity", "dernier contact",
                     "date du dernier contact", "dernière activité", "date de dernière activité",
                     "date de la dernière activité"],
    "lifetime_value": ["customer lifetime value", "ltv", "clv", "valeur vie client", "valeur à vie", "valeur vie",
                       "valeur client"],
})

# Vendor values (name_key form). None: the value says nothing about the relationship (a
# partner, Dynamics' Active/Inactive record status): the status stays as it was.
STATUS_WORDS: dict[str, str | None] = {}
for _status, _words in {
    "customer": ["customer", "customers", "client", "clients", "cliente", "customer direct", "customer channel",
                 "current customer", "active customer", "client actif", "evangelist", "évangéliste"],
    "prospect": ["prospect", "prospects", "lead", "subscriber", "abonné", "marketing qualified lead",
                 "marketingqualifiedlead", "sales qualified lead", "salesqualifiedlead", "lead qualifié marketing",
                 "lead qualifié commercial", "mql", "sql", "opportunity", "opportunité", "other", "autre"],
    "former": ["former", "former customer", "ex customer", "past customer", "lost customer", "churned",
               "churned customer", "ex client", "ancien client", "ancienne cliente", "ancien", "client perdu"],
    None: ["partner", "channel partner reseller", "installation partner", "technology partner", "reseller", "vendor",
           "supplier", "competitor", "consultant", "influencer", "investor", "press", "active", "inactive",
           "partenaire", "revendeur", "fournisseur", "concurrent", "actif", "inactif"],
}.items():
    for _word in _words:
        STATUS_WORDS[name_key(_word)] = _status
    if _status:
        STATUS_WORDS[_status] = _status
SECTOR_WORDS = {name_key(w): s for s, ws in {
    "commercial": ["commercial", "private", "private sector", "privé", "secteur privé"],
    "public": ["public", "public sector", "secteur public", "government", "gouvernement", "administration",
               "administration publique"],
}.items() for w in ws}
LIMITS = {"name": 200, "owner": 120, "industry": 120, "region": 120, "crm_id": 64}
COLUMNS = tuple(ACCOUNT_FIELDS)  # the canonical columns, also the export's


def custom_kinds(playbook) -> dict[str, str]:
    """The playbook's own account fields ([fields]): the only other columns an import keeps."""
    return {k: v for k, v in playbook.field_types.items() if k not in ACCOUNT_FIELDS and k not in DERIVED_FIELDS}


def custom_key(header: str) -> str:
    """The key a custom column is kept under: 'Churn reason' -> 'churn_reason', 'NPS' -> 'nps'."""
    return header_key(header).replace(" ", "_")


class Accounts(Kind):
    name = "accounts"
    aliases = ALIASES
    required = ("name",)
    date_fields = ("last_contact",)

    def claim(self, job: Job, header: str) -> bool:
        # A field the playbook declares beats an alias ("revenue" declared in [fields] stays custom).
        return custom_key(header) in custom_kinds(job.playbook)

    def date_column(self, job: Job, header: str) -> bool:
        return custom_kinds(job.playbook).get(custom_key(header)) == "date"

    def start(self, job: Job) -> None:
        job.state.update(owners=Owners(job.session), kinds=custom_kinds(job.playbook))
        job.report.custom_columns = [custom_key(h) for h in job.columns.claimed]

    def read(self, job: Job, row: Row) -> tuple[dict[str, Any], dict[str, Any]]:
        r = job.reader
        parsers = {
            "crm_id": r.text(LIMITS["crm_id"]), "name": r.text(LIMITS["name"]), "owner": r.text(LIMITS["owner"]),
            "owner_id": r.text(LIMITS["owner"]), "status": r.choice(STATUS_WORDS, ACCOUNT_STATUSES),
            "industry": r.text(LIMITS["industry"]), "region": r.text(LIMITS["region"]),
            "sector": r.choice(SECTOR_WORDS, SECTORS), "annual_revenue": r.quantity("annual_revenue"),
            "employees": r.quantity("employees"), "margin_pct": r.quantity("margin_pct"), "exec_sponsor": r.boolean,
            "last_contact": r.date, "lifetime_value": r.quantity("lifetime_value"),
        }
        values = {f: row.get(f, parsers[f], required=f == "name") for f in job.columns.index}
        owners: Owners = job.state["owners"]
        if values.get("owner_id"):
            values["owner"] = owners.owner(row, row.column("owner_id"), values["owner_id"], id_column=True)
        elif values.get("owner"):
            values["owner"] = owners.owner(row, row.column("owner"), values["owner"])
        values.pop("owner_id", None)
        custom = {}
        for header, index in job.columns.claimed.items():
            raw = row.cell(index)
            if raw:
                key = custom_key(header)
                value = row.read(header, raw, lambda text: _typed(job, key, job.state["kinds"][key], text))
                if value is not None:
                    custom[key] = value
        return {k: v for k, v in values.items() if v is not None}, custom

    def plan(self, job: Job, rows: list[Row]) -> list:
        read = [(row, *self.read(job, row)) for row in rows]
        table = Account.__table__
        ids = [v["crm_id"] for _, v, _ in read if v.get("crm_id")]
        keys = [fold(v["name"]) for _, v, _ in read if v.get("name")]
        by_id, by_name = {}, {}
        # The rows read are locked until the import commits (store/locks.py): a custom field set in
        # chat meanwhile waits, then lands on top of the import's values instead of being undone.
        for chunk in _chunks(ids):
            by_id |= {r.crm_id: r for r in job.session.execute(select(table).where(table.c.crm_id.in_(chunk))
                                                                .with_for_update()).mappings()}
        for chunk in _chunks(keys):
            for r in job.session.execute(select(table).where(table.c.name_key.in_(chunk)).with_for_update()).mappings():
                by_name.setdefault(r.name_key, r)
        # One row per account: its id, and its name (Gare keys accounts by name too).
        twice = job.duplicates([(row, row.column("crm_id"), v["crm_id"], ("id", v["crm_id"]))
                                for row, v, _ in read if v.get("crm_id") and v.get("name")])
        job.duplicates([(row, row.column("name"), v["name"], ("name", fold(v["name"])))
                        for row, v, _ in read if v.get("name") and row not in twice])
        planned = []
        for row, values, custom in read:
            name, crm_id = values.get("name"), values.get("crm_id")
            stored = None
            if name:
                key = fold(name)
                stored = by_id.get(crm_id) if crm_id else None
                namesake = by_name.get(key)
                if stored is None and namesake is not None and (not crm_id or namesake.crm_id in (None, crm_id)):
                    stored = namesake  # matched by name; its CRM id is learnt now
                elif namesake is not None and namesake.id != (stored.id if stored else None):
                    # Gare keys accounts by name too: two CRM records cannot share one.
                    row.problem(row.column("name"), "name_taken", name, namesake.crm_id or "")
            if not row.bad:
                if stored is not None and not (crm_id and stored.crm_id == crm_id):
                    values.pop("name")  # matched by name: keep the stored spelling
                planned.append((row.line, stored, values, custom))
        return planned

    def apply(self, job: Job, planned: list) -> None:
        table = Account.__table__
        creates, updates = [], []
        for line, stored, values, custom in planned:
            if "status" in values:
                values["status_source"] = "file"
            if stored is None:
                record = dict(values, name_key=fold(values["name"]), custom=custom, created_at=job.stamp,
                              updated_at=job.stamp)
                record.setdefault("status", "prospect")
                diff = {f: [None, v] for f, v in values.items() if f != "status_source"}
                diff |= {k: [None, v] for k, v in custom.items()}
                job.report.change(line, values["name"], "create", diff)
                creates.append((record, diff))
                continue
            diff = {f: [stored[f], v] for f, v in values.items() if stored[f] != v and f != "status_source"}
            kept = dict(stored.custom or {})
            custom_diff = {k: [kept.get(k), v] for k, v in custom.items() if kept.get(k) != v}
            if not diff and not custom_diff:
                job.report.unchanged += 1
                continue
            change = {f: v for f, (_, v) in diff.items()}
            if "status" in change:
                change["status_source"] = "file"
            if "name" in change:
                change["name_key"] = fold(change["name"])
            if custom_diff:
                change["custom"] = kept | {k: v for k, (_, v) in custom_diff.items()}
            change["updated_at"] = job.stamp
            job.report.change(line, stored.name, "update", diff | custom_diff)
            updates.append((stored.id, change))
            job.audit("account", "update", stored.id, change.get("name", stored.name), diff | custom_diff)
        for record_id, (record, diff) in zip(job.insert(table, _same_keys([r for r, _ in creates])), creates):
            job.audit("account", "create", record_id, record["name"], diff)
        job.update(table, updates)


def _same_keys(records: list[dict]) -> list[dict]:
    """One multi-row insert needs every row to give every column."""
    keys = {k for r in records for k in r}
    return [{k: r.get(k) for k in keys} for r in records]


def _typed(job: Job, key: str, kind: str | None, raw: str) -> Any:
    """A custom column's value as stored: typed by its declared kind, as chat's `set` stores it."""
    r = job.reader
    if kind == "number":
        return r.quantity(key)(raw)
    if kind == "bool":
        return r.boolean(raw)
    if kind == "date":
        value = r.date(raw)
        return value.isoformat() if isinstance(value, date) else value
    return raw.strip()
