"""The GeoSPARQL store's settings (``GEOSTORE_*``): where the store lives, who may write, the query limits."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field

from components.common.settings import ComponentSettings, SecretStr, SettingsConfigDict


def default_data_folder() -> Path:
    """``$XDG_DATA_HOME/ai4cop/geostore`` (``~/.local/share/ai4cop/geostore`` without it)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ai4cop" / "geostore"


class Settings(ComponentSettings):
    """``GEOSTORE_*`` settings. Updates and loads over HTTP need ``GEOSTORE_USER``/``GEOSTORE_PASSWORD``
    (Basic auth, as Strabon); without a password they are refused there. Queries are open."""

    model_config = SettingsConfigDict(env_prefix="GEOSTORE_", extra="ignore", frozen=True, populate_by_name=True)

    data_folder: Path = Field(default_factory=default_data_folder)
    user: str = "geostore"
    password: SecretStr | None = None
    read_only: bool = False
    result_cap: int = Field(default=100_000, ge=1)
    default_graph: str | None = None
