"""Reading and writing the store. List queries load related rows in one query per table
(never one per account), and every write leaves an audit record."""
from __future__ import annotations

import difflib
import functools
import re
import weakref
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from sqlalchemy import func, text
from sqlmodel import Session, select

from playbook.words import fold  # noqa: F401  (importers read names with it)
from store.models import Account, AuditRecord, ChecklistAnswer, Deal, StageVisit, name_words, utcnow  # noqa: F401


def account_record(a: Account) -> dict[str, Any]:
    return {
        "id": a.id, "name": a.name, "owner": a.owner, "status": a.status, "industry": a.industry,
        "region": a.region, "sector": a.sector, "annual_revenue": a.annual_revenue, "employees": a.employees,
        "margin_pct": a.margin_pct, "exec_sponsor": a.exec_sponsor, "last_contact": a.last_contact,
        "lifetime_value": a.lifetime_value, "custom": dict(a.custom or {}),
        "profile_override": a.profile_override, "profile_override_by": a.profile_override_by,
        "profile_override_at": a.profile_override_at, "tier_override": a.tier_override,
    }


def deal_record(d: Deal, account_name: str | None = None) -> dict[str, Any]:
    return {
        "id": d.id, "name": d.name, "account_id": d.account_id, "account": account_name, "owner": d.owner,
        "stage": d.stage, "amount": d.amount, "currency": d.currency, "close_date": d.close_date,
        "status": d.status, "nurture_reason": d.nurture_reason, "created_at": d.created_at, "kind": d.kind,
    }


@dataclass(frozen=True)
class Actor:
    """Who made a change, for the audit: the person's owner name (or the operator's), the
    platform the change came from, and their user id there."""
    name: str
    platform: str | None = None
    platform_user_id: str | None = None


def audit(session: Session, actor: "str | Actor", entity: str, action: str, *, entity_id: int | None = None,
          entity_name: str | None = None, changes: dict[str, Any] | None = None) -> None:
    who = actor if isinstance(actor, Actor) else Actor(actor)
    session.add(AuditRecord(actor=(who.name or "unknown")[:120], platform=who.platform,
                            platform_user_id=who.platform_user_id, entity=entity, action=action,
                            entity_id=entity_id, entity_name=entity_name, changes=jsonable(changes or {})))


def jsonable(value: Any) -> Any:
    """Dates as ISO text, for JSON columns and reports."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# --- accounts ------------------------------------------------------------------------------

# How many names a mistyped one's search hands on to `closest`, the likeliest first.
SUGGESTION_POOL = 50
# The search among name_word: the longest TYPED_WORDS words typed, READS_PER_WORD index range
# reads for each (_word_reads), each read returning at most WORD_READ rows.
WORD_READ = 200
TYPED_WORDS = 6
READS_PER_WORD = 6

_trigram_engines: "weakref.WeakKeyDictionary[Any, bool]" = weakref.WeakKeyDictionary()


def _trigrams(session: Session) -> bool:
    """Whether account names have a trigram index (PostgreSQL with pg_trgm, migration 0013),
    asked first for the accounts like a mistyped name; asked once per engine."""
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    if engine.dialect.name != "postgresql":
        return False
    known = _trigram_engines.get(engine)
    if known is None:
        definition = session.connection().execute(text(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_account_name_key_trgm'")).scalar()
        known = _trigram_engines[engine] = "gin_trgm_ops" in (definition or "")
    return known


def _after(prefix: str) -> str:
    """The first text past every text starting with `prefix`: a range's end, for the index."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _word_reads(word: str | None) -> list[str | None]:
    """Where a typed word's name may be found among name_word's words, each a prefix read
    through the index: the word itself (or one it starts), its first three letters (a typo
    after them), those with two of the four first letters swapped (a typo in them); last, the
    last three letters among the tails (a typo anywhere before them). Always READS_PER_WORD of
    them (None: nothing to read) so that every search is one statement, compiled once."""
    reads: list[str | None] = [None] * READS_PER_WORD
    if word:
        heads = [word] if len(word) <= 3 else [word, word[:3], word[1] + word[0] + word[2],
                                                 word[0] + word[2] + word[1], word[:2] + word[3]]
        for n, head in enumerate(heads):
            reads[n] = head if head not in heads[:n] else None
        if len(word) > 3:
            reads[-1] = word[-3:]
    return reads


@functools.lru_cache(maxsize=None)
def _word_search(table: str):
    """The one statement of _word_candidates for a table, built once: TYPED_WORDS x
    READS_PER_WORD index range reads of at most :read rows each, weighed and summed by name."""
    reads = []
    for n in range(TYPED_WORDS * READS_PER_WORD):
        column = "tail" if n % READS_PER_WORD == READS_PER_WORD - 1 else "word"
        reads.append(f"SELECT record_id, {n} AS branch FROM (SELECT record_id FROM name_word WHERE kind = :kind "
                     f"AND {column} >= :low{n} AND {column} < :high{n} LIMIT :read) AS read{n}")
    found = "\n  UNION ALL ".join(reads)
    return text(f"""
        SELECT {table}.name FROM {table} JOIN (
          SELECT record_id, SUM(weight) AS score FROM (
            SELECT record_id, 1.0 / COUNT(*) OVER (PARTITION BY branch) AS weight FROM (
              {found}) AS found) AS weighed
          GROUP BY record_id ORDER BY score DESC, record_id LIMIT :pool) AS best ON {table}.id = best.record_id
        ORDER BY best.score DESC, {table}.id""")


def _word_candidates(session: Session, model, key: str, limit: int) -> list[str]:
    """The candidates from name_word: the names with words like those typed (_word_reads), each
    read at most WORD_READ rows from an index; a name counts for each read that found it, weighed by how
    few rows that read found (a rare word says more than one in every name), the best `limit`
    first. One statement, the same whatever was typed."""
    words = sorted(name_words(key), key=len, reverse=True)[:TYPED_WORDS]
    words += [None] * (TYPED_WORDS - len(words))
    params: dict[str, Any] = {"kind": model.__tablename__, "read": WORD_READ, "pool": limit}
    for w, word in enumerate(words):
        for r, prefix in enumerate(_word_reads(word)):
            n = w * READS_PER_WORD + r
            params[f"low{n}"], params[f"high{n}"] = (prefix, _after(prefix)) if prefix else ("", "")
    return list(session.connection().execute(_word_search(model.__tablename__), params).scalars())


def _trigram_candidates(session: Session, model, key: str, limit: int) -> list[str]:
    """PostgreSQL's candidate accounts, from the trigram index: the names holding something like
    what was typed (pg_trgm's word similarity, 0.6 at least), the most alike first."""
    alike = func.word_similarity(key, model.name_key)
    return list(session.exec(select(model.name).where(model.name_key.op("%>")(key))
                             .order_by(alike.desc(), model.name_key, model.id).limit(limit)))


def similar_names(session: Session, model, name: str, limit: int = SUGGESTION_POOL) -> list[str]:
    """The names most likely meant by a name nobody has, for `closest` to rank: at most `limit`
    of them, found through indexes (never by reading every name): the account names alike by
    their trigrams on PostgreSQL with pg_trgm; else, or when those find none (two typos in a
    short name, one in the first letters of a one-word name), the names sharing words with what
    was typed (name_word). One query, or two, whatever the size of the book."""
    key = fold(name)
    if not key:
        return []
    if model is Account and _trigrams(session):
        found = _trigram_candidates(session, model, key, limit)
        if found:
            return list(dict.fromkeys(found))
    return list(dict.fromkeys(_word_candidates(session, model, key, limit)))


def suggest_accounts(session: Session, name: str) -> list[str]:
    """"Did you mean": the closest account names to one nobody has (none for a `#id`)."""
    return [] if record_id(name) is not None else closest(name, similar_names(session, Account, name))


def suggest_deals(session: Session, name: str) -> list[str]:
    return [] if record_id(name) is not None else closest(name, similar_names(session, Deal, name))


RECORD_REF = re.compile(r"#(\d{1,18})")
MAX_CANDIDATES = 10


def record_id(text: str | None) -> int | None:
    """`#123` names a record by its id (how "which one?" answers are picked); else None."""
    m = RECORD_REF.fullmatch((text or "").strip())
    return int(m.group(1)) if m else None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _find(session: Session, model, name: str) -> list:
    """The records a typed name designates: `#12` is the one with that id; else those with exactly
    that name, else the same ignoring case and accents, else the one name starting with it.
    Several records may share a name (deals do): the caller asks which one."""
    wanted = record_id(name)
    if wanted is not None:
        found = session.get(model, wanted)
        return [found] if found is not None else []
    text = name.strip()
    exact = list(session.exec(select(model).where(model.name == text).order_by(model.id).limit(MAX_CANDIDATES + 1)))
    if exact:
        return exact
    key = fold(text)
    same = list(session.exec(select(model).where(model.name_key == key).order_by(model.id).limit(MAX_CANDIDATES + 1)))
    if same or len(key) < 3:
        return same
    if session.get_bind().dialect.name == "sqlite":
        # SQLite's LIKE ignores case, so it cannot use the index: the same names as a range of
        # it (names are folded; SQLite compares them code point by code point).
        starts = (model.name_key >= key) & (model.name_key < _after(key))
    else:
        # Read through the pattern index (migration 0013); LIKE's own escape, the backslash,
        # keeps the pattern one the planner reads a prefix from.
        starts = model.name_key.like(_escape_like(key) + "%")
    starting = session.exec(select(model.name_key).where(starts).distinct().limit(2)).all()
    if len(starting) != 1:
        return []
    return list(session.exec(select(model).where(model.name_key == starting[0]).order_by(model.id)
                             .limit(MAX_CANDIDATES + 1)))


def find_accounts(session: Session, name: str) -> list[Account]:
    return _find(session, Account, name)


def find_account(session: Session, name: str) -> Account | None:
    """The one account a name designates; None when none or several."""
    found = find_accounts(session, name)
    return found[0] if len(found) == 1 else None


def _likeness(key: str, candidate: str) -> float:
    """How much `candidate` looks like what was typed: the whole name, or one of its words
    ('acmee' is close to 'Société Acme'), or a prefix of it."""
    if not key:
        return 0.0
    if key in candidate:
        return 0.95
    whole = difflib.SequenceMatcher(None, key, candidate).ratio()
    words = [difflib.SequenceMatcher(None, key, w).ratio() for w in candidate.split()]
    prefix = difflib.SequenceMatcher(None, key, candidate[: len(key)]).ratio()
    return max([whole, prefix * 0.95] + [w * 0.9 for w in words])


def closest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The names a user most likely meant, best first."""
    key = fold(name)
    scored = []
    for c in dict.fromkeys(candidates):
        score = _likeness(key, fold(c))
        if score >= 0.6:
            scored.append((-score, fold(c), c))
    return [c for _, _, c in sorted(scored)[:n]]


def unique_prefix(name: str, candidates: Iterable[str]) -> str | None:
    """The one name that starts with what was typed ('tiny' -> 'Tiny Co'); None when ambiguous."""
    key = fold(name)
    if len(key) < 3:
        return None
    hits = [c for c in candidates if fold(c).startswith(key)]
    return hits[0] if len(hits) == 1 else None


def of_owners(query, column, owners: Sequence[str] | None):
    """`query` narrowed to the records whose owner `column` is one of `owners` in any case (None:
    everyone's): lower(owner), as the indexes on the folded owner serve it."""
    if owners is None:
        return query
    return query.where(func.lower(column).in_([o.lower() for o in owners]))


def list_accounts(session: Session, *, owner: str | None = None, owners: Sequence[str] | None = None) -> list[Account]:
    query = select(Account).order_by(Account.name)
    if owner:
        owners = [owner]
    return list(session.exec(of_owners(query, Account.owner, owners)))


def accounts_by_id(session: Session, account_ids: Sequence[int]) -> dict[int, Account]:
    out: dict[int, Account] = {}
    for chunk in _chunks(sorted(set(account_ids))):
        for a in session.exec(select(Account).where(Account.id.in_(chunk))):
            out[a.id] = a
    return out


def deals_by_account(session: Session, account_ids: Sequence[int]) -> dict[int, list[Deal]]:
    out: dict[int, list[Deal]] = defaultdict(list)
    if not account_ids:
        return out
    for chunk in _chunks(list(account_ids)):
        for d in session.exec(select(Deal).where(Deal.account_id.in_(chunk)).order_by(Deal.name)):
            out[d.account_id].append(d)
    return out


def _chunks(items: list, size: int = 900) -> Iterable[list]:
    # SQLite caps bound parameters per statement; stay well below.
    for i in range(0, len(items), size):
        yield items[i:i + size]


# --- deals ---------------------------------------------------------------------------------

def find_deals(session: Session, name: str) -> list[Deal]:
    return _find(session, Deal, name)


def find_deal(session: Session, name: str) -> Deal | None:
    """The one deal a name designates; None when none or several."""
    found = find_deals(session, name)
    return found[0] if len(found) == 1 else None


def list_deals(session: Session, *, owner: str | None = None, owners: Sequence[str] | None = None,
               status: str | None = None) -> list[Deal]:
    query = select(Deal).order_by(Deal.name)
    if owner:
        owners = [owner]
    query = of_owners(query, Deal.owner, owners)
    if status:
        query = query.where(Deal.status == status)
    return list(session.exec(query))


def open_deals_matching(session: Session, condition, *, owners: Sequence[str] | None = None,
                        with_names: bool = True) -> tuple[list[Deal], dict[int, str], dict[int, list]]:
    """The open deals (of `owners`) meeting `condition`, with their accounts' names and their
    stage histories: three queries however many they are (the deals' ids are a subquery, not
    a list sent back in chunks). The visits are plain rows (stage, entered_at, left_at,
    estimated), read-only: building tens of thousands of ORM objects was half the time."""
    ids = of_owners(select(Deal.id).where(Deal.status == "open", condition), Deal.owner, owners)
    deals = list(session.exec(select(Deal).where(Deal.id.in_(ids)).order_by(Deal.name, Deal.id)))
    names = dict(session.exec(select(Account.id, Account.name)
                              .where(Account.id.in_(select(Deal.account_id).where(Deal.id.in_(ids))))).all()) \
        if with_names else {}
    visits: dict[int, list] = defaultdict(list)
    for v in session.exec(select(StageVisit.deal_id, StageVisit.stage, StageVisit.entered_at, StageVisit.left_at,
                                 StageVisit.estimated).where(StageVisit.deal_id.in_(ids))
                          .order_by(StageVisit.entered_at)):
        visits[v.deal_id].append(v)
    return deals, names, visits


def visits_by_deal(session: Session, deal_ids: Sequence[int]) -> dict[int, list[StageVisit]]:
    out: dict[int, list[StageVisit]] = defaultdict(list)
    for chunk in _chunks(list(deal_ids)):
        for v in session.exec(select(StageVisit).where(StageVisit.deal_id.in_(chunk)).order_by(StageVisit.entered_at)):
            out[v.deal_id].append(v)
    return out


def account_names(session: Session, account_ids: Iterable[int | None]) -> dict[int, str]:
    ids = [i for i in set(account_ids) if i is not None]
    out: dict[int, str] = {}
    for chunk in _chunks(ids):
        for a_id, name in session.exec(select(Account.id, Account.name).where(Account.id.in_(chunk))):
            out[a_id] = name
    return out


def move_stage(session: Session, deal: Deal, stage: str, at, actor: "str | Actor") -> None:
    """Close the current stage visit and open the next: the indicator needs the full history."""
    if deal.stage == stage:
        return
    current = session.exec(select(StageVisit).where(StageVisit.deal_id == deal.id, StageVisit.left_at.is_(None))).all()
    for visit in current:
        visit.left_at = at
        session.add(visit)
    session.add(StageVisit(deal_id=deal.id, stage=stage, entered_at=at))
    audit(session, actor, "deal", "stage", entity_id=deal.id, entity_name=deal.name,
          changes={"stage": [deal.stage, stage]})
    deal.stage = stage
    deal.updated_at = utcnow()
    session.add(deal)


# --- checklist answers ---------------------------------------------------------------------

def checklist_answers(session: Session, subject: str, subject_ids: Sequence[int]) -> dict[int, dict[tuple[str, str], bool]]:
    out: dict[int, dict[tuple[str, str], bool]] = defaultdict(dict)
    for chunk in _chunks(list(subject_ids)):
        rows = session.exec(select(ChecklistAnswer).where(ChecklistAnswer.subject == subject,
                                                          ChecklistAnswer.subject_id.in_(chunk)))
        for row in rows:
            out[row.subject_id][(row.item_kind, row.item_id)] = row.answer
    return out


def checklist_answers_where(session: Session, subject: str, subject_ids) -> dict[int, dict[tuple[str, str], bool]]:
    """checklist_answers for the subjects a subquery of ids names: one statement."""
    out: dict[int, dict[tuple[str, str], bool]] = defaultdict(dict)
    for row in session.exec(select(ChecklistAnswer).where(ChecklistAnswer.subject == subject,
                                                          ChecklistAnswer.subject_id.in_(subject_ids))):
        out[row.subject_id][(row.item_kind, row.item_id)] = row.answer
    return out


def save_checklist_answer(session: Session, subject: str, subject_id: int, item_kind: str, item_id: str,
                          answer: bool, actor: "str | Actor") -> None:
    row = session.exec(select(ChecklistAnswer).where(
        ChecklistAnswer.subject == subject, ChecklistAnswer.subject_id == subject_id,
        ChecklistAnswer.item_kind == item_kind, ChecklistAnswer.item_id == item_id)).first()
    before = row.answer if row else None
    name = actor.name if isinstance(actor, Actor) else actor
    if row is None:
        row = ChecklistAnswer(subject=subject, subject_id=subject_id, item_kind=item_kind, item_id=item_id,
                              answer=answer, answered_by=name)
    else:
        row.answer, row.answered_by, row.answered_at = answer, name, utcnow()
    session.add(row)
    audit(session, actor, subject, "checklist", entity_id=subject_id,
          changes={f"{item_kind}:{item_id}": [before, answer]})


def all_owners(session: Session) -> list[str]:
    owners = set(session.exec(select(Account.owner).where(Account.owner.is_not(None)).distinct()))
    owners |= set(session.exec(select(Deal.owner).where(Deal.owner.is_not(None)).distinct()))
    return sorted(owners, key=fold)


def close_open_visits(session: Session, deal: Deal, at) -> None:
    for visit in session.exec(select(StageVisit).where(StageVisit.deal_id == deal.id, StageVisit.left_at.is_(None))):
        visit.left_at = at
        session.add(visit)


def reopen_visit(session: Session, deal: Deal, at) -> None:
    """A deal back from nurture at the stage it left starts a fresh stay there."""
    close_open_visits(session, deal, at)
    session.add(StageVisit(deal_id=deal.id, stage=deal.stage, entered_at=at))


# --- chat platforms: events handled once, posted messages, people ----------------------------

def _event_key(identity: str) -> str:
    import hashlib

    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


def claim_event(session: Session, platform: str, kind: str, identity: str, now, window=None) -> bool:
    """True for the one caller that may handle this event; False when another process (or a
    redelivery, or a double-click) already did. With a `window` (timedelta) the same identity
    may be handled again once that much time has passed (the same button clicked tomorrow).
    Atomic across processes: the unique key decides, not a read-then-write. One INSERT ... ON
    CONFLICT DO NOTHING (SQLite and PostgreSQL both have it): no savepoint, no ORM flush, as
    every slash command and Teams message claims its delivery this way. On PostgreSQL the
    claim's commit does not wait for the WAL flush (6.7 ms -> about 1 ms here): a crash of the
    database may forget the last claims, so a redelivery just after it would be answered again;
    two processes can still never both win. The caller's session holds the claim alone."""
    from sqlalchemy import text, update

    from store.models import HandledEvent

    key = _event_key(identity)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = HandledEvent.__table__
    inserted = session.connection().execute(
        insert(table).values(platform=platform, key=key, kind=kind, claimed_at=now)
        .on_conflict_do_nothing(index_elements=["platform", "key"]).returning(table.c.id)).first()
    if inserted is not None:
        return True
    if window is None:
        return False
    result = session.execute(update(HandledEvent)
                             .where(HandledEvent.platform == platform, HandledEvent.key == key,
                                    HandledEvent.claimed_at < now - window)
                             .values(claimed_at=now))
    return result.rowcount == 1


def release_event(session: Session, platform: str, identity: str) -> None:
    """Forget a claim whose handling was refused (a form sent back with errors may come again)."""
    from sqlalchemy import delete

    from store.models import HandledEvent

    session.execute(delete(HandledEvent).where(HandledEvent.platform == platform,
                                               HandledEvent.key == _event_key(identity)))


def remember_message(session: Session, platform: str, channel: str, ts: str, kind: str, subject: str,
                     subject_id: int, language: str | None = None, posted_by: str | None = None) -> None:
    from store.models import ChatMessage

    found = session.exec(select(ChatMessage).where(ChatMessage.platform == platform, ChatMessage.channel == channel,
                                                   ChatMessage.ts == ts)).first()
    if found is None:
        session.add(ChatMessage(platform=platform, channel=channel, ts=ts, kind=kind, subject=subject,
                                subject_id=subject_id, language=language, posted_by=posted_by))


def posted_message(session: Session, platform: str, channel: str, ts: str):
    """The message (so the thread) the bot posted there, with the deal or account it is about."""
    from store.models import ChatMessage

    return session.exec(select(ChatMessage).where(ChatMessage.platform == platform, ChatMessage.channel == channel,
                                                  ChatMessage.ts == ts)).first()


def posted_messages_about(session: Session, platform: str, kind: str, subject: str, subject_id: int) -> list:
    from store.models import ChatMessage

    return list(session.exec(select(ChatMessage).where(
        ChatMessage.platform == platform, ChatMessage.kind == kind, ChatMessage.subject == subject,
        ChatMessage.subject_id == subject_id).order_by(ChatMessage.id)))


def chat_user(session: Session, platform: str, chat_id: str):
    from store.models import ChatUser

    return session.exec(select(ChatUser).where(ChatUser.platform == platform, ChatUser.chat_id == chat_id)).first()


def save_chat_user(session: Session, platform: str, chat_id: str, **fields: Any):
    """Insert or update what the platform said about a chat user (e-mail, name, language, flags).
    Two server processes may meet the same new user at once: the second insert finds the
    first one's row and updates it."""
    from sqlalchemy.exc import IntegrityError

    from store.models import ChatUser

    row = chat_user(session, platform, chat_id)
    if row is None:
        try:
            with session.begin_nested():
                row = ChatUser(platform=platform, chat_id=chat_id, **fields)
                session.add(row)
                session.flush()
            return row
        except IntegrityError:
            row = chat_user(session, platform, chat_id)
    for name, value in fields.items():
        setattr(row, name, value)
    session.add(row)
    return row


# --- the weekly send ledger ------------------------------------------------------------------

def claim_send(session_factory, kind: str, period: str, recipient: str, worker: str, now, stale_after,
               dead=None) -> str | None:
    """Claims the right to send one nudge or digest: "new" for a first claim, "resumed" for a
    claim taken over from a run that died (still "claimed" after `stale_after`, or `dead(worker)`
    says its process is gone) or whose send failed, None when another run has it or it is done.
    Exactly one caller per (kind, period, recipient) wins, across processes. A resumed claim may
    have been posted already (the run died after the platform accepted it): the caller looks
    for it before posting again."""
    from sqlalchemy.exc import IntegrityError

    from store.models import NudgeSend

    try:
        with session_factory() as session:
            session.add(NudgeSend(kind=kind, period=period, recipient=recipient, claimed_by=worker, claimed_at=now))
        return "new"
    except IntegrityError:
        pass
    with session_factory() as session:
        row = session.exec(select(NudgeSend).where(NudgeSend.kind == kind, NudgeSend.period == period,
                                                   NudgeSend.recipient == recipient)).first()
        if row is None or row.status in ("sent", "empty"):
            return None
        if row.status == "claimed" and now - _aware(row.claimed_at, now) < stale_after \
                and not (dead is not None and dead(row.claimed_by or "")):
            return None
        # Take over with a compare-and-set on the old claim, so two resuming runs do not both win.
        result = session.execute(
            NudgeSend.__table__.update()
            .where(NudgeSend.id == row.id, NudgeSend.claimed_by == row.claimed_by,
                   NudgeSend.claimed_at == row.claimed_at, NudgeSend.status == row.status)
            .values(claimed_by=worker, claimed_at=now, status="claimed", error=None))
        return "resumed" if result.rowcount == 1 else None


def resumable_sends(session: Session, kind: str, period: str) -> list[str]:
    """The recipients whose message of this period was claimed and never settled: what the
    resuming job looks at (a run that died), leaving alone those nobody has started and those
    whose failure the run's summary reported."""
    from store.models import NudgeSend

    return list(session.exec(select(NudgeSend.recipient).where(
        NudgeSend.kind == kind, NudgeSend.period == period, NudgeSend.status == "claimed")))


def finish_send(session_factory, kind: str, period: str, recipient: str, status: str, *, now=None,
                channel: str | None = None, ts: str | None = None, error: str | None = None,
                before_commit=None) -> None:
    """Records how a claimed send ended. `before_commit` runs inside the transaction, just before
    it commits (where tests make the process die)."""
    from store.models import NudgeSend

    with session_factory() as session:
        row = session.exec(select(NudgeSend).where(NudgeSend.kind == kind, NudgeSend.period == period,
                                                   NudgeSend.recipient == recipient)).one()
        row.status, row.channel, row.ts = status, channel, ts
        row.error = (error or "")[:200] or None
        row.sent_at = now if status == "sent" else None
        session.add(row)
        if before_commit is not None:
            session.flush()
            before_commit()


def _aware(value, like):
    return value.replace(tzinfo=like.tzinfo) if value is not None and value.tzinfo is None else value


def owner_language(session: Session, owner: str) -> str | None:
    """The language a person reads, when the directory or a chat platform told us."""
    from store.people import by_owner

    row = by_owner(session, owner)
    return row.language if row is not None else None
