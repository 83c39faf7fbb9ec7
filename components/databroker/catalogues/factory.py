"""Build a catalogue backend by name from one small configuration object."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from components.common.errors import InvalidInput
from components.databroker.catalogues.base import Catalogue
from components.databroker.http import HttpPolicy, JsonHttp
from components.databroker.query import check_catalogue


@dataclass(frozen=True)
class CatalogueConfig:
    """Where and how to reach a catalogue. ``token``/``password`` are secrets: never logged (repr hides them)."""

    name: str = "local"
    url: str = ""
    folder: Path | None = None
    cache_dir: Path | None = None
    policy: HttpPolicy = field(default_factory=HttpPolicy)
    token: str = field(default="", repr=False)
    username: str = ""
    password: str = field(default="", repr=False)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def auth(self) -> tuple[str, str] | None:
        return (self.username, self.password) if self.username else None


def open_catalogue(config: CatalogueConfig) -> Catalogue:
    """The backend ``config.name`` names (``InvalidInput`` for an unknown one or a missing folder/URL)."""
    name = check_catalogue(config.name)
    if config.url and not config.url.startswith(("http://", "https://")) and name != "local":
        raise InvalidInput(f"catalogue URL must be http(s)://..., got {config.url!r}")
    if name == "local":
        from components.databroker.catalogues.local import LocalCatalogue

        if config.folder is None:
            raise InvalidInput("the local catalogue needs a folder (--dir / DATABROKER_DIR)")
        return LocalCatalogue(config.folder, cache_dir=config.cache_dir)
    if name == "stac":
        from components.databroker.catalogues.stac import StacCatalogue

        return StacCatalogue(config.url, config.policy, config.headers())
    http = JsonHttp(config.policy, headers=config.headers(), auth=config.auth())
    if name == "cdse":
        from components.databroker.catalogues.cdse import CdseCatalogue

        return CdseCatalogue(http, config.url)
    from components.databroker.catalogues.opensearch import OpenSearchCatalogue

    return OpenSearchCatalogue(http, config.url)
