"""`gare import deals FILE [--create-accounts]`: Salesforce Opportunity, HubSpot deals and
Dynamics 365 opportunities exports, or Gare's own columns.

- A deal is matched by its CRM id, else by its name within its account (and creation date when
  the file gives one): deal names repeat in real CRMs. It references its account by id where the
  file gives one (AccountId, Associated Company IDs), else by name; a deal with no account at all
  is imported without one.
- Stages are read through the playbook (ids, names, `aliases`); a vendor's status columns
  (IsClosed/IsWon, Is Closed Won, Status) win over the stage, and a closed deal at a stage the
  playbook does not know keeps that stage as its CRM stage.
- The stage-entry date comes from the file (LastStageChangeDate, HubSpot's "Date entered ..."
  columns, which also give the stage history); without one, the stay is marked estimated and
  the deal is judged on its creation date (playbook/stage_aging.py)."""
from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timezone
from typing import Any

from sqlalchemy import func, select

from playbook.words import DEAL_KIND_OF, DEAL_STATUS_OF, fold, name_key
from store.imports.owners import Owners
from store.imports.plan import Job, Kind
from store.imports.table import Aliases, Row, header_key
from store.models import DEAL_STATUSES, Account, Deal, StageVisit
from store.queries import _chunks
from store.values import ValueProblem

ALIASES = Aliases({
    "crm_id": ["id", "opportunity id", "deal id", "record id", "hubspot deal id", "(do not modify) opportunity",
               "id de l'opportunité", "id de la transaction", "id de fiche d'informations"],
    "name": ["nom", "deal name", "opportunity name", "topic", "nom de la transaction", "nom de l'opportunité",
             "nom de l'affaire", "rubrique", "sujet", "deal", "opportunity", "transaction", "opportunité", "affaire"],
    "account": ["compte", "account name", "nom du compte", "associated company (primary)", "associated company",
                "entreprise associée (principale)", "entreprise associée", "potential customer", "client potentiel",
                "company", "company name", "entreprise", "société", "client", "customer", "account"],
    "account_id": ["account crm id", "accountid", "account id", "associated company ids (primary)", "associated company id (primary)",
                   "associated company ids", "associated company id", "company id", "id du compte",
                   "id de l'entreprise associée"],
    "owner": ["propriétaire", "deal owner", "opportunity owner", "propriétaire de la transaction",
              "propriétaire de l'opportunité", "responsable", "commercial"],
    "owner_id": ["ownerid", "owner id", "deal owner id", "opportunity owner id", "hubspot owner id",
                 "id du propriétaire"],
    "stage": ["étape", "deal stage", "stage name", "phase de la transaction", "étape de la transaction",
              "pipeline phase", "phase du pipeline", "sales stage", "étape commerciale", "étape de vente", "phase"],
    "stage_entered": ["stage entered at", "entered stage", "stage entered", "stage date", "last stage change date",
                      "date entered current stage", "date d'entrée dans l'étape", "date d'entrée dans l'étape actuelle",
                      "entrée dans l'étape", "entrée étape", "date de l'étape"],
    "created": ["created date", "create date", "created on", "created at", "date de création", "créé le",
                "créée le"],
    "amount": ["montant", "est. revenue", "estimated revenue", "chiffre d'affaires estimé", "revenu estimé",
               "montant estimé", "deal value", "value", "valeur"],
    "currency": ["currency iso code", "amount currency", "opportunity currency", "currency", "deal currency code",
                 "devise", "code de devise", "devise de la transaction"],
    "close_date": ["close date", "est. close date", "estimated close date", "expected close date", "date de clôture",
                   "date de clôture estimée", "date de fermeture", "clôture"],
    "status": ["statut", "deal status", "opportunity status", "état", "status reason", "raison du statut"],
    "is_closed": ["is closed", "closed", "is deal closed?", "fermé", "fermée", "transaction fermée"],
    "is_won": ["is won", "won", "is closed won", "gagné", "gagnée", "conclue gagnée"],
    "is_lost": ["is closed lost", "is lost", "lost", "perdu", "perdue", "conclue perdue"],
    "kind": ["type", "deal type", "opportunity type", "type de transaction", "type d'opportunité", "type d'affaire"],
})
LIMITS = {"name": 200, "owner": 120, "crm_id": 64, "account": 200, "crm_stage": 120}
DATE_ENTERED = re.compile(r"\s*date entered\s*[\"'“‘]?(?P<label>.*?)[\"'”’]?\s*$", re.I)
# Dynamics writes the currency's name; others its ISO code or symbol.
CURRENCY_WORDS = {
    "us dollar": "USD", "dollar": "USD", "$": "USD", "euro": "EUR", "€": "EUR", "pound sterling": "GBP",
    "british pound": "GBP", "£": "GBP", "canadian dollar": "CAD", "australian dollar": "AUD", "swiss franc": "CHF",
    "japanese yen": "JPY", "yen": "JPY", "¥": "JPY", "franc suisse": "CHF", "livre sterling": "GBP",
    "dollar americain": "USD", "dollar canadien": "CAD",
}
# What an account id looks like when a file puts one where a name should be: HubSpot's are
# digits, Salesforce's 15 or 18 characters starting with 001.
ACCOUNT_ID = re.compile(r"\d{5,}|001[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?")
# The account a deal names only by id gets a name that says where it came from.
PLACEHOLDER = {"associated company": "HubSpot company {}", "account id": "Salesforce account {}",
               "accountid": "Salesforce account {}"}
COLUMNS = ("crm_id", "name", "account", "account_crm_id", "owner", "stage", "stage_entered", "created", "amount",
           "currency", "close_date", "status", "kind")  # the export's


def _strip_rank(text: str) -> str:
    """Dynamics pipeline phases read '2-Develop'; some CRMs number their stages '3. Proposal'."""
    return re.sub(r"^\s*\d+\s*[-.):]\s*", "", text)


def _outcome(text: str) -> str | None:
    """'Closed Won' / 'closedlost' / 'Won' -> won or lost; None for any other stage."""
    found = DEAL_STATUS_OF.get(name_key(text)) or DEAL_STATUS_OF.get(name_key(_strip_rank(text)))
    return found if found in ("won", "lost") else None


def _stage(playbook, text: str):
    return playbook.find_stage(text) or playbook.find_stage(_strip_rank(text))


def entered_label(header: str) -> str | None:
    """'Date entered "Contract Sent (Sales Pipeline)"' -> 'Contract Sent'."""
    m = DATE_ENTERED.fullmatch(header)
    if not m or header_key(header) == "date entered current stage":
        return None
    return re.sub(r"\s*\([^()]*\)\s*$", "", m.group("label")).strip() or None


def currency_code(raw: str) -> str:
    text = raw.strip()
    code = CURRENCY_WORDS.get(name_key(text)) or CURRENCY_WORDS.get(text)
    if code:
        return code
    if len(text) == 3 and text.isalpha():
        return text.upper()
    raise ValueProblem("bad_choice", "ISO 4217 code (EUR, USD, GBP…)")


class Deals(Kind):
    name = "deals"
    aliases = ALIASES
    required = ("name", "stage")
    date_fields = ("stage_entered", "created", "close_date")

    def claim(self, job: Job, header: str) -> bool:
        label = entered_label(header)
        return bool(label) and (_stage(job.playbook, label) is not None or _outcome(label) is not None)

    def date_column(self, job: Job, header: str) -> bool:
        return True  # only "Date entered ..." columns are claimed

    def start(self, job: Job) -> None:
        playbook = job.playbook
        entered = {}
        for header, index in job.columns.claimed.items():
            label = entered_label(header)
            stage = _stage(playbook, label)
            entered[index] = (header, stage.id if stage else None, _outcome(label))
        header = job.columns.header.get("account_id", "")
        template = next((t for k, t in PLACEHOLDER.items() if header_key(header).startswith(k)), None)
        r = job.reader
        parsers = {"crm_id": r.text(LIMITS["crm_id"]), "name": r.text(LIMITS["name"]),
                   "account": r.text(LIMITS["account"]), "owner": r.text(LIMITS["owner"]),
                   "stage": r.text(LIMITS["crm_stage"]), "status": r.choice(DEAL_STATUS_OF, DEAL_STATUSES)}
        job.state.update(owners=Owners(job.session), entered=entered, placeholder=template, accounts=set(),
                         new_accounts={}, parsers=parsers, estimated=0)

    # --- reading a row ----------------------------------------------------------------------

    def read(self, job: Job, row: Row) -> dict[str, Any] | None:
        r, playbook, state = job.reader, job.playbook, job.state
        p = state["parsers"]
        v: dict[str, Any] = {
            "crm_id": row.get("crm_id", p["crm_id"]),
            "name": row.get("name", p["name"], required=True),
            "account": row.get("account", p["account"]),
            "account_crm_id": row.get("account_id", p["crm_id"]),
            "amount": row.get("amount", r.quantity("amount")),
            "currency": row.get("currency", currency_code),
            "close_date": row.get("close_date", r.date),
            "entered": row.get("stage_entered", r.datetime),
            "created_at": row.get("created", r.datetime),
            "status": row.get("status", p["status"]),
        }
        if v["account_crm_id"]:
            # HubSpot lists every associated company, "123;456": the first is the primary one.
            v["account_crm_id"] = re.split(r"[;,]", v["account_crm_id"])[0].strip() or None
        owners: Owners = state["owners"]
        owner_id = row.get("owner_id", p["owner"])
        owner = row.get("owner", p["owner"])
        v["owner"] = (owners.owner(row, row.column("owner_id"), owner_id, id_column=True) if owner_id
                      else owners.owner(row, row.column("owner"), owner) if owner else None)
        kind_raw = row.raw("kind")
        v["kind"] = DEAL_KIND_OF.get(name_key(kind_raw)) if kind_raw else None
        if kind_raw and v["kind"] is None:
            row.note(row.column("kind"), "unknown_kind", kind_raw)
        # The vendor's status columns win over the stage.
        flags = {f: row.get(f, r.boolean) for f in ("is_closed", "is_won", "is_lost")}
        if flags["is_won"]:
            v["status"] = "won"
        elif flags["is_lost"] or (flags["is_closed"] and flags["is_won"] is False):
            v["status"] = "lost"
        elif flags["is_closed"] is False:
            v["status"] = "open"
        v["history"] = []
        for index, (header, stage_id, outcome) in state["entered"].items():
            raw = row.cell(index)
            if raw:
                at = row.read(header, raw, r.datetime)
                if at is not None:
                    v["history"].append((at, stage_id, outcome))
        stage_raw = row.get("stage", p["stage"], required=True)
        v["stage"] = v["crm_stage"] = None
        if stage_raw:
            stage, outcome = _stage(playbook, stage_raw), _outcome(stage_raw)
            v["status"] = v["status"] or outcome
            if stage is not None:
                v["stage"] = stage.id
            elif v["status"] in ("won", "lost"):
                v["crm_stage"] = stage_raw  # a closed deal keeps the CRM's word for its last stage
                if outcome is None:
                    row.note(row.column("stage"), "closed_unknown_stage", stage_raw, group=name_key(stage_raw))
            else:
                nearest = playbook.nearest_stage(stage_raw)
                aliases = [*nearest.aliases, stage_raw]
                row.problem(row.column("stage"), "unknown_stage", stage_raw, group=name_key(stage_raw),
                            nearest=nearest.id, nearest_name=nearest.name,
                            aliases_line="aliases = " + json.dumps(aliases, ensure_ascii=False))
        return v

    # --- planning a batch ---------------------------------------------------------------------

    def plan(self, job: Job, rows: list[Row]) -> list:
        read = [(row, self.read(job, row)) for row in rows]
        session = job.session
        accounts = Account.__table__
        acc_by_id, acc_by_name = {}, {}  # -> (id, name)
        for chunk in _chunks(sorted({v["account_crm_id"] for _, v in read if v["account_crm_id"]})):
            acc_by_id |= {a.crm_id: (a.id, a.name) for a in session.execute(
                select(accounts.c.id, accounts.c.crm_id, accounts.c.name).where(accounts.c.crm_id.in_(chunk)))}
        for chunk in _chunks(sorted({fold(v["account"]) for _, v in read if v["account"]})):
            for a in session.execute(select(accounts.c.id, accounts.c.name_key, accounts.c.name)
                                     .where(accounts.c.name_key.in_(chunk))):
                acc_by_name.setdefault(a.name_key, (a.id, a.name))
        resolved = [(row, v, *self._account(job, row, v, acc_by_id, acc_by_name)) for row, v in read]
        deals = Deal.__table__
        by_id, by_name = {}, {}
        for chunk in _chunks(sorted({v["crm_id"] for _, v in read if v["crm_id"]})):
            # Locked until the import commits: a deal moved in chat meanwhile waits, then applies on top.
            by_id |= {d.crm_id: d for d in session.execute(select(deals).where(deals.c.crm_id.in_(chunk))
                                                          .with_for_update()).mappings()}
        # Namesakes, only where a name must decide: an id the store lacks may be a deal imported
        # before ids were (crm_id empty); a row without id matches by name within its account.
        legacy = {fold(v["name"]) for _, v, *_ in resolved if v["name"] and v["crm_id"] and v["crm_id"] not in by_id}
        plain = [(fold(v["name"]), account_id) for _, v, account_id, _, new in resolved
                 if v["name"] and not v["crm_id"] and new is None]
        queries = [(legacy, deals.c.crm_id.is_(None))]
        if plain and all(a is not None for _, a in plain):
            queries.append(({k for k, _ in plain}, deals.c.account_id.in_(sorted({a for _, a in plain}))))
        elif plain:
            queries.append(({k for k, _ in plain}, None))
        seen_ids = set()
        for keys, condition in queries:
            for chunk in _chunks(sorted(keys)):
                query = select(deals).where(deals.c.name_key.in_(chunk)).with_for_update()
                for d in session.execute(query if condition is None else query.where(condition)).mappings():
                    if d.id not in seen_ids:
                        seen_ids.add(d.id)
                        by_name.setdefault(d.name_key, []).append(d)

        # A deal named twice in the file: by its id, else by its name, account and creation day.
        job.duplicates([(row, row.column("crm_id" if v["crm_id"] else "name"), v["crm_id"] or v["name"],
                         ("id", v["crm_id"]) if v["crm_id"] else
                         ("name", fold(v["name"]), account_id if account_id is not None else (new or {}).get("key"),
                          v["created_at"].date() if v["created_at"] else None))
                        for row, v, account_id, _, new in resolved if v["name"] and not row.bad])
        planned = []
        for row, v, account_id, account_name, new_account in resolved:
            if not v["name"] or row.bad:
                continue
            key = fold(v["name"])
            created_day = v["created_at"].date() if v["created_at"] else None
            ref = account_id if account_id is not None else (new_account or {}).get("key")
            stored = by_id.get(v["crm_id"]) if v["crm_id"] else None
            if stored is None:
                namesakes = by_name.get(key, [])
                if v["crm_id"]:
                    namesakes = [d for d in namesakes if d.crm_id is None]
                if new_account is not None:
                    namesakes = []  # its account is new: so is the deal
                elif ref is not None:
                    namesakes = [d for d in namesakes if d.account_id == account_id]
                if created_day is not None and len(namesakes) > 1:
                    namesakes = [d for d in namesakes if _day(d.created_at) == created_day]
                if len(namesakes) > 1:
                    row.problem(row.column("name"), "ambiguous_deal", v["name"], str(len(namesakes)))
                    continue
                stored = namesakes[0] if namesakes else None
            planned.append((row.line, stored, v, account_id, account_name, new_account))
        return planned

    def _account(self, job: Job, row: Row, v: dict, by_id: dict,
                 by_name: dict) -> tuple[int | None, str | None, dict | None]:
        """The deal's account (id, name), or the account this import is to create for it
        (--create-accounts)."""
        crm_id, name = v["account_crm_id"], v["account"]
        column = row.column("account_id" if crm_id and not name else "account")
        if crm_id and crm_id in by_id:
            return (*by_id[crm_id], None)
        if name and fold(name) in by_name:
            return (*by_name[fold(name)], None)
        if name and not crm_id and ACCOUNT_ID.fullmatch(name):
            # A company column holding an id ("123456789", "0015g00000ABCDE"): never a name.
            crm_id, name = name, None
            found = job.session.execute(select(Account.__table__.c.id, Account.__table__.c.name)
                                        .where(Account.__table__.c.crm_id == crm_id)).first()
            if found is not None:
                return found.id, found.name, None
        if not crm_id and not name:
            row.note(None, "no_account")
            return None, None, None
        if not job.options.get("create_accounts"):
            row.problem(column, "unknown_account", name or crm_id)
            return None, None, None
        key = ("id", crm_id) if crm_id else ("name", fold(name))
        label = name or (job.state["placeholder"] or _placeholder(crm_id)).format(crm_id)
        if name:
            row.note(column, "account_created", label)
        else:
            row.note(column, "placeholder_account", label)
        return None, label[:200], {"key": key, "name": label[:200], "crm_id": crm_id}

    # --- writing a batch ------------------------------------------------------------------------

    def apply(self, job: Job, planned: list) -> None:
        session, playbook, state = job.session, job.playbook, job.state
        account_ids = self._create_accounts(job, planned)
        deals, visits = Deal.__table__, StageVisit.__table__
        open_visits: dict[int, list] = {}
        for chunk in _chunks([s.id for _, s, *_ in planned if s is not None]):
            for visit in session.execute(select(visits).where(visits.c.deal_id.in_(chunk),
                                                             visits.c.left_at.is_(None))).mappings():
                open_visits.setdefault(visit.deal_id, []).append(visit)
        old_names = self._names(job, {s.account_id for _, s, *_ in planned if s is not None})
        creates, updates, new_visits, visit_changes = [], [], [], []
        for line, stored, v, account_id, account_name, new_account in planned:
            if new_account is not None:
                account_id = account_ids[new_account["key"]]
            if account_id is not None:
                state["accounts"].add(account_id)
            fields = {"name": v["name"], "crm_id": v["crm_id"], "account_id": account_id, "owner": v["owner"],
                      "stage": v["stage"], "crm_stage": v["crm_stage"], "kind": v["kind"], "amount": v["amount"],
                      "currency": v["currency"], "close_date": v["close_date"], "status": v["status"],
                      "created_at": v["created_at"]}
            if stored is None:
                record = {k: x for k, x in fields.items() if x is not None}
                record.setdefault("status", "open")
                record.setdefault("created_at", job.now)
                record["stage"] = record.get("stage") or playbook.stages[-1].id
                record |= {"name_key": fold(v["name"]), "updated_at": job.stamp}
                diff = {("account" if k == "account_id" else k): [None, account_name if k == "account_id" else x]
                        for k, x in record.items() if k not in ("name_key", "updated_at", "created_at")}
                job.report.change(line, v["name"], "create", diff)
                creates.append((record, diff, v))
                continue
            if fields["stage"] is None:
                fields["stage"] = stored.stage  # a closed deal at a stage the playbook does not know
            if fields["account_id"] is None and new_account is None:
                fields.pop("account_id")  # the file does not say: keep the stored account
            diff = {}
            for k, x in fields.items():
                if x is None or x == stored[k] or (k == "created_at" and _same_moment(x, stored[k])):
                    continue
                if k == "name" and not (v["crm_id"] and stored.crm_id == v["crm_id"]):
                    continue  # matched by name: keep the stored spelling
                diff[k] = [stored[k], x]
            moved = self._visits(job, stored, v, diff, open_visits.get(stored.id, []), new_visits, visit_changes)
            if not diff and not moved:
                job.report.unchanged += 1
                continue
            change = {k: x for k, (_, x) in diff.items()} | {"updated_at": job.stamp}
            if "name" in change:
                change["name_key"] = fold(change["name"])
            updates.append((stored.id, change))
            shown = {k: d for k, d in diff.items() if k != "account_id"}
            if "account_id" in diff:
                shown["account"] = [old_names.get(stored.account_id), account_name]
            job.report.change(line, stored.name, "update", shown | moved)
            if "stage" in diff:
                job.audit("deal", "stage", stored.id, stored.name, {"stage": diff["stage"]})
            rest = {k: d for k, d in shown.items() if k != "stage"} | {k: d for k, d in moved.items() if k != "stage"}
            if rest:
                job.audit("deal", "update", stored.id, stored.name, rest)
        ids = job.insert(deals, _same_keys([r for r, _, _ in creates]))
        for deal_id, (record, diff, v) in zip(ids, creates):
            job.audit("deal", "create", deal_id, record["name"], diff)
            new_visits += self._first_visits(job, deal_id, record, v)
        job.update(deals, updates)
        job.update(visits, visit_changes)
        if new_visits:
            session.execute(visits.insert(), _same_keys(new_visits))
        state["estimated"] += sum(
            1 for x in new_visits if x.get("estimated") and x.get("left_at") is None)

    def _names(self, job: Job, account_ids: set) -> dict[int, str]:
        table = Account.__table__
        out = {}
        for chunk in _chunks(sorted(i for i in account_ids if i is not None)):
            out |= dict(job.session.execute(select(table.c.id, table.c.name).where(table.c.id.in_(chunk))).all())
        return out

    def _create_accounts(self, job: Job, planned: list) -> dict:
        """The accounts --create-accounts makes for this batch, as prospects, once each."""
        made: dict = job.state["new_accounts"]
        fresh = {}
        for *_, new_account in planned:
            if new_account is not None and new_account["key"] not in made and new_account["key"] not in fresh:
                fresh[new_account["key"]] = new_account
        if fresh:
            rows = [{"name": a["name"], "name_key": fold(a["name"]), "crm_id": a["crm_id"], "status": "prospect",
                     "custom": {}, "created_at": job.stamp, "updated_at": job.stamp} for a in fresh.values()]
            ids = job.insert(Account.__table__, rows)
            for account_id, (key, a) in zip(ids, fresh.items()):
                made[key] = account_id
                job.audit("account", "create", account_id, a["name"],
                          {"name": [None, a["name"]], "crm_id": [None, a["crm_id"]], "status": [None, "prospect"]})
        return made

    def _first_visits(self, job: Job, deal_id: int, record: dict, v: dict) -> list[dict]:
        """The stays of a new deal: its "Date entered" history, then its current stage."""
        playbook, status = job.playbook, record["status"]
        order = {s.id: i for i, s in enumerate(playbook.stages)}
        entries = sorted(((at, i, stage) for i, (at, stage, _) in enumerate(v["history"]) if stage),
                         key=lambda e: (e[0], e[1], order.get(e[2], 0)))
        closed_at = max((at for at, stage, outcome in v["history"] if outcome), default=None)
        stays: list[dict] = []
        for at, _, stage in entries:
            if stays and stays[-1]["stage"] == stage:
                continue
            stays.append({"deal_id": deal_id, "stage": stage, "entered_at": at, "left_at": None, "estimated": False})
        current = record["stage"]
        entered = v["entered"]
        if stays and stays[-1]["stage"] == current and entered is None:
            pass  # the history says when it entered its current stage
        elif stays and stays[-1]["stage"] == current:
            stays[-1]["entered_at"] = entered
        elif record.get("crm_stage") is None or not stays:
            stays.append({"deal_id": deal_id, "stage": current, "entered_at": entered or job.now, "left_at": None,
                          "estimated": entered is None})
        for stay, following in zip(stays, stays[1:]):
            stay["left_at"] = following["entered_at"]
        if status in ("won", "lost", "nurture") and stays:
            stays[-1]["left_at"] = max(closed_at or _moment(record.get("close_date"), job) or job.now,
                                       stays[-1]["entered_at"])
        return stays

    def _visits(self, job: Job, stored, v: dict, diff: dict, open_visits: list, new_visits: list,
                visit_changes: list) -> dict:
        """The stage history an update needs: a move opens a stay, a close ends it, a stage-entry
        date the CRM now gives replaces an estimated one. Returns what changed, for the report."""
        moved: dict[str, list] = {}
        status = diff.get("status", [None, stored.status])[1]
        at = v["entered"] or job.now
        if "stage" in diff or ("status" in diff and diff["status"][0] in ("won", "lost", "nurture")
                               and status == "open"):
            for visit in open_visits:
                visit_changes.append((visit.id, {"left_at": max(at, visit.entered_at)}))
            if status in ("open", None):
                new_visits.append({"deal_id": stored.id, "stage": diff.get("stage", [None, stored.stage])[1],
                                   "entered_at": at, "left_at": None, "estimated": v["entered"] is None})
            return moved
        if "status" in diff and status in ("won", "lost", "nurture"):
            end = _moment(v["close_date"] or stored.close_date, job) if status != "nurture" else None
            for visit in open_visits:
                visit_changes.append((visit.id, {"left_at": max(end or job.now, visit.entered_at)}))
            return moved
        if v["entered"] is not None and len(open_visits) == 1 and open_visits[0].estimated:
            # The CRM now says when the deal entered its stage: the estimate gives way. A date
            # already known (from a stage history, say) is kept: two sources never take turns.
            visit = open_visits[0]
            visit_changes.append((visit.id, {"entered_at": v["entered"], "estimated": False}))
            moved["stage_entered"] = [None, v["entered"]]
        return moved

    def finish(self, job: Job) -> None:
        """Accounts whose status the file does not say get it from their deals: a won deal makes
        a customer, deals all lost a prospect (a chat edit or an accounts file beats this)."""
        for _ in range(job.state["estimated"]):
            job.report.note(None, None, "estimated_entry")
        accounts, deals = Account.__table__, Deal.__table__
        touched = sorted(job.state["accounts"])
        changes = []
        for chunk in _chunks(touched):
            outcomes: dict[int, dict[str, int]] = {}
            for account_id, status, n in job.session.execute(
                    select(deals.c.account_id, deals.c.status, func.count()).where(deals.c.account_id.in_(chunk))
                    .group_by(deals.c.account_id, deals.c.status)):
                outcomes.setdefault(account_id, {})[status] = n
            for a in job.session.execute(select(accounts.c.id, accounts.c.name, accounts.c.status,
                                                accounts.c.status_source).where(accounts.c.id.in_(chunk))):
                if a.status_source not in (None, "derived"):
                    continue
                seen = outcomes.get(a.id, {})
                derived = "customer" if seen.get("won") else (
                    "prospect" if seen and set(seen) == {"lost"} else None)
                if derived and (derived != a.status or a.status_source is None):
                    changes.append((a.id, {"status": derived, "status_source": "derived", "updated_at": job.stamp}))
                    if derived != a.status:
                        job.audit("account", "update", a.id, a.name, {"status": [a.status, derived]})
                        job.report.note(None, None, "status_derived", a.name)
        job.update(accounts, changes)


def _placeholder(crm_id: str) -> str:
    """The name of an account known only by an id in a name column, by the id's shape."""
    if crm_id.isdigit():
        return "HubSpot company {}"
    return "Salesforce account {}" if crm_id.startswith("001") else "CRM account {}"


def _same_keys(records: list[dict]) -> list[dict]:
    keys = {k for r in records for k in r}
    return [{k: r.get(k) for k in keys} for r in records]


def _day(moment: datetime | None) -> date | None:
    return moment.date() if moment is not None else None


def _same_moment(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    if (a.tzinfo is None) != (b.tzinfo is None):
        a, b = (x.replace(tzinfo=timezone.utc) if x.tzinfo is None else x for x in (a, b))
    return a == b


def _moment(day: date | None, job: Job) -> datetime | None:
    """A close date as a moment: the start of that day in the playbook's zone."""
    if day is None:
        return None
    return datetime.combine(day, time(), tzinfo=job.playbook.tz).astimezone(timezone.utc)
