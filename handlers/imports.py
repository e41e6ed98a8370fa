"""`gare import accounts|deals|stages FILE` and `gare export accounts|deals`: CRM files in and out.
An import is all or nothing; the reply lists every bad row."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, TextIO

from handlers.reply import Context, Refusal, Reply
from store import csv_io
from store.database import session_scope

IMPORTERS = {
    "accounts": csv_io.import_accounts,
    "deals": csv_io.import_deals,
    "stages": csv_io.import_stage_history,
}
EXPORTERS = {"accounts": csv_io.export_accounts, "deals": csv_io.export_deals, "nurture": csv_io.export_nurture}


def import_file(ctx: Context, kind: str, path: Path, *, dry_run: bool = False,
                progress: Callable[[int, int], None] | None = None) -> Reply:
    if kind not in IMPORTERS:
        raise Refusal("bad_syntax", command="import")
    with session_scope(ctx.engine) as session:
        report = IMPORTERS[kind](session, path, playbook=ctx.playbook, actor=ctx.actor, dry_run=dry_run,
                                 progress=progress, now=ctx.now())
        if not report.ok or dry_run:
            session.rollback()  # nothing is written unless the whole file is good
    return Reply("import_report", report.to_dict(), ok=report.ok)


def export_file(ctx: Context, kind: str, out: TextIO) -> Reply:
    with session_scope(ctx.engine) as session:
        rows = EXPORTERS[kind](session, out)
    return Reply("export_done", {"kind": kind, "rows": rows})
