"""What every handler returns and receives. A reply is data plus the name of the template each
shell renders it with; the same reply serves Slack, Teams, the console and `gare ask --json`."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable

from sqlalchemy.engine import Engine

from playbook.config import Playbook
from playbook.permissions import Person, may
from store.queries import Actor


@dataclass
class Reply:
    template: str
    data: Any
    ok: bool = True


def unavailable() -> Reply:
    """"Temporarily unavailable, try again in a minute": the database does not answer."""
    return Reply("error", {"error": "unavailable"}, ok=False)


class Refusal(Exception):
    """Bad input or an unknown name: answered politely with the `error` template, nothing changed."""

    def __init__(self, code: str, **params: Any):
        super().__init__(code)
        self.code, self.params = code, params

    def reply(self) -> Reply:
        return Reply(template="error", data={"error": self.code, **self.params}, ok=False)


def operator(name: str | None) -> Person:
    """The person at a terminal running `gare`: the local operator, an admin."""
    return Person(owner=name, role="admin", name=name, recognised_by="operator")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Context:
    """Who is asking, in which language, against which store and playbook, and what time it is
    (a clock the tests control)."""

    engine: Engine
    playbook: Playbook
    actor: str
    owner: str | None = None
    language: str | None = None
    clock: Callable[[], datetime] = field(default=_utcnow)
    platform: str = "console"
    person: Person | None = None        # who is speaking; default: the local operator (an admin)
    platform_user_id: str | None = None  # their id on the platform, for the audit

    def __post_init__(self) -> None:
        if self.language is None:
            self.language = self.playbook.language
        if self.person is None:
            self.person = operator(self.owner or self.actor)

    def require(self, verb: str, *, owner: str | None = None, new_owner: str | None = None) -> None:
        """Refuses (nothing changed) unless the speaker may `verb` a record owned by `owner`."""
        denied = may(self.person, verb, owner=owner, new_owner=new_owner,
                     unlinked_can_read=self.playbook.people.unlinked_can_read)
        if denied is not None:
            raise Refusal("not_allowed", rule=denied.code, needs=denied.needs, owner=denied.owner, verb=verb)


    @property
    def who(self) -> Actor:
        """What the audit records about the speaker."""
        return Actor(self.actor, self.platform, self.platform_user_id)

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.now().astimezone(self.playbook.tz).date()

    def local(self, moment: datetime | None) -> datetime | None:
        """A stored (UTC) moment in the playbook's time zone, so every surface shows the team's
        dates: a deal entered at 00:30 in Paris entered on that day, not the day before."""
        if moment is None:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(self.playbook.tz)
