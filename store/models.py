"""The tables Gare keeps: accounts, deals and their stage history, checklist answers,
chat users and the audit trail. Plain sqlmodel; rules about them live in playbook/."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, UniqueConstraint, event, false, text
from sqlmodel import Field, SQLModel

from playbook.words import fold


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


ACCOUNT_STATUSES = ("customer", "prospect", "former")
DEAL_STATUSES = ("open", "won", "lost", "nurture")
DEAL_KINDS = ("new_business", "renewal", "expansion")
SECTORS = ("commercial", "public")
# Who set an account's status: its CRM file, a chat edit, or Gare from its deals (won -> customer).
STATUS_SOURCES = ("file", "chat", "derived")


def _name_key(context) -> str:
    """A row's name folded (case, accents), for Core inserts that do not give it."""
    return fold(context.get_current_parameters().get("name"))


# Indexes for the lookups of a typed name (migration 0013). On PostgreSQL: names starting with
# what was typed (LIKE 'x%' needs a pattern index unless the database's collation is C), and
# account names like a mistyped one (pg_trgm's trigrams; deal names repeat their words across
# the book, which makes a trigram search read much of it). SQLite has neither kind: there they
# are empty stand-ins (WHERE 0); its name_key indexes serve prefixes as ranges, and name_word
# the mistyped names (as it does for deals everywhere, and on a PostgreSQL without pg_trgm).
def _prefix_index(table: str) -> Index:
    return Index(f"ix_{table}_name_key_prefix", "name_key", postgresql_ops={"name_key": "varchar_pattern_ops"},
                 sqlite_where=text("0"))


def _trigram_index(table: str) -> Index:
    # fastupdate off: names written go into the index at once, not into a pending list that
    # every search reads through until a vacuum (10,000 new accounts: 65 ms a search, not 6).
    return Index(f"ix_{table}_name_key_trgm", "name_key", postgresql_using="gin",
                 postgresql_ops={"name_key": "gin_trgm_ops"}, postgresql_with={"fastupdate": "off"},
                 sqlite_where=text("0"))


class Account(SQLModel, table=True):
    __tablename__ = "account"
    # Lists read accounts by folded owner; refreshing finds the stale (0011); ix_account_listing
    # (their order) is declared below the class, being on a descending column.
    __table_args__ = (_prefix_index("account"), _trigram_index("account"),
                      Index("ix_account_owner_folded", text("lower(owner)")),
                      Index("ix_account_assessed_with", "assessed_with"))

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=200)
    # The name folded (case, accents): imports and chat look names up by it, with an index.
    name_key: Optional[str] = Field(default=None, index=True, max_length=200,
                                    sa_column_kwargs={"default": _name_key})
    crm_id: Optional[str] = Field(default=None, index=True, unique=True, max_length=64)  # the CRM's record id
    owner: Optional[str] = Field(default=None, index=True, max_length=120)
    status: str = Field(default="prospect", max_length=20)
    status_source: Optional[str] = Field(default=None, max_length=10)  # STATUS_SOURCES; None: never set
    industry: Optional[str] = Field(default=None, max_length=120)
    region: Optional[str] = Field(default=None, max_length=120)
    sector: Optional[str] = Field(default=None, max_length=20)
    annual_revenue: Optional[float] = None
    employees: Optional[int] = None
    margin_pct: Optional[float] = None
    exec_sponsor: Optional[bool] = None
    last_contact: Optional[date] = None
    lifetime_value: Optional[float] = None
    # Columns an organisation adds in its CSV; usable in playbook rules by name.
    custom: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # A manual profile choice beats the rules; who and when are kept with it.
    profile_override: Optional[str] = Field(default=None, max_length=20)
    profile_override_by: Optional[str] = Field(default=None, max_length=120)
    profile_override_at: Optional[datetime] = None
    tier_override: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # What the playbook last said of the account, so lists sort and count with SQL. Valid while
    # assessed_with is "<playbook version>:<day>" of the reader; any change to the account, its
    # deals or its checklist answers sets a fresh "stale:…" mark instead (store/assessed.py).
    assessed_profile: Optional[str] = Field(default=None, max_length=20)
    assessed_let_go: Optional[bool] = None
    assessed_tier: Optional[int] = None
    assessed_score: Optional[float] = None
    assessed_at_risk: Optional[bool] = None
    assessed_verdict: Optional[str] = Field(default=None, max_length=10)
    assessed_open_deals: Optional[int] = None  # kept with the rest: a deal's change marks its account
    assessed_with: Optional[str] = Field(default=None, max_length=40)


# Lists read accounts tier 1 first, highest score first: the index walks that order (0011).
Index("ix_account_listing", Account.assessed_tier, Account.assessed_score.desc())
# Customers at risk, the most valuable first: `tiers` names 20 and counts them (0011).
Index("ix_account_at_risk", Account.assessed_score.desc(), postgresql_where=text("assessed_at_risk"),
      sqlite_where=text("assessed_at_risk = 1"))


class Deal(SQLModel, table=True):
    __tablename__ = "deal"
    # Open deals by close date and by folded owner (migration 0011).
    __table_args__ = (_prefix_index("deal"),
                      Index("ix_deal_status_close_date", "status", "close_date"),
                      Index("ix_deal_owner_folded", text("lower(owner)")),
                      # `deals skipped`: the open deals that skipped a step, by owner then name,
                      # and the deals whose judgement is out of date (0012).
                      Index("ix_deal_skipped_list", text("lower(owner)"), "name_key",
                            postgresql_where=text("status = 'open' AND assessed_skipped"),
                            sqlite_where=text("status = 'open' AND assessed_skipped = 1")),
                      Index("ix_deal_assessed_with", "assessed_with"))

    id: Optional[int] = Field(default=None, primary_key=True)
    # Not unique: CRMs repeat deal names ("Renewal 2026"); ids, accounts and creation dates
    # tell such deals apart, and chat asks "which one?".
    name: str = Field(index=True, max_length=200)
    name_key: Optional[str] = Field(default=None, index=True, max_length=200,
                                    sa_column_kwargs={"default": _name_key})
    crm_id: Optional[str] = Field(default=None, index=True, unique=True, max_length=64)
    # None: the CRM associates the deal with no company (a HubSpot deal with a contact only).
    account_id: Optional[int] = Field(default=None, foreign_key="account.id", index=True)
    owner: Optional[str] = Field(default=None, index=True, max_length=120)
    stage: str = Field(max_length=60)
    # The CRM's own stage when the playbook has none like it (a closed deal at a custom stage).
    crm_stage: Optional[str] = Field(default=None, max_length=120)
    kind: Optional[str] = Field(default=None, max_length=20)  # DEAL_KINDS
    amount: Optional[float] = None
    currency: Optional[str] = Field(default=None, max_length=3)  # ISO 4217; None: the playbook's
    close_date: Optional[date] = None
    status: str = Field(default="open", max_length=20, index=True)
    nurture_reason: Optional[str] = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)  # in the CRM when the file says so
    updated_at: datetime = Field(default_factory=utcnow)
    # A rep may silence nudges about a deal for a known reason, until a date (nudges skip it).
    snoozed_until: Optional[date] = None
    snooze_reason: Optional[str] = Field(default=None, max_length=500)
    # Whether its stage history shows a stage cut short or jumped over (`deals skipped` reads it),
    # and the playbook version that judged so; any change to the deal or its stays marks it stale
    # (store.assessed), and lists judge the stale ones again before reading (migration 0012).
    assessed_skipped: Optional[bool] = None
    assessed_with: Optional[str] = Field(default=None, max_length=40)


# What splits a folded name into words for name_word (the migration's triggers split alike).
NAME_WORD_BREAKS = ",.;:!?/&+#'\"()-"


def name_words(key: str | None) -> list[str]:
    """The words of a folded name, as name_word holds them: 'acme, inc.' -> acme, inc."""
    text = key or ""
    for mark in NAME_WORD_BREAKS:
        text = text.replace(mark, " ")
    return list(dict.fromkeys(w for w in text.split(" ") if w))


class NameWord(SQLModel, table=True):
    """Each word of each account's and deal's folded name, and its last three letters: where the
    names like a mistyped one are looked for, a few index range reads (store/queries.py). Kept
    by triggers on account and deal (migration 0013), whatever writes the names."""

    __tablename__ = "name_word"
    __table_args__ = (Index("ix_name_word_word", "kind", "word"), Index("ix_name_word_tail", "kind", "tail"),
                      # Derived from the names: a backup leaves it out, the triggers refill it on restore.
                      {"sqlite_with_rowid": False, "info": {"derived": True}})

    kind: str = Field(primary_key=True, max_length=8)  # "account" or "deal": the table the name is in
    record_id: int = Field(primary_key=True)
    word: str = Field(primary_key=True, max_length=200)
    tail: str = Field(max_length=3)  # the word's last three letters: a typo at its start still finds it


class StageVisit(SQLModel, table=True):
    """One stay of a deal at one stage: the stage-time indicator is computed from these."""

    __tablename__ = "stage_visit"
    # At most one open stay per deal, whoever moves it at the same time (migration 0009).
    __table_args__ = (Index("uq_stage_visit_one_open", "deal_id", unique=True,
                            postgresql_where=text("left_at IS NULL"), sqlite_where=text("left_at IS NULL")),
                      # The open stays by stage and entry, and those whose start is estimated:
                      # what `deals frozen` ranges over, oldest first (0011).
                      Index("ix_stage_visit_open_stage", "stage", "entered_at",
                            postgresql_where=text("left_at IS NULL"), sqlite_where=text("left_at IS NULL")),
                      Index("ix_stage_visit_open_estimated", "stage", "entered_at",
                            postgresql_where=text("left_at IS NULL AND estimated"),
                            sqlite_where=text("left_at IS NULL AND estimated = 1")))

    id: Optional[int] = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id", index=True)
    stage: str = Field(max_length=60)
    entered_at: datetime
    left_at: Optional[datetime] = None
    # The CRM gave no entry date: entered_at is when Gare learnt of the stay, which began before.
    estimated: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class ChecklistAnswer(SQLModel, table=True):
    """A rep's answer to a success-potential box or a misfit trait, for an account or a deal."""

    __tablename__ = "checklist_answer"
    __table_args__ = (UniqueConstraint("subject", "subject_id", "item_kind", "item_id", name="uq_checklist_item"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    subject: str = Field(max_length=10)  # "account" or "deal"
    subject_id: int = Field(index=True)
    item_kind: str = Field(max_length=10)  # "box" or "trait"
    item_id: str = Field(max_length=60)
    answer: bool
    answered_by: Optional[str] = Field(default=None, max_length=120)
    answered_at: datetime = Field(default_factory=utcnow)


class ChatUser(SQLModel, table=True):
    """What a chat platform last said about one of its users who is not linked to a person yet
    (e-mail, locale, guest or bot): so a message does not ask the platform again every time.
    Who a linked user is lives in the directory (Person.slack_id, Person.teams_id)."""

    __tablename__ = "chat_user"
    __table_args__ = (UniqueConstraint("platform", "chat_id", name="uq_chat_user"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)  # console, slack, teams
    chat_id: str = Field(max_length=200)
    flags: Optional[str] = Field(default=None, max_length=40)  # bot, guest, deleted
    email: Optional[str] = Field(default=None, max_length=200)
    display_name: Optional[str] = Field(default=None, max_length=200)
    language: Optional[str] = Field(default=None, max_length=5)
    created_at: datetime = Field(default_factory=utcnow)
    # When the platform was last asked who this is (an unmatched user is asked again later).
    checked_at: Optional[datetime] = None


class Person(SQLModel, table=True):
    """Someone of the sales team: the owner name the CRM puts on accounts and deals, their role,
    team and manager, and the ids that reach them. A chat user is a person only through an id
    linked here or a verified e-mail on the playbook's domains, never through a name."""

    __tablename__ = "person"

    id: Optional[int] = Field(default=None, primary_key=True)
    owner: str = Field(max_length=120)                      # as on accounts and deals
    owner_key: str = Field(max_length=120, unique=True)     # owner folded (case, accents)
    name: Optional[str] = Field(default=None, max_length=200)
    email: Optional[str] = Field(default=None, max_length=254, unique=True)  # lower case
    role: str = Field(default="rep", max_length=20)         # rep, manager, admin
    team: Optional[str] = Field(default=None, max_length=120)
    manager: Optional[str] = Field(default=None, max_length=120)  # the manager's owner name
    language: Optional[str] = Field(default=None, max_length=5)
    active: bool = True
    slack_id: Optional[str] = Field(default=None, max_length=40, unique=True)
    teams_id: Optional[str] = Field(default=None, max_length=64, unique=True)  # AAD object id
    upn: Optional[str] = Field(default=None, max_length=254)
    crm_id: Optional[str] = Field(default=None, max_length=64, unique=True)   # CRM user id (owner ids)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AuditRecord(SQLModel, table=True):
    """Who changed what, and when: every write goes through here."""

    __tablename__ = "audit_record"

    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=120)
    # Where the change came from: console, slack, teams, import...; and the platform's user id.
    platform: Optional[str] = Field(default=None, max_length=20)
    platform_user_id: Optional[str] = Field(default=None, max_length=64)
    entity: str = Field(max_length=20)
    entity_id: Optional[int] = Field(default=None, index=True)
    entity_name: Optional[str] = Field(default=None, max_length=200)
    action: str = Field(max_length=40)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class HandledEvent(SQLModel, table=True):
    """An event, click or form submission from a chat platform, claimed by the one process that
    handles it: Slack redelivers events and users double-click, and several workers share a
    database, so "seen before" must live here rather than in one process's memory."""

    __tablename__ = "handled_event"
    __table_args__ = (UniqueConstraint("platform", "key", name="uq_handled_event"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    key: str = Field(max_length=64)  # sha256 of what identifies the event
    kind: str = Field(max_length=20)  # event, action, view
    claimed_at: datetime = Field(default_factory=utcnow, index=True)


class ChatMessage(SQLModel, table=True):
    """A message the bot posted about a deal or an account (a qualification checklist): its
    thread is that deal's thread, and ticking a box updates every copy, without ever reading
    the platform's history."""

    __tablename__ = "chat_message"
    __table_args__ = (UniqueConstraint("platform", "channel", "ts", name="uq_chat_message"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    channel: str = Field(max_length=40)
    ts: str = Field(max_length=40)
    kind: str = Field(max_length=20)  # checklist
    subject: str = Field(max_length=10)  # "account" or "deal"
    subject_id: int = Field(index=True)
    language: Optional[str] = Field(default=None, max_length=5)
    posted_by: Optional[str] = Field(default=None, max_length=120)
    created_at: datetime = Field(default_factory=utcnow)


class NudgeSend(SQLModel, table=True):
    """One weekly nudge or digest to one recipient. The row is claimed (inserted) before the
    message is posted: with several scheduler processes on one database, or a run restarted
    halfway, the unique key lets each message go out once per period."""

    __tablename__ = "nudge_send"
    __table_args__ = (UniqueConstraint("kind", "period", "recipient", name="uq_nudge_send"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # rep_nudge or manager_digest
    period: str = Field(max_length=20, index=True)  # ISO week, e.g. 2026-W48
    recipient: str = Field(max_length=120)  # owner name
    status: str = Field(default="claimed", max_length=20)  # claimed, sent, failed
    claimed_by: Optional[str] = Field(default=None, max_length=120)
    claimed_at: datetime = Field(default_factory=utcnow)
    sent_at: Optional[datetime] = None
    channel: Optional[str] = Field(default=None, max_length=40)
    ts: Optional[str] = Field(default=None, max_length=40)
    error: Optional[str] = Field(default=None, max_length=200)


class ActionDone(SQLModel, table=True):
    """A profile's common action done for an account (e.g. the win-back call): it is due again
    `every_days` later."""

    __tablename__ = "action_done"

    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    action_id: str = Field(max_length=40)  # "win_back:1"
    done_by: Optional[str] = Field(default=None, max_length=120)
    done_at: datetime = Field(default_factory=utcnow, index=True)


class RepSetting(SQLModel, table=True):
    """A rep's choice of nudge day, muted categories and chat platform (`settings`)."""

    __tablename__ = "rep_setting"

    id: Optional[int] = Field(default=None, primary_key=True)
    owner: str = Field(max_length=120, unique=True)
    nudge_day: Optional[int] = None  # 0 = Monday; None = the playbook's day
    muted: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    platform: Optional[str] = Field(default=None, max_length=10)  # slack, teams; None = the playbook's
    updated_by: Optional[str] = Field(default=None, max_length=120)
    updated_at: datetime = Field(default_factory=utcnow)


class WeeklySnapshot(SQLModel, table=True):
    """Counts by profile and tier as a digest showed them, so the next one can say what changed."""

    __tablename__ = "weekly_snapshot"
    __table_args__ = (UniqueConstraint("scope", "period", name="uq_weekly_snapshot"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    scope: str = Field(max_length=120)  # the manager's owner name
    period: str = Field(max_length=20)
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    taken_at: datetime = Field(default_factory=utcnow)


class AccountDecision(SQLModel, table=True):
    """An owner's decision on an account the method flags (seed 000: a let-go account calls for
    direct action): end the relationship, keep it, or raised with the customer. The weekly nudge
    stops asking while the decision stands."""

    __tablename__ = "account_decision"

    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    kind: str = Field(default="let_go", max_length=20)
    decision: str = Field(max_length=20)  # end, keep, raised
    reason: Optional[str] = Field(default=None, max_length=500)
    decided_by: Optional[str] = Field(default=None, max_length=120)
    decided_at: datetime = Field(default_factory=utcnow)


class OutboxMessage(SQLModel, table=True):
    """A message a change owes to someone outside the conversation (marketing hears of a deal
    handed to nurture), written in the same transaction as the change and delivered by whichever
    process posts to the platform: nothing is lost if that platform is down at the time."""

    __tablename__ = "outbox_message"

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)            # nurture_handover
    platform: str = Field(max_length=20)        # slack
    channel: str = Field(max_length=64)
    language: Optional[str] = Field(default=None, max_length=5)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=20, index=True)  # pending, claimed, sent, failed
    attempts: int = 0
    claimed_by: Optional[str] = Field(default=None, max_length=120)
    claimed_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: Optional[datetime] = None
    ts: Optional[str] = Field(default=None, max_length=40)
    error: Optional[str] = Field(default=None, max_length=200)


class TeamsConversation(SQLModel, table=True):
    """A Microsoft Teams conversation Gare may write to on its own: a person's personal chat with
    the bot, or a channel (or group chat) it was added to. Stored when the bot is installed or
    first spoken to, since Teams lets a bot start nothing without one; the weekly nudges and
    digests go out through the personal ones, `gare people sync teams` reads the teams' rosters,
    and a checklist posted in a channel is updated in place through them."""

    __tablename__ = "teams_conversation"

    id: Optional[int] = Field(default=None, primary_key=True)
    conversation_id: str = Field(max_length=400, unique=True)  # the channel's, without ;messageid=
    kind: str = Field(max_length=20)                 # personal, channel, groupChat
    tenant_id: Optional[str] = Field(default=None, max_length=64)
    service_url: str = Field(max_length=300)
    aad_object_id: Optional[str] = Field(default=None, max_length=64, index=True)  # personal: the user
    user_id: Optional[str] = Field(default=None, max_length=200)   # personal: the user's Teams id (29:...)
    team_id: Optional[str] = Field(default=None, max_length=200)   # channel: its team
    reference: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    active: bool = True                              # False once the bot was removed from it
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


# --- Account plans (seed 003) -------------------------------------------------------------------
# One current plan per account (current is True; NULL once reviewed, and NULLs never collide in a
# unique key, so past plans pile up as history). What the plan holds hangs on the plan: the
# review copies it into the next one. KPI values are measurements of the account, so they live
# on the account and outlast plans; each plan sets its own targets.

class AccountPlan(SQLModel, table=True):
    __tablename__ = "account_plan"
    __table_args__ = (UniqueConstraint("account_id", "number", name="uq_account_plan_number"),
                      UniqueConstraint("account_id", "current", name="uq_account_plan_current"))

    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    number: int = 1                                   # 1, 2, … per account
    current: Optional[bool] = None                    # True for the plan being followed; NULL once reviewed
    goal: Optional[str] = Field(default=None, max_length=500)
    goal_target: Optional[str] = Field(default=None, max_length=60)   # the goal's measurable part: "5%"
    goal_date: Optional[date] = None                  # when the goal is due; the review is due after it
    started_on: date
    closed_at: Optional[datetime] = None
    created_by: Optional[str] = Field(default=None, max_length=120)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


@event.listens_for(Account, "before_insert")
@event.listens_for(Account, "before_update")
@event.listens_for(Deal, "before_insert")
@event.listens_for(Deal, "before_update")
def _keep_name_key(_mapper, _connection, target) -> None:
    target.name_key = fold(target.name)


class PlanTask(SQLModel, table=True):
    """A task of a plan, with who does it: one of us, a named client contact, an outside vendor.
    A task a review made of a KPI below target has no text of its own: the KPI says it."""

    __tablename__ = "plan_task"
    __table_args__ = (UniqueConstraint("plan_id", "number", name="uq_plan_task_number"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="account_plan.id", index=True)
    number: int                                       # as shown and typed: task ACCOUNT 3 done
    text: Optional[str] = Field(default=None, max_length=500)
    owner_kind: str = Field(default="internal", max_length=10)   # internal, client, vendor
    owner_name: str = Field(max_length=200)
    due: date
    done_at: Optional[datetime] = None
    done_by: Optional[str] = Field(default=None, max_length=120)
    kpi_id: Optional[str] = Field(default=None, max_length=60)
    kpi_target: Optional[float] = None
    kpi_latest: Optional[float] = None
    carried_from: Optional[int] = None                # the task's number in the plan reviewed before
    created_by: Optional[str] = Field(default=None, max_length=120)
    created_at: datetime = Field(default_factory=utcnow)


class PlanAnswer(SQLModel, table=True):
    """The customer's answer to one of the playbook's discovery questions."""

    __tablename__ = "plan_answer"
    __table_args__ = (UniqueConstraint("plan_id", "question_id", name="uq_plan_answer"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="account_plan.id", index=True)
    question_id: str = Field(max_length=40)
    answer: str = Field(max_length=2000)
    answered_by: Optional[str] = Field(default=None, max_length=120)
    answered_at: datetime = Field(default_factory=utcnow)


class PlanStakeholder(SQLModel, table=True):
    """Someone at the customer: their role, department, attitude to us, needs, last contact."""

    __tablename__ = "plan_stakeholder"
    __table_args__ = (UniqueConstraint("plan_id", "name_key", name="uq_plan_stakeholder"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="account_plan.id", index=True)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)             # the name folded: one row per person
    role: Optional[str] = Field(default=None, max_length=120)
    department: Optional[str] = Field(default=None, max_length=120)
    attitude: Optional[str] = Field(default=None, max_length=10)  # champion, neutral, blocker
    needs: Optional[str] = Field(default=None, max_length=500)
    last_contact: Optional[date] = None
    updated_at: datetime = Field(default_factory=utcnow)


class PlanWhiteSpace(SQLModel, table=True):
    """A department of the customer we have not reached yet, and the use case that could fit it."""

    __tablename__ = "plan_white_space"

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="account_plan.id", index=True)
    department: str = Field(max_length=120)
    use_case: str = Field(max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class PlanRival(SQLModel, table=True):
    """One of the customer's main rivals, with what we know of them."""

    __tablename__ = "plan_rival"
    __table_args__ = (UniqueConstraint("plan_id", "name_key", name="uq_plan_rival"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="account_plan.id", index=True)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)
    notes: Optional[str] = Field(default=None, max_length=1000)


class PlanForce(SQLModel, table=True):
    """One of Porter's Five Forces on the customer's position, rated 1 (weak) to 5 (strong)."""

    __tablename__ = "plan_force"
    __table_args__ = (UniqueConstraint("plan_id", "force", name="uq_plan_force"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="account_plan.id", index=True)
    force: str = Field(max_length=20)   # buyer_power, new_entrants, substitutes, supplier_power, rivalry
    rating: int
    note: Optional[str] = Field(default=None, max_length=500)


class PlanKpiTarget(SQLModel, table=True):
    """The target a plan sets for one of the playbook's KPIs."""

    __tablename__ = "plan_kpi_target"
    __table_args__ = (UniqueConstraint("plan_id", "kpi_id", name="uq_plan_kpi_target"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="account_plan.id", index=True)
    kpi_id: str = Field(max_length=60)
    target: float


class KpiValue(SQLModel, table=True):
    """A KPI of an account measured on a day (one value per KPI and day; the trend reads them)."""

    __tablename__ = "kpi_value"
    __table_args__ = (UniqueConstraint("account_id", "kpi_id", "measured_on", name="uq_kpi_value"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    kpi_id: str = Field(max_length=60)
    value: float
    measured_on: date
    recorded_by: Optional[str] = Field(default=None, max_length=120)
    recorded_at: datetime = Field(default_factory=utcnow)


class PlanReview(SQLModel, table=True):
    """A plan's review: what worked, what did not, the review questions' answers, and, once
    closed, each KPI against its target as it stood; the next plan starts from it."""

    __tablename__ = "plan_review"

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="account_plan.id", unique=True)
    worked: Optional[str] = Field(default=None, max_length=2000)
    did_not: Optional[str] = Field(default=None, max_length=2000)
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    kpis: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    closed_at: Optional[datetime] = None
    closed_by: Optional[str] = Field(default=None, max_length=120)
    next_plan_id: Optional[int] = None
    updated_at: datetime = Field(default_factory=utcnow)

