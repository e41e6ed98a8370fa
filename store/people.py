"""The people directory in the store: finding a person by a platform id, an e-mail or an owner
name, linking a platform account to them, and who a manager oversees. Rules about who may do
what live in playbook/permissions.py; who may be linked, in handlers/people.py."""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import func, or_
from sqlmodel import Session, select

from playbook.words import fold
from store import locks
from store.models import Person, utcnow

PLATFORM_COLUMNS = {"slack": "slack_id", "teams": "teams_id"}


def by_platform_id(session: Session, platform: str, user_id: str) -> Person | None:
    column = PLATFORM_COLUMNS.get(platform)
    if column is None or not user_id:
        return None
    return session.exec(select(Person).where(getattr(Person, column) == user_id)).first()


def by_email(session: Session, email: str | None) -> Person | None:
    if not email:
        return None
    return session.exec(select(Person).where(Person.email == email.strip().lower())).first()


def by_upn(session: Session, upn: str | None) -> Person | None:
    if not upn:
        return None
    key = upn.strip().lower()
    return session.exec(select(Person).where(or_(func.lower(Person.upn) == key, Person.email == key))).first()


def by_owner(session: Session, owner: str | None) -> Person | None:
    if not owner:
        return None
    return session.exec(select(Person).where(Person.owner_key == fold(owner))).first()


def by_owners(session: Session, owners: Iterable[str]) -> dict[str, Person]:
    """Folded owner name -> person, for the owners that are in the directory."""
    keys = sorted({fold(o) for o in owners if o})
    out: dict[str, Person] = {}
    for i in range(0, len(keys), 900):
        for row in session.exec(select(Person).where(Person.owner_key.in_(keys[i:i + 900]))):
            out[row.owner_key] = row
    return out


def link(session: Session, person: Person, platform: str, user_id: str) -> None:
    locks.lock(session, person)  # the same object, reloaded: two processes may link at once
    setattr(person, PLATFORM_COLUMNS[platform], user_id)
    person.updated_at = utcnow()
    session.add(person)


def people(session: Session, *, active_only: bool = False) -> list[Person]:
    query = select(Person).order_by(Person.owner_key)
    if active_only:
        query = query.where(Person.active.is_(True))
    return list(session.exec(query))


def everyone(session: Session) -> list[Person]:
    """Every person of the directory, in the order reports_of reads them."""
    return list(session.exec(select(Person)))


def reports_of(session: Session, manager: str) -> list[Person]:
    """The people whose manager (in the directory) is `manager`. The directory is the sales
    team (hundreds of rows, not the accounts), so names are compared folded, in Python."""
    key = fold(manager)
    return [p for p in session.exec(select(Person).where(Person.manager.is_not(None))) if fold(p.manager) == key]
