"""`gare import people FILE`: the people directory, from Gare's own columns (owner, email, name,
role, team, manager, slack_id, teams_id, upn, language, active), a Salesforce User export (Id,
Name, Email, Username, ManagerId, IsActive) or a HubSpot owners export (Owner ID, Email, First
Name, Last Name). All or nothing, like every import.

A person's owner name is what the CRM writes in its owner columns: Salesforce's Account Owner
and Opportunity Owner hold the user's full Name, HubSpot's Company owner and Deal owner hold
"First Last". Their CRM user id is kept, so owner ids in account and deal files (OwnerId, HubSpot
owner ids) resolve to them; ids kept as owners by earlier imports are resolved now.

A directory is a few hundred rows: it is read whole (a ManagerId may name someone further down
the file) and written at the end."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from playbook.words import ROLE_OF, fold, name_key
from store.imports.plan import Job, Kind
from store.imports.table import Aliases, Row
from store.models import Account, Deal, Person
from store.queries import _chunks
from store.values import ValueProblem

ALIASES = Aliases({
    "owner": ["owner name", "propriétaire", "nom du propriétaire", "commercial"],
    "crm_id": ["owner id", "hubspot owner id", "id", "user id", "crm id", "crm user id", "identifiant"],
    "name": ["full name", "display name", "nom complet", "nom affiché", "nom"],
    "first_name": ["first name", "prénom"],
    "last_name": ["last name", "nom de famille"],
    "email": ["e-mail", "email address", "adresse e-mail", "adresse électronique", "courriel", "mail"],
    "role": ["rôle", "user role", "sales role", "fonction commerciale"],
    "team": ["équipe", "sales team", "équipe commerciale"],
    "manager": ["manager name", "responsable", "n+1"],
    "manager_id": ["manager id", "id du manager"],
    "slack_id": ["slack user id", "slack member id", "id slack", "slack"],
    "teams_id": ["teams user id", "aad object id", "azure ad object id", "entra object id", "object id", "id teams"],
    "upn": ["user principal name", "userprincipalname"],
    "language": ["langue", "language locale key", "locale", "languagelocalekey"],
    "active": ["is active", "actif", "active user", "enabled"],
    "archived": ["deactivated", "archivé", "désactivé", "is archived"],
})
LIMITS = {"owner": 120, "crm_id": 64, "name": 200, "email": 254, "team": 120, "manager": 120, "slack_id": 40,
          "teams_id": 64, "upn": 254}
ROLES = ("rep", "manager", "admin")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
UNIQUE = ("crm_id", "email", "slack_id", "teams_id")  # besides the owner name, one person each


def _email(raw: str) -> str:
    value = raw.strip().lower()
    if not EMAIL.fullmatch(value) or len(value) > LIMITS["email"]:
        raise ValueProblem("bad_email", "email")
    return value


def _role(raw: str) -> str:
    role = ROLE_OF.get(name_key(raw))
    if role is None:
        raise ValueProblem("bad_role", " | ".join(ROLES))
    return role


def _language(raw: str) -> str | None:
    """'fr', 'fr_FR', 'en_US' -> fr / en; a language Gare does not speak says nothing."""
    code = raw.strip().lower().replace("-", "_").split("_")[0]
    return code if code in ("en", "fr") else None


class People(Kind):
    name = "people"
    aliases = ALIASES
    one_of = (("owner", "name", "first_name", "last_name"),)

    def start(self, job: Job) -> None:
        job.state.update(rows=[], seen={f: {} for f in ("owner", *UNIQUE)})

    def plan(self, job: Job, rows: list[Row]) -> None:
        r, state = job.reader, job.state
        text = {f: r.text(n) for f, n in LIMITS.items()}
        for row in rows:
            v: dict[str, Any] = {f: row.get(f, text[f]) for f in LIMITS if f in job.columns.index}
            first, last = row.get("first_name", text["name"]), row.get("last_name", text["name"])
            full = " ".join(x for x in (first, last) if x) or None
            v["name"] = v.get("name") or full
            # The owner name is the CRM's display name for the person: Salesforce's Name,
            # HubSpot's "First Last".
            v["owner"] = v.get("owner") or v["name"]
            if not v["owner"]:
                row.problem("owner", "missing_value")
            elif len(v["owner"]) > LIMITS["owner"]:
                row.problem(row.column("name"), "too_long", v["owner"], str(LIMITS["owner"]))
            v["email"] = row.get("email", _email)
            v["role"] = row.get("role", _role)
            v["manager_id"] = row.get("manager_id", text["crm_id"])
            if "language" in job.columns.index and row.raw("language"):
                v["language"] = _language(row.raw("language"))
                if v["language"] is None:
                    row.note(row.column("language"), "unsupported_language", row.raw("language"))
            active = row.get("active", r.boolean)
            archived = row.get("archived", r.boolean)
            v["active"] = active if active is not None else (not archived if archived is not None else None)
            for field in ("owner", *UNIQUE):
                value = v.get(field)
                if not value:
                    continue
                key = fold(value) if field == "owner" else value
                first_line = state["seen"][field].setdefault(key, row.line)
                if first_line != row.line:
                    row.problem(row.column(field), "duplicate_row", value, str(first_line))
            if not row.bad:
                state["rows"].append((row, {k: x for k, x in v.items() if x is not None}))

    def apply(self, job: Job, planned: None) -> None:
        pass  # everything is written in finish(), once the whole file is read

    def finish(self, job: Job) -> None:
        session, state, report = job.session, job.state, job.report
        people = Person.__table__
        stored = list(session.execute(select(people)).mappings())
        by = {"owner": {p.owner_key: p for p in stored}}
        for field in UNIQUE:
            by[field] = {p[field]: p for p in stored if p[field]}
        # ManagerId names a user of this file, or of the directory.
        owner_of_id = {p.crm_id: p.owner for p in stored if p.crm_id}
        owner_of_id |= {v["crm_id"]: v["owner"] for _, v in state["rows"] if v.get("crm_id")}
        creates, updates = [], []
        for row, v in state["rows"]:
            manager_id = v.pop("manager_id", None)
            if manager_id and not v.get("manager"):
                if manager_id in owner_of_id:
                    v["manager"] = owner_of_id[manager_id]
                else:
                    row.note(row.column("manager_id"), "unknown_manager", manager_id)
            match = (by["crm_id"].get(v.get("crm_id")) if v.get("crm_id") else None) \
                or by["owner"].get(fold(v["owner"]))
            for field in UNIQUE:  # an id or e-mail already someone else's
                holder = by[field].get(v.get(field)) if v.get(field) else None
                if holder is not None and (match is None or holder.id != match.id):
                    row.problem(row.column(field), "taken", v[field], holder.owner)
            if row.bad:
                continue
            if match is None:
                record = {"role": "rep", "active": True} | v | {"owner_key": fold(v["owner"]),
                                                                "created_at": job.stamp, "updated_at": job.stamp}
                diff = {k: [None, x] for k, x in v.items()}
                report.change(row.line, v["owner"], "create", diff)
                creates.append((record, diff))
                continue
            if match.crm_id and v.get("crm_id") == match.crm_id and fold(v["owner"]) != match.owner_key \
                    and fold(v["owner"]) in by["owner"]:
                row.problem(row.column("name"), "taken", v["owner"], by["owner"][fold(v["owner"])].owner)
                continue
            diff = {k: [match[k], x] for k, x in v.items() if match[k] != x}
            if not diff:
                report.unchanged += 1
                continue
            change = {k: x for k, (_, x) in diff.items()} | {"updated_at": job.stamp}
            if "owner" in change:
                change["owner_key"] = fold(change["owner"])
            report.change(row.line, match.owner, "update", diff)
            updates.append((match.id, change, diff, match.owner))
        if not report.ok:
            return
        keys = {k for r, _ in creates for k in r}
        ids = job.insert(people, [{k: r.get(k) for k in keys} for r, _ in creates])
        for person_id, (record, diff) in zip(ids, creates):
            job.audit("person", "create", person_id, record["owner"], diff)
        job.update(people, [(i, c) for i, c, _, _ in updates])
        for person_id, _, diff, owner in updates:
            job.audit("person", "update", person_id, owner, diff)
        self._resolve_kept_ids(job)

    def _resolve_kept_ids(self, job: Job) -> None:
        """Accounts and deals an earlier import left owned by a bare user id now get the owner
        name of the person who carries that id."""
        people = Person.__table__
        names = dict(job.session.execute(select(people.c.crm_id, people.c.owner).where(people.c.crm_id.is_not(None))).all())
        if not names:
            return
        for model in (Account, Deal):
            table = model.__table__
            changes = []
            for chunk in _chunks(sorted(names)):
                for record in job.session.execute(select(table.c.id, table.c.name, table.c.owner)
                                                  .where(table.c.owner.in_(chunk))):
                    owner = names[record.owner]
                    changes.append((record.id, {"owner": owner, "updated_at": job.stamp}))
                    job.audit(model.__tablename__, "update", record.id, record.name, {"owner": [record.owner, owner]})
                    job.report.note(None, None, "owner_resolved", record.owner)
            job.update(table, changes)
