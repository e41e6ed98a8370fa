"""The misfit checklist: "is this a fit?" answered against the traits of bad-fit customers
(with why each hurts and who feels the pain) and the potential-for-success boxes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from playbook.config import Playbook, localized
from playbook.rules import evaluate, explain

VERDICTS = ("fit", "misfit", "unclear")


@dataclass(frozen=True)
class FitAssessment:
    verdict: str
    matched_traits: list[dict[str, Any]]
    unknown_traits: list[dict[str, Any]]
    clear_traits: list[dict[str, Any]]
    boxes: list[dict[str, Any]]
    reasons: list[str]  # codes explaining an "unclear" verdict

    @property
    def success_boxes(self) -> dict[str, int]:
        filled = sum(1 for b in self.boxes if b["filled"])
        return {"total": len(self.boxes), "filled": filled, "empty": len(self.boxes) - filled}


def misfit_traits(facts: Mapping[str, Any], playbook: Playbook, answers: Mapping[tuple[str, str], bool],
                  language: str) -> tuple[list, list, list]:
    """Each trait is matched, clear or unknown. Account data decides when present; a rep's
    checklist answer decides when the data is missing."""
    matched, unknown, clear = [], [], []
    for trait in playbook.traits:
        result = evaluate(trait.rule, facts)
        source = "data" if result is not None else None
        if result is None and ("trait", trait.id) in answers:
            result, source = answers[("trait", trait.id)], "answer"
        item = {
            "id": trait.id,
            "label": localized(trait.label, language),
            "why": localized(trait.why, language),
            "who_feels_pain": list(localized(trait.who_feels_pain, language)),
            "severity": trait.severity,
            "rule": trait.rule_text,
            "evidence": explain(trait.rule, facts),
            "decided_by": source,
        }
        (matched if result is True else unknown if result is None else clear).append(item)
    return matched, unknown, clear


def success_boxes(facts: Mapping[str, Any], playbook: Playbook, answers: Mapping[tuple[str, str], bool],
                  language: str) -> list[dict[str, Any]]:
    boxes = []
    for box in playbook.success_boxes:
        if ("box", box.id) in answers:
            filled, source = answers[("box", box.id)], "answer"
        elif box.filled_when is not None and evaluate(box.filled_when, facts) is True:
            filled, source = True, "data"
        else:
            filled, source = False, None
        boxes.append({"id": box.id, "label": localized(box.label, language), "filled": filled, "decided_by": source})
    return boxes


def assess_fit(facts: Mapping[str, Any], playbook: Playbook, answers: Mapping[tuple[str, str], bool] | None = None,
               language: str = "en") -> FitAssessment:
    answers = answers or {}
    matched, unknown, clear = misfit_traits(facts, playbook, answers, language)
    boxes = success_boxes(facts, playbook, answers, language)
    empty = sum(1 for b in boxes if not b["filled"])
    reasons = []
    if any(t["severity"] == "blocking" for t in matched):
        verdict = "misfit"
    else:
        if any(t["severity"] == "warning" for t in matched):
            reasons.append("warning_traits")
        if any(t["severity"] == "blocking" for t in unknown):
            reasons.append("unknown_blocking_traits")
        if empty > playbook.max_empty_boxes:
            reasons.append("empty_boxes")
        verdict = "unclear" if reasons else "fit"
    return FitAssessment(verdict=verdict, matched_traits=matched, unknown_traits=unknown, clear_traits=clear,
                         boxes=boxes, reasons=reasons)
