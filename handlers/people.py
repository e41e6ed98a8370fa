"""Who is speaking on a chat platform: the chat user mapped to the owner name used on accounts
and deals (by e-mail, else by name), and the language they read. Cached in the store so every
worker knows them without asking the platform again."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from playbook.words import fold
from store import queries
from store.database import session_scope

# An unmatched user is looked up again after this long: the CRM import may have caught up.
RECHECK_UNMATCHED = timedelta(days=1)
LANGUAGES = ("en", "fr")


@dataclass(frozen=True)
class ChatPerson:
    chat_id: str
    owner: str | None
    name: str | None
    email: str | None
    language: str | None  # None: the playbook's

    @property
    def actor(self) -> str:
        """What audit records and checklist answers say about who did it."""
        return self.owner or self.name or self.chat_id


def language_of(locale: str | None) -> str | None:
    """'fr-FR' -> 'fr'; a language Gare does not speak -> None (the playbook's is used)."""
    lang = (locale or "").replace("_", "-").split("-")[0].lower()
    return lang if lang in LANGUAGES else None


def known_person(engine: Engine, platform: str, chat_id: str, now: datetime) -> ChatPerson | None:
    """The cached person, or None when the platform should be asked (never seen, or unmatched
    and not checked for a while)."""
    with session_scope(engine) as session:
        row = queries.chat_user(session, platform, chat_id)
        if row is None:
            return None
        checked = row.checked_at or row.created_at
        if row.owner is None and checked is not None:
            if checked.tzinfo is None:
                checked = checked.replace(tzinfo=now.tzinfo)
            if now - checked > RECHECK_UNMATCHED:
                return None
        return ChatPerson(row.chat_id, row.owner, row.display_name, row.email, row.language)


def _match_owner(owners: list[str], email: str | None, names: list[str | None]) -> str | None:
    """The owner name this person goes by: their e-mail, its local part, or one of their names,
    compared without case or accents."""
    candidates = []
    if email:
        candidates += [email, email.split("@", 1)[0]]
    candidates += [n for n in names if n]
    by_key = {fold(o): o for o in owners}
    for candidate in candidates:
        found = by_key.get(fold(candidate))
        if found:
            return found
    return None


def remember_person(engine: Engine, platform: str, chat_id: str, *, email: str | None, names: list[str | None],
                    locale: str | None, now: datetime, also_known: tuple[str, ...] = ()) -> ChatPerson:
    """Save what the platform told us about a user and map them to an owner. `also_known` are
    names that own nothing yet are people of the playbook (managers of its teams)."""
    with session_scope(engine) as session:
        owner = _match_owner(queries.all_owners(session) + list(also_known), email, names)
        name = next((n for n in names if n), None)
        row = queries.save_chat_user(session, platform, chat_id, owner=owner, email=email,
                                     display_name=(name or "")[:200] or None, language=language_of(locale),
                                     checked_at=now)
        return ChatPerson(chat_id, row.owner, row.display_name, row.email, row.language)


def chat_ids_of_owner(engine: Engine, platform: str, owner: str) -> list[str]:
    """The chat users known to be this owner (for posting nudges to them)."""
    with session_scope(engine) as session:
        return [u.chat_id for u in queries.chat_users_of_owner(session, platform, owner)]
