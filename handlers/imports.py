"""`gare import accounts|deals|stages|people FILE` and `gare export accounts|deals`: CRM files in
and out. An import is all or nothing; its reply groups the problems, each with its fix."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, TextIO

from handlers.reply import Context, Refusal, Reply
from playbook.config import localized
from store import imports
from store.database import session_scope

DATE_ORDERS = ("mdy", "dmy")


def import_file(ctx: Context, kind: str, path: Path, *, dry_run: bool = False,
                progress: Callable[[int, int], None] | None = None, date_order: str | None = None,
                create_accounts: bool = False) -> Reply:
    if kind not in imports.KINDS:
        raise Refusal("bad_syntax", command="import")
    if date_order is not None and date_order not in DATE_ORDERS:
        raise Refusal("bad_value", field="--date-order", value=date_order, expected="mdy | dmy")
    if create_accounts and kind != "deals":
        raise Refusal("create_accounts_deals_only", kind=kind)
    with session_scope(ctx.engine) as session:
        report = imports.import_file(kind, session, path, playbook=ctx.playbook, actor=ctx.who, dry_run=dry_run,
                                     progress=progress, now=ctx.now(), date_order=date_order,
                                     create_accounts=create_accounts)
        if not report.ok or dry_run:
            session.rollback()  # nothing is written unless the whole file is good
    data = report.to_dict()
    for entry in data["problems"] + data["notes"]:
        name = entry["detail"].get("nearest_name")
        if isinstance(name, dict):
            entry["detail"]["nearest_name"] = localized(name, ctx.language)
    return Reply("import_report", data, ok=report.ok)


def export_file(ctx: Context, kind: str, out: TextIO) -> Reply:
    with session_scope(ctx.engine) as session:
        rows = imports.EXPORTERS[kind](session, out)
    return Reply("export_done", {"kind": kind, "rows": rows})
