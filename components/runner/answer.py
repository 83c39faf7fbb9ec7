"""What ``ai4cop run`` prints: each result step's last output, our analyzer's in the demo's words."""

from __future__ import annotations

import json
from typing import Any

from components.common.errors import InvalidInput
from components.common.registry import component_for_image
from components.orchestrator.engine import Run
from components.runner.demo import format_result


def analyzer_aggregate(reply: dict[str, Any]) -> dict[str, Any]:
    """A ``COMaxResult`` reply as the analyzer's aggregate (the ``ai4cop comax --json`` fields).

    proto3 has no null: a reply without a valid pixel carries zeros and an empty product name, which the
    aggregate says with ``None``.
    """
    found = bool(reply.get("product"))
    aggregate = dict(reply)
    for key in ("max_mol_m2", "max_molecules_cm2", "latitude", "longitude", "time", "product"):
        if not found:
            aggregate[key] = None
    for key in ("start", "end"):
        aggregate[key] = reply.get(key) or None
    return aggregate


def _component(image: str) -> str:
    try:
        return component_for_image(image)
    except InvalidInput:
        return ""


def format_answer(run: Run, results: dict[str, dict[str, Any]]) -> str:
    """The run's results for a reader: the analyzer's as ``ai4cop demo`` prints it, any other as JSON; the
    result steps that produced nothing are named."""
    parts = []
    for step in run.plan.last_steps():
        result = results.get(step.label)
        if result is None:
            parts.append(f"{step.label}: no result ({run.calls[step.key]} calls)")
        elif _component(step.image) == "comax":
            parts.append(format_result(analyzer_aggregate(result)))
        else:
            parts.append(f"{step.label}: {json.dumps(result, indent=2)}")
    return "\n".join(parts)
