"""The directory at work: who receives the weekly nudges and digests and how each is reached,
linking a platform's members to people by verified e-mail (`gare people sync`), and where the
directory and the playbook disagree (`gare people check`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from sqlmodel import Session

from handlers.people import PlatformProfile, domain_ok, role_of, team_of
from handlers.reply import Context, Reply
from playbook.config import Playbook
from playbook.words import fold
from store import people as directory
from store import queries
from store.database import session_scope
from store.models import Person as PersonRow


# --- who gets the weekly messages, and how ------------------------------------------------------

@dataclass(frozen=True)
class Recipient:
    owner: str
    role: str
    language: str | None
    slack_id: str | None = None
    teams_id: str | None = None
    email: str | None = None
    problem: str | None = None      # why they cannot be reached: not_in_directory, no_email, deactivated

    def reach(self, platform: str) -> str:
        """How the message will find them: linked id, e-mail lookup, or the problem."""
        if self.problem:
            return self.problem
        linked = self.slack_id if platform == "slack" else self.teams_id
        if linked:
            return "linked"
        if platform == "teams":  # Teams finds nobody by e-mail: they must have used Gare there
            return "not_in_teams"
        return "by_email" if self.email else "no_email"


def _recipient(playbook: Playbook, owner: str, row: PersonRow | None) -> Recipient:
    if row is None:
        return Recipient(owner, role_of(playbook, None, owner), None, problem="not_in_directory")
    if not row.active:
        return Recipient(row.owner, row.role, row.language, problem="deactivated")
    email = row.email if domain_ok(playbook, row.email) else None
    problem = None if (row.slack_id or row.teams_id or email) else ("other_domain" if row.email else "no_email")
    return Recipient(row.owner, row.role, row.language, row.slack_id, row.teams_id, email, problem)


def reps(session: Session, playbook: Playbook) -> list[Recipient]:
    """Everyone with a pipeline to nudge: active reps of the directory, owners of accounts and
    deals, members of playbook teams. Those who cannot be reached are kept, with the reason."""
    rows = {p.owner_key: p for p in directory.people(session)}
    owners = {fold(o): o for o in queries.all_owners(session)}
    for t in playbook.teams:
        owners.update({fold(m): m for m in t.members})
    owners.update({k: r.owner for k, r in rows.items() if r.role == "rep" and r.active})
    return sorted((_recipient(playbook, owner, rows.get(key)) for key, owner in owners.items()),
                  key=lambda r: fold(r.owner))


def managers(session: Session, playbook: Playbook) -> list[Recipient]:
    """Active managers of the directory and the managers of the playbook's teams."""
    rows = {p.owner_key: p for p in directory.people(session)}
    owners = {fold(t.manager): t.manager for t in playbook.teams}
    owners.update({k: r.owner for k, r in rows.items() if r.role == "manager"})
    out = []
    for key, owner in owners.items():
        row = rows.get(key)
        if row is not None and row.role != "manager" and not any(fold(t.manager) == key for t in playbook.teams):
            continue
        out.append(_recipient(playbook, owner, row))
    return sorted(out, key=lambda r: fold(r.owner))


def team(session: Session, playbook: Playbook, manager: str) -> list[str]:
    return team_of(session, playbook, manager)


# --- linking a platform's members ------------------------------------------------------------------

@dataclass
class SyncReport:
    platform: str
    dry_run: bool
    linked: list[dict] = field(default_factory=list)            # owner, user id, e-mail
    already_linked: list[str] = field(default_factory=list)
    not_on_platform: list[dict] = field(default_factory=list)   # owner, reason (no e-mail, not found...)
    owning_nothing: list[dict] = field(default_factory=list)    # platform members no person matches
    refused: list[dict] = field(default_factory=list)           # guests, bots, deactivated, other domains
    conflicts: list[dict] = field(default_factory=list)         # person already linked to another id

    def as_data(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


def link_members(engine, playbook: Playbook, platform: str, members: Iterable[tuple[str, PlatformProfile]],
                 *, dry_run: bool, actor: queries.Actor) -> SyncReport:
    """Links each platform member to the directory person with their e-mail, when the address is
    on the playbook's domains and the member is a full member (no guest, bot or deactivated
    account). Never by name. All or nothing: a dry run writes nothing."""
    report = SyncReport(platform, dry_run)
    column = directory.PLATFORM_COLUMNS[platform]
    with session_scope(engine) as session:
        rows = directory.people(session)
        by_email = {r.email: r for r in rows if r.email}
        by_id = {getattr(r, column): r for r in rows if getattr(r, column)}
        matched: set[int] = set()
        for user_id, profile in members:
            if profile.is_bot:
                continue
            if user_id in by_id:
                report.already_linked.append(by_id[user_id].owner)
                matched.add(by_id[user_id].id)
                continue
            # Teams gives a UPN beside the e-mail: either one, on the playbook's domains, will do.
            addresses = [a.lower() for a in (profile.email, profile.upn) if a]
            verified = [a for a in addresses if domain_ok(playbook, a)]
            email = next((a for a in verified if a in by_email), verified[0] if verified else
                         (addresses[0] if addresses else None))
            reason = ("deactivated" if profile.deleted else "guest" if profile.is_guest
                      else "no_email" if not email else None if domain_ok(playbook, email) else "other_domain")
            row = by_email.get(email) if email else None
            if reason is not None:
                if row is not None or reason != "deactivated":
                    report.refused.append({"user_id": user_id, "name": profile.name, "reason": reason,
                                           "owner": row.owner if row else None})
                continue
            if row is None:
                report.owning_nothing.append({"user_id": user_id, "name": profile.name, "email": email})
                continue
            matched.add(row.id)
            if getattr(row, column) not in (None, user_id):
                report.conflicts.append({"owner": row.owner, "user_id": user_id, "linked_to": getattr(row, column)})
                continue
            report.linked.append({"owner": row.owner, "user_id": user_id, "email": email})
            if not dry_run:
                directory.link(session, row, platform, user_id)
                queries.audit(session, actor, "person", "link", entity_id=row.id, entity_name=row.owner,
                              changes={column: [None, user_id]})
        for row in rows:
            if row.id not in matched and row.active and not getattr(row, column):
                report.not_on_platform.append({"owner": row.owner, "email": row.email,
                                               "reason": "no_email" if not row.email else
                                               "other_domain" if not domain_ok(playbook, row.email) else "not_found"})
        if dry_run:
            session.rollback()
    report.already_linked.sort(key=fold)
    return report


# --- directory against playbook ---------------------------------------------------------------

def check(ctx: Context) -> Reply:
    """Where the directory and the playbook disagree (the directory wins), and the owners of
    accounts and deals nobody in the directory is."""
    problems: list[dict] = []
    with session_scope(ctx.engine) as session:
        rows = {p.owner_key: p for p in directory.people(session)}
        for t in ctx.playbook.teams:
            manager = rows.get(fold(t.manager))
            if manager is not None and manager.role not in ("manager", "admin"):
                problems.append({"kind": "manager_role", "owner": manager.owner, "team": t.id, "role": manager.role})
            for member in t.members:
                row = rows.get(fold(member))
                if row is not None and row.manager and fold(row.manager) != fold(t.manager):
                    problems.append({"kind": "other_manager", "owner": row.owner, "team": t.id,
                                     "playbook": t.manager, "directory": row.manager})
        for admin in ctx.playbook.people.admins:
            row = rows.get(fold(admin))
            if row is not None and row.role != "admin":
                problems.append({"kind": "admin_role", "owner": row.owner, "role": row.role})
        for owner in queries.all_owners(session):
            if fold(owner) not in rows:
                problems.append({"kind": "owner_not_in_directory", "owner": owner})
        for row in rows.values():
            if row.active and not row.email:
                problems.append({"kind": "no_email", "owner": row.owner})
            elif row.active and not domain_ok(ctx.playbook, row.email):
                problems.append({"kind": "other_domain", "owner": row.owner, "email": row.email})
            if row.manager and fold(row.manager) not in rows:
                problems.append({"kind": "unknown_manager", "owner": row.owner, "manager": row.manager})
    return Reply("people_check", {"people": len(rows), "problems": problems,
                                  "email_domains": list(ctx.playbook.people.email_domains)})
