"""CRM files in and out: one shared table reader (table.py) and plan-and-apply step (plan.py),
one module per kind of file. See docs/import.md for the columns each vendor's export gives."""
from __future__ import annotations

from typing import Any

from sqlmodel import Session

from store.imports.accounts import Accounts
from store.imports.deals import Deals
from store.imports.export import export_accounts, export_deals, export_nurture
from store.imports.people import People
from store.imports.plan import run
from store.imports.report import ImportReport, Problem
from store.imports.stages import Stages

KINDS = {"accounts": Accounts, "deals": Deals, "stages": Stages, "people": People}
EXPORTERS = {"accounts": export_accounts, "deals": export_deals, "nurture": export_nurture}


def import_file(kind: str, session: Session, source: Any, **options: Any) -> ImportReport:
    """Imports one file of `kind` (accounts, deals, stages, people); see plan.run for the options."""
    return run(KINDS[kind](), session, source, **options)


def import_accounts(session: Session, source: Any, **options: Any) -> ImportReport:
    return import_file("accounts", session, source, **options)


def import_deals(session: Session, source: Any, **options: Any) -> ImportReport:
    """Options besides plan.run's: create_accounts=True makes the accounts the file names."""
    return import_file("deals", session, source, **options)


def import_stage_history(session: Session, source: Any, **options: Any) -> ImportReport:
    return import_file("stages", session, source, **options)


def import_people(session: Session, source: Any, **options: Any) -> ImportReport:
    return import_file("people", session, source, **options)


__all__ = ["ImportReport", "Problem", "KINDS", "EXPORTERS", "import_file", "import_accounts", "import_deals",
           "import_stage_history", "import_people", "export_accounts", "export_deals"]
