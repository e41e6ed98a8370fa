"""Who owns a record, as a CRM file says it: a name ("Dana Scully", as Salesforce's Account Owner
and HubSpot's Deal owner columns write it), or a user id (Salesforce OwnerId, HubSpot owner ids)
that the people directory turns into that person's owner name. An id nobody in the directory
carries is kept as written, so the record stays visibly someone's, and the report lists it."""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlmodel import Session

from store.imports.table import Row
from store.models import Person

# Salesforce user ids (005..., 15 or 18 characters) and HubSpot owner ids (digits).
_LOOKS_LIKE_ID = re.compile(r"005[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?|\d{5,}")


class Owners:
    def __init__(self, session: Session):
        self.by_crm_id = {crm_id: owner for crm_id, owner in
                          session.execute(select(Person.crm_id, Person.owner).where(Person.crm_id.is_not(None)))}

    def owner(self, row: Row, column: str, raw: str, *, id_column: bool = False) -> str:
        """The owner name for a cell of an owner column (`id_column`: a column of user ids)."""
        found = self.by_crm_id.get(raw)
        if found is not None:
            return found
        if id_column or _LOOKS_LIKE_ID.fullmatch(raw):
            row.note(column, "unknown_owner", raw)
        return raw
