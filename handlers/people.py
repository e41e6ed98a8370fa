"""Who is speaking, for every shell. A chat user is a person of the directory only through a
platform id already linked to that person, or an e-mail address the platform verified on one of
the playbook's `[people] email_domains`; display names and real names identify nobody. Guests,
bots and deactivated accounts are never linked. What a person may do follows from their role
and team (playbook/permissions.py); `whoami` tells them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from handlers.reply import Context, Reply
from playbook.config import Playbook
from playbook.permissions import Person
from playbook.words import fold
from store import people as directory
from store import queries
from store.database import session_scope
from store.models import Person as PersonRow

LANGUAGES = ("en", "fr")
# A chat user nobody could link is asked about again (users.info) after this long: the directory
# may have been imported or their e-mail fixed meanwhile. Linked users are never asked again.
RECHECK_UNLINKED = timedelta(hours=1)


@dataclass(frozen=True)
class PlatformProfile:
    """What a chat platform says about one of its users (Slack users.info, a Teams roster)."""
    email: str | None = None
    upn: str | None = None          # Teams: the user principal name
    name: str | None = None         # for greetings only
    locale: str | None = None
    is_bot: bool = False
    is_guest: bool = False          # Slack restricted / ultra-restricted, Teams guest
    deleted: bool = False           # deleted or deactivated


@dataclass(frozen=True)
class Identity:
    person: Person
    platform: str
    user_id: str
    language: str | None
    unlinked_reason: str | None = None  # why nobody was recognised: no_email, other_domain, guest...


def language_of(locale: str | None) -> str | None:
    """'fr-FR' -> 'fr'; a language Gare does not speak -> None (the playbook's is used)."""
    lang = (locale or "").replace("_", "-").split("-")[0].lower()
    return lang if lang in LANGUAGES else None


def domain_ok(playbook: Playbook, email: str | None) -> bool:
    if not email or "@" not in email:
        return False
    domain = email.rsplit("@", 1)[1].strip().lower()
    return domain in playbook.people.email_domains


# --- what the directory and the playbook say about someone -----------------------------------

def team_of(session: Session, playbook: Playbook, manager: str | None) -> list[str]:
    """The owner names a manager oversees: their reports in the directory, and the members of
    their playbook teams unless the directory gives that member another manager."""
    if not manager:
        return []
    return teams_of(session, playbook, [manager])[manager]


def teams_of(session: Session, playbook: Playbook, managers: list[str]) -> dict[str, list[str]]:
    """team_of each manager, from one read of the directory (a weekly run's digests)."""
    everyone = directory.everyone(session)
    return {m: _team(playbook, m, everyone) if m else [] for m in managers}


def _team(playbook: Playbook, manager: str, everyone: list[PersonRow]) -> list[str]:
    key = fold(manager)
    members = [p.owner for p in everyone if p.manager is not None and fold(p.manager) == key and p.owner_key != key]
    declared = [m for m in playbook.team_of(manager) if fold(m) != key]
    wanted = {fold(m) for m in declared}
    rows = {p.owner_key: p for p in everyone if p.owner_key in wanted}
    for member in declared:
        row = rows.get(fold(member))
        if row is not None and row.manager and fold(row.manager) != key:
            continue  # the directory wins
        if fold(member) not in {fold(m) for m in members}:
            members.append(member)
    return members


def role_of(playbook: Playbook, row: PersonRow | None, owner: str) -> str:
    """The directory's role; for someone only the playbook knows: admin when listed in
    [people] admins, manager when they manage a [teams.*] table, else rep."""
    if row is not None:
        return row.role
    key = fold(owner)
    if any(fold(a) == key for a in playbook.people.admins):
        return "admin"
    if any(fold(t.manager) == key for t in playbook.teams):
        return "manager"
    return "rep"


def person_of(session: Session, playbook: Playbook, owner: str, *, recognised_by: str,
              row: PersonRow | None = None) -> Person:
    row = row if row is not None else directory.by_owner(session, owner)
    role = role_of(playbook, row, owner)
    team = frozenset(fold(m) for m in team_of(session, playbook, owner)) if role in ("manager", "admin") else frozenset()
    return Person(owner=row.owner if row is not None else owner, role=role, team=team,
                  name=row.name if row is not None else None, recognised_by=recognised_by)


def nobody(name: str | None = None) -> Person:
    return Person(owner=None, role=None, name=name)


# --- identifying a chat user --------------------------------------------------------------------

def identify(engine: Engine, playbook: Playbook, platform: str, user_id: str, now: datetime,
             profile: PlatformProfile | None = None) -> Identity | None:
    """The person behind a platform user id. None means "ask the platform for the profile and
    call again" (never seen, or unlinked and not checked for a while)."""
    with session_scope(engine) as session:
        row = directory.by_platform_id(session, platform, user_id)
        if row is not None:
            if not row.active:
                return Identity(nobody(row.name), platform, user_id, row.language, "deactivated")
            return Identity(person_of(session, playbook, row.owner, recognised_by=f"{platform}_id", row=row),
                            platform, user_id, row.language or _cached_language(session, platform, user_id))
        cached = queries.chat_user(session, platform, user_id)
        if profile is None:
            if cached is None or _stale(cached, now):
                return None
            profile = PlatformProfile(email=cached.email, name=cached.display_name,
                                      locale=cached.language, **_flags(cached))
        else:
            queries.save_chat_user(session, platform, user_id, email=(profile.email or "").lower() or None,
                                   display_name=(profile.name or "")[:200] or None,
                                   language=language_of(profile.locale), checked_at=now,
                                   flags=_flag_text(profile))
        return _link_by_email(session, playbook, platform, user_id, profile)


def _link_by_email(session: Session, playbook: Playbook, platform: str, user_id: str,
                   profile: PlatformProfile) -> Identity:
    language = language_of(profile.locale)

    def unlinked(reason: str) -> Identity:
        return Identity(nobody(profile.name), platform, user_id, language, reason)

    if profile.deleted:
        return unlinked("deactivated")
    if profile.is_bot:
        return unlinked("bot")
    if profile.is_guest:
        return unlinked("guest")
    addresses = [a for a in (profile.email, profile.upn) if a]
    if not addresses:
        return unlinked("no_email")
    verified = [a for a in addresses if domain_ok(playbook, a)]
    if not verified:
        return unlinked("other_domain")
    row = None
    for address in verified:
        row = directory.by_email(session, address) or (directory.by_upn(session, address) if platform == "teams" else None)
        if row is not None:
            break
    if row is None:
        return unlinked("not_in_directory")
    if not row.active:
        return unlinked("deactivated")
    column = directory.PLATFORM_COLUMNS.get(platform)
    if column and getattr(row, column) not in (None, user_id):
        return unlinked("linked_to_another")  # that person is already someone else on this platform
    if column:
        directory.link(session, row, platform, user_id)
    if row.language is None and language:
        row.language = language
        session.add(row)
    return Identity(person_of(session, playbook, row.owner, recognised_by="email", row=row),
                    platform, user_id, row.language or language)


def _stale(cached, now: datetime) -> bool:
    checked = cached.checked_at or cached.created_at
    if checked is None:
        return True
    if checked.tzinfo is None:
        checked = checked.replace(tzinfo=now.tzinfo)
    return now - checked > RECHECK_UNLINKED


def _flag_text(profile: PlatformProfile) -> str:
    return ",".join(f for f, on in (("bot", profile.is_bot), ("guest", profile.is_guest),
                                    ("deleted", profile.deleted)) if on)


def _flags(cached) -> dict:
    flags = set((cached.flags or "").split(","))
    return {"is_bot": "bot" in flags, "is_guest": "guest" in flags, "deleted": "deleted" in flags}


def _cached_language(session: Session, platform: str, user_id: str) -> str | None:
    cached = queries.chat_user(session, platform, user_id)
    return cached.language if cached is not None else None


def chat_context(engine: Engine, playbook: Playbook, identity: Identity, clock: Callable[[], datetime]) -> Context:
    """The handler context of a chat user: their person, language and platform id."""
    person = identity.person
    actor = person.owner or f"{identity.platform}:{identity.user_id}"
    return Context(engine=engine, playbook=playbook, actor=actor, owner=person.owner, language=identity.language,
                   clock=clock, platform=identity.platform, person=person, platform_user_id=identity.user_id)


def console_context(engine: Engine, playbook: Playbook, *, as_owner: str | None, operator_name: str,
                    language: str | None, clock: Callable[[], datetime] | None = None) -> Context:
    """The console and CLI act as the local operator (an admin), or `--as OWNER` as that person
    with their permissions, so anyone can try the rules from a terminal."""
    extra = {"clock": clock} if clock else {}
    if not as_owner:
        return Context(engine=engine, playbook=playbook, actor=operator_name, owner=None, language=language,
                       platform="console", person=Person(owner=None, role="admin", name=operator_name,
                                                         recognised_by="operator"), **extra)
    with session_scope(engine) as session:
        row = directory.by_owner(session, as_owner) or directory.by_email(session, as_owner)
        person = person_of(session, playbook, row.owner if row else as_owner, recognised_by="as_option", row=row)
    return Context(engine=engine, playbook=playbook, actor=person.owner, owner=person.owner, person=person,
                   language=language or (row.language if row else None), platform="console", **extra)


# --- whoami --------------------------------------------------------------------------------------

def whoami(ctx: Context) -> Reply:
    """Who Gare takes you for, your role and team, and how you were recognised."""
    person = ctx.person
    with session_scope(ctx.engine) as session:
        row = directory.by_owner(session, person.owner) if person.owner else None
        team = team_of(session, ctx.playbook, person.owner) if person.role in ("manager", "admin") else []
    return Reply("whoami", {
        "owner": person.owner, "name": person.name or (row.name if row else None), "role": person.role,
        "linked": person.linked, "recognised_by": person.recognised_by, "platform": ctx.platform,
        "platform_user_id": ctx.platform_user_id, "team": sorted(team, key=fold),
        "team_name": row.team if row else None, "manager": row.manager if row else None,
        "email": row.email if row else None,
        "unlinked_can_read": ctx.playbook.people.unlinked_can_read,
    })

