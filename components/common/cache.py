"""The user's cache folder: ``$XDG_CACHE_HOME/ai4cop``, else ``~/.cache/ai4cop`` (the one place it is worked out)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/ai4cop`` or ``~/.cache/ai4cop``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ai4cop"
