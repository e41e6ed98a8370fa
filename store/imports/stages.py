"""`gare import stages FILE`: a deal's stage history, one row per stay (deal, stage, date entered),
as Salesforce's Opportunity History or a hand-made file gives it.

Rows are added as stays by (deal, stage, date); then each touched deal's stays are put in order
(by date, then the file's order, then the pipeline's: a date-only export shows two stages entered
the same day, the plainest skipped step) and chained: a stay ends when the next begins, the last
stays open while the deal is open, and the deal's stage is the last stay's. A closed-won or
closed-lost row closes the deal at its date. A later stay at the same stage that the file does
not list (the estimated one a deal import opened) is merged into the earlier one. Importing the
same file again changes nothing."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select

from playbook.words import fold, name_key
from store.imports.deals import _outcome, _stage
from store.imports.plan import Job, Kind
from store.imports.table import Aliases, Row
from store.models import Deal, StageVisit
from store.queries import _chunks

ALIASES = Aliases({
    "deal_id": ["opportunity id", "opportunityid", "deal id", "record id", "(do not modify) opportunity",
                "id de l'opportunité", "id de la transaction"],
    "deal": ["deal name", "opportunity name", "opportunity", "topic", "name", "transaction", "nom de la transaction",
             "opportunité", "nom de l'opportunité", "affaire", "nom"],
    "stage": ["to stage", "stage", "stage name", "étape", "deal stage", "pipeline phase", "phase", "vers l'étape",
              "étape de la transaction", "phase de la transaction"],
    "entered_at": ["entered at", "date entered", "entered", "stage entered", "stage entered at", "edit date",
                   "changed at", "change date", "created date", "date", "date d'entrée", "entrée",
                   "date d'entrée dans l'étape", "date de changement"],
})


class Stages(Kind):
    name = "stages"
    aliases = ALIASES
    required = ("stage", "entered_at")
    date_fields = ("entered_at",)

    one_of = (("deal", "deal_id"),)

    def start(self, job: Job) -> None:
        # listed: (deal, stage, date) -> the row's rank in the file, which orders stays of one day.
        job.state.update(touched={}, listed={}, added={}, closings={}, order=0, last={}, steps=[0, 0])

    def plan(self, job: Job, rows: list[Row]) -> list:
        session, playbook, state = job.session, job.playbook, job.state
        deals = Deal.__table__
        ids = sorted({row.raw("deal_id") for row in rows if row.raw("deal_id")})
        keys = sorted({fold(row.raw("deal")) for row in rows if row.raw("deal")})
        by_id, by_name = {}, {}
        for chunk in _chunks(ids):
            by_id |= {d.crm_id: d for d in session.execute(
                select(deals.c.id, deals.c.crm_id, deals.c.name, deals.c.stage, deals.c.status)
                .where(deals.c.crm_id.in_(chunk)))}
        for chunk in _chunks(keys):
            for d in session.execute(select(deals.c.id, deals.c.name_key, deals.c.name, deals.c.stage, deals.c.status)
                                     .where(deals.c.name_key.in_(chunk))):
                by_name.setdefault(d.name_key, []).append(d)
        planned = []
        for row in rows:
            deal = self._deal(row, by_id, by_name)
            stage_raw = row.get("stage", str.strip, required=True)
            stage = outcome = None
            if stage_raw:
                stage, outcome = _stage(playbook, stage_raw), _outcome(stage_raw)
                if stage is None and outcome is None:
                    nearest = playbook.nearest_stage(stage_raw)
                    row.problem(row.column("stage"), "unknown_stage", stage_raw, group=name_key(stage_raw),
                                nearest=nearest.id, nearest_name=nearest.name,
                                aliases_line="aliases = " + json.dumps([*nearest.aliases, stage_raw],
                                                                       ensure_ascii=False))
            entered = row.get("entered_at", job.reader.datetime, required=True)
            if not row.bad and deal is not None:
                state["order"] += 1
                # Which way the file runs (oldest or newest first), from the rows of each deal.
                last = state["last"].get(deal.id)
                if last is not None and last != entered:
                    state["steps"][0 if entered > last else 1] += 1
                state["last"][deal.id] = entered
                planned.append((row.line, deal, stage.id if stage else None, outcome, entered, state["order"]))
        return planned

    def _deal(self, row: Row, by_id: dict, by_name: dict):
        crm_id, name = row.raw("deal_id"), row.raw("deal")
        if crm_id and crm_id in by_id:
            return by_id[crm_id]
        if name:
            found = by_name.get(fold(name), [])
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                row.problem(row.column("deal"), "ambiguous_deal", name, str(len(found)))
                return None
        if crm_id or name:
            row.problem(row.column("deal_id" if crm_id and not name else "deal"), "unknown_deal", name or crm_id)
        else:
            row.problem(row.column("deal" if "deal" in row.reader.columns.index else "deal_id"), "missing_value")
        return None

    def apply(self, job: Job, planned: list) -> None:
        state, visits = job.state, StageVisit.__table__
        known = set()
        for chunk in _chunks(sorted({d.id for _, d, *_ in planned})):
            known |= {(v.deal_id, v.stage, v.entered_at) for v in job.session.execute(
                select(visits.c.deal_id, visits.c.stage, visits.c.entered_at).where(visits.c.deal_id.in_(chunk)))}
        fresh, added = [], set()
        for line, deal, stage, outcome, entered, order in planned:
            state["touched"].setdefault(deal.id, deal)
            if outcome is not None:
                closing = state["closings"].get(deal.id)
                if closing is None or entered >= closing[1]:
                    state["closings"][deal.id] = (outcome, entered)
                if deal.status == outcome:
                    job.report.unchanged += 1
                else:
                    job.report.change(line, deal.name, "update", {"status": [deal.status, outcome]})
                continue
            state["listed"].setdefault((deal.id, stage, entered), order)
            if (deal.id, stage, entered) in known or (deal.id, stage, entered) in added:
                job.report.unchanged += 1
                continue
            added.add((deal.id, stage, entered))
            job.report.change(line, deal.name, "create", {"stage": [None, stage], "entered_at": [None, entered]})
            # Closed for now (a deal has one open stay at most, migration 0009): finish() chains
            # the stays and leaves the last one open.
            fresh.append({"deal_id": deal.id, "stage": stage, "entered_at": entered, "left_at": entered,
                          "estimated": False})
            state["added"].setdefault(deal.id, []).append([stage, entered])
        if fresh:
            job.session.execute(visits.insert(), fresh)

    def finish(self, job: Job) -> None:
        state, playbook = job.state, job.playbook
        visits, deals = StageVisit.__table__, Deal.__table__
        pipeline = {s.id: i for i, s in enumerate(playbook.stages)}
        newest_first = state["steps"][1] > state["steps"][0]
        listed = state["listed"]

        def rank(v) -> tuple:
            """Stays of one day: in the file's order (read the other way when the file lists the
            newest first), then the pipeline's; stays the file does not list come after."""
            in_file = listed.get((v.deal_id, v.stage, v.entered_at))
            if in_file is None:
                return (v.entered_at, 1, 0, pipeline.get(v.stage, 99), v.id)
            return (v.entered_at, 0, -in_file if newest_first else in_file, pipeline.get(v.stage, 99), v.id)

        touched = state["touched"]
        fresh = {(deal_id, stage, entered) for deal_id, stays in state["added"].items() for stage, entered in stays}
        for chunk in _chunks(sorted(touched)):
            by_deal: dict[int, list] = {}
            for v in job.session.execute(select(visits).where(visits.c.deal_id.in_(chunk))).mappings():
                by_deal.setdefault(v.deal_id, []).append(v)
            removed_ids, visit_changes, deal_changes = [], [], []
            for deal_id in chunk:
                deal = touched[deal_id]
                stays = sorted(by_deal.get(deal_id, []), key=rank)
                kept, removed = [], []
                for v in stays:
                    if kept and kept[-1].stage == v.stage and (deal_id, v.stage, v.entered_at) not in listed:
                        removed_ids.append(v.id)
                        removed.append([v.stage, v.entered_at])
                        continue
                    kept.append(v)
                closing = state["closings"].get(deal_id)
                status = closing[0] if closing else deal.status
                for v, following in zip(kept, kept[1:] + [None]):
                    if following is not None:
                        left = following.entered_at
                    elif closing is not None:
                        left = max(closing[1], v.entered_at)
                    else:
                        was = None if (deal_id, v.stage, v.entered_at) in fresh else v.left_at
                        left = None if status in ("open", None) else was
                    if v.left_at != left:
                        visit_changes.append((v.id, {"left_at": left}))
                changes: dict[str, Any] = {}
                if state["added"].get(deal_id):
                    changes["visits_added"] = state["added"][deal_id]
                if removed:
                    changes["visits_merged"] = removed
                deal_change = {}
                if kept and deal.stage != kept[-1].stage:
                    changes["stage"] = [deal.stage, kept[-1].stage]
                    deal_change["stage"] = kept[-1].stage
                if status != deal.status:
                    changes["status"] = [deal.status, status]
                    deal_change["status"] = status
                if deal_change:
                    deal_changes.append((deal_id, deal_change | {"updated_at": job.stamp}))
                if changes:
                    job.audit("deal", "stage_history", deal_id, deal.name, changes)
            if removed_ids:
                job.session.execute(delete(visits).where(visits.c.id.in_(removed_ids)))
            # Stays closed before the one opened: never two open at once, even within the statement.
            visit_changes.sort(key=lambda change: change[1]["left_at"] is None)
            job.update(visits, visit_changes)
            job.update(deals, deal_changes)
