"""The Microsoft Teams conversations Gare may write to on its own (table teams_conversation):
saved when the bot is installed or spoken to, read by the weekly run (a person's personal chat),
by checklist updates (a channel) and by `gare people sync teams` (the teams it is installed in)."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from store.models import TeamsConversation


def save(session: Session, *, conversation_id: str, kind: str, service_url: str, reference: dict, now: datetime,
         tenant_id: str | None = None, aad_object_id: str | None = None, user_id: str | None = None,
         team_id: str | None = None) -> int:
    """Insert or refresh one conversation; returns its row id. A conversation the bot was
    removed from becomes active again when it is spoken to."""
    row = session.exec(select(TeamsConversation).where(TeamsConversation.conversation_id == conversation_id)).first()
    if row is None:
        row = TeamsConversation(conversation_id=conversation_id, kind=kind, service_url=service_url, created_at=now)
    row.kind, row.service_url, row.reference, row.active, row.updated_at = kind, service_url, reference, True, now
    row.tenant_id = tenant_id or row.tenant_id
    row.aad_object_id = aad_object_id or row.aad_object_id
    row.user_id = user_id or row.user_id
    row.team_id = team_id or row.team_id
    session.add(row)
    session.flush()
    return row.id


def deactivate(session: Session, conversation_id: str, now: datetime) -> None:
    row = session.exec(select(TeamsConversation).where(TeamsConversation.conversation_id == conversation_id)).first()
    if row is not None:
        row.active, row.updated_at = False, now
        session.add(row)


def by_id(session: Session, row_id: int) -> TeamsConversation | None:
    return session.get(TeamsConversation, row_id)


def personal(session: Session, aad_object_id: str | None) -> TeamsConversation | None:
    """A person's personal chat with the bot, where their weekly messages go."""
    if not aad_object_id:
        return None
    return session.exec(select(TeamsConversation).where(
        TeamsConversation.aad_object_id == aad_object_id, TeamsConversation.kind == "personal",
        TeamsConversation.active.is_(True)).order_by(TeamsConversation.updated_at.desc())).first()


def teams(session: Session) -> list[TeamsConversation]:
    """One conversation per team the bot is installed in (for its roster)."""
    rows = session.exec(select(TeamsConversation).where(TeamsConversation.team_id.is_not(None),
                                                        TeamsConversation.active.is_(True))
                        .order_by(TeamsConversation.id))
    seen: dict[str, TeamsConversation] = {}
    for row in rows:
        seen.setdefault(row.team_id, row)
    return list(seen.values())
