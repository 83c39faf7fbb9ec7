"""The orchestrator component: wiring only (``Settings`` and ``build``)."""

from __future__ import annotations

from components.common.server import Component
from components.orchestrator.service import Orchestrator
from components.orchestrator.servicer import binding
from components.orchestrator.settings import Settings

__all__ = ["Settings", "build"]


def build(settings: Settings) -> Component:
    """The orchestrator's gRPC service (no extra HTTP routes beyond ``/healthz``)."""
    orchestrator = Orchestrator(settings.run_options())
    return Component("orchestrator", [binding(orchestrator)], on_stop=[orchestrator.close])
