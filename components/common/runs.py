"""Which pipeline run a call belongs to: our orchestrator names every run in each call's metadata.

The platform's contract has no notion of a run, and its protos cannot change; gRPC metadata travels beside the
messages, so components that know the key (the broker starts its query over, the analyzer keeps results per
run) see where one run ends and the next begins, and components that do not simply ignore it.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

RUN_KEY = "ai4cop-run"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def new_run_id(label: str) -> str:
    """A unique id for a run, readable: its label (made metadata-safe, cut to 40 characters) and 12 hex digits."""
    readable = _UNSAFE.sub("-", label).strip("-")[:40] or "run"
    return f"{readable}.{uuid.uuid4().hex[:12]}"


def run_metadata(run_id: str) -> tuple[tuple[str, str], ...]:
    """The call metadata naming ``run_id``."""
    return ((RUN_KEY, run_id),)


def run_of(context: Any) -> str:
    """The run a gRPC call belongs to ('' when the caller does not say, e.g. the platform's own orchestrator)."""
    for key, value in context.invocation_metadata() or ():
        if key == RUN_KEY and isinstance(value, str):
            return value
    return ""
