"""Who may do what: a rep changes what they own, a manager what their team owns, an admin (sales
ops) anything. Pure: the caller says who is asking and whose record it is; the answer is None
(allowed) or the reason it is not, which the refusal puts in words."""
from __future__ import annotations

from dataclasses import dataclass, field

from playbook.words import fold

ROLES = ("rep", "manager", "admin")
# What a command needs, declared in the registry:
#   read    look at accounts, deals, lists (a linked person; an unlinked one when the playbook allows)
#   change  change a record: the record's owner, their manager, or an admin (checked per record)
#   self    one's own settings and nudge: any linked person
#   admin   imports, digests and the directory from chat
#   anyone  help and whoami: even a chat user nobody linked gets them
PERMISSIONS = ("read", "change", "self", "admin", "anyone")


@dataclass(frozen=True)
class Person:
    """Who is speaking, as the method sees them."""
    owner: str | None                    # the owner name the CRM uses; None: nobody Gare knows
    role: str | None = None              # rep, manager, admin; None when unlinked
    team: frozenset[str] = field(default_factory=frozenset)  # folded owner names a manager oversees
    name: str | None = None              # display name, for greetings only: it identifies nobody
    recognised_by: str | None = None     # slack_id, teams_id, email, operator, as_option

    @property
    def linked(self) -> bool:
        return self.role is not None

    def oversees(self, owner: str | None) -> bool:
        """True for one's own records, and a manager's team's."""
        if owner is None or self.owner is None:
            return False
        key = fold(owner)
        return key == fold(self.owner) or (self.role == "manager" and key in self.team)


@dataclass(frozen=True)
class Denied:
    """Why not: `code` names the rule, `needs` the role or ownership that would allow it."""
    code: str
    needs: str
    owner: str | None = None


def may(person: Person, verb: str, *, owner: str | None = None, new_owner: str | None = None,
        unlinked_can_read: bool = False) -> Denied | None:
    """None when `person` may `verb` a record owned by `owner` (reassigning it to `new_owner`)."""
    if verb not in PERMISSIONS + ("reassign", "oversee"):
        raise ValueError(f"unknown permission {verb!r}")
    if verb == "anyone":
        return None
    if not person.linked:
        if verb == "read" and unlinked_can_read:
            return None
        return Denied("not_linked", "linked")
    if person.role == "admin" or verb == "read" or verb == "self":
        return None
    if verb == "admin":
        return Denied("needs_role", "admin")
    if verb in ("change", "oversee"):
        if person.oversees(owner):
            return None
        if owner is None:
            return Denied("needs_role", "manager") if person.role != "manager" else None
        # oversee: see what is personal to someone (their nudge): them, their manager, an admin
        return Denied("not_yours" if verb == "change" else "not_your_team",
                      "manager" if person.role == "rep" else "admin", owner)
    # reassign: a manager moves records within their team; a rep never does.
    if person.role != "manager":
        return Denied("needs_role", "manager", owner)
    if owner is not None and not person.oversees(owner):
        return Denied("not_yours", "admin", owner)
    if new_owner is not None and not person.oversees(new_owner):
        return Denied("outside_team", "admin", new_owner)
    return None
