"""The user's cache folder: ``$XDG_CACHE_HOME/ai4cop``, else ``~/.cache/ai4cop`` (the one place it is worked out)."""

from __future__ import annotations

import os
from pathlib import Path

from components.common.errors import FailedPrecondition


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/ai4cop`` or ``~/.cache/ai4cop``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ai4cop"


def unusable_cache(path: Path, err: OSError) -> FailedPrecondition:
    """The error for a path in the cache folder that cannot be written: why, and how to choose another folder."""
    origin = "from XDG_CACHE_HOME" if os.environ.get("XDG_CACHE_HOME") else "the default"
    return FailedPrecondition(f"cannot write {path}: {err.strerror or err} (the cache folder {cache_root()} is "
                              f"{origin}; set XDG_CACHE_HOME to a writable folder)")
