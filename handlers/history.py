"""`history NAME [page=N]`: who changed an account or a deal, what and when, newest first: the
audit trail every change leaves, read back a page at a time."""
from __future__ import annotations

import re

from sqlalchemy import func
from sqlmodel import select

from handlers.records import resolve_subject
from handlers.reply import Context, Refusal, Reply
from store.database import session_scope
from store.models import AuditRecord

PAGE = 10


def history(ctx: Context, name: str) -> Reply:
    page = 1
    m = re.match(r"^(?P<name>.+?)\s+(?:page|p)\s*=\s*(?P<page>\S+)$", name.strip(), re.I)
    if m:
        name = m.group("name")
        if not m.group("page").isdigit() or int(m.group("page")) < 1:
            raise Refusal("bad_value", field="page", value=m.group("page"), expected="integer")
        page = int(m.group("page"))
    with session_scope(ctx.engine) as session:
        kind, deal, account = resolve_subject(session, name, ctx)
        record = deal if kind == "deal" else account
        where = (AuditRecord.entity == kind, AuditRecord.entity_id == record.id)
        total = session.exec(select(func.count()).select_from(AuditRecord).where(*where)).one()
        rows = session.exec(select(AuditRecord).where(*where).order_by(AuditRecord.at.desc(), AuditRecord.id.desc())
                            .offset((page - 1) * PAGE).limit(PAGE)).all()
        entries = [{"at": ctx.local(r.at), "actor": r.actor, "platform": r.platform, "action": r.action,
                    "changes": [{"field": k, "old": v[0] if isinstance(v, list) and len(v) == 2 else None,
                                 "new": v[1] if isinstance(v, list) and len(v) == 2 else v}
                                for k, v in (r.changes or {}).items()]} for r in rows]
    pages = max(1, -(-total // PAGE))
    return Reply("history", {"subject": kind, "name": record.name, "account": account.name if account else None,
                             "entries": entries, "page": page, "pages": pages, "total": total})
