"""Build a catalogue backend by name from one small configuration object."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from components.common.errors import InvalidInput
from components.databroker.catalogues.base import Catalogue
from components.databroker.http import Credentials, HttpPolicy, JsonHttp


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

    def credentials(self, url: str) -> Credentials | None:
        """The ``Authorization`` to send to ``url``'s origin only: the bearer token, else basic auth, else none."""
        if self.token:
            return Credentials(url, {"Authorization": f"Bearer {self.token}"})
        if self.username:
            pair = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
            return Credentials(url, {"Authorization": f"Basic {pair}"})
        return None


def _local(config: CatalogueConfig) -> Catalogue:
    from components.databroker.catalogues.local import LocalCatalogue

    if config.folder is None:
        raise InvalidInput("the local catalogue needs a folder (--dir / DATABROKER_DIR)")
    return LocalCatalogue(config.folder, cache_dir=config.cache_dir)


def _stac(config: CatalogueConfig) -> Catalogue:
    from components.databroker.catalogues import stac

    url = config.url or stac.DEFAULT_URL
    return stac.StacCatalogue(url, config.policy, config.credentials(url))


def _cdse(config: CatalogueConfig) -> Catalogue:
    from components.databroker.catalogues import cdse

    url = config.url or cdse.DEFAULT_URL
    return cdse.CdseCatalogue(JsonHttp(config.policy, config.credentials(url)), url)


def _opensearch(config: CatalogueConfig) -> Catalogue:
    from components.databroker.catalogues import opensearch

    url = config.url or opensearch.DEFAULT_URL
    return opensearch.OpenSearchCatalogue(JsonHttp(config.policy, config.credentials(url)), url)


# The catalogue backends by name: each opener imports its backend only when used.
OPENERS: dict[str, Callable[[CatalogueConfig], Catalogue]] = {
    "cdse": _cdse,
    "opensearch": _opensearch,
    "stac": _stac,
    "local": _local,
}
CATALOGUES = tuple(OPENERS)
# Backends that read files, not a URL.
FOLDER_CATALOGUES = frozenset({"local"})


def check_catalogue(name: str) -> str:
    """``name`` when it is a known catalogue; ``InvalidInput`` listing the known ones otherwise."""
    if name not in OPENERS:
        raise InvalidInput(f"unknown catalogue {name!r}; known: {', '.join(CATALOGUES)}")
    return name


def open_catalogue(config: CatalogueConfig) -> Catalogue:
    """The backend ``config.name`` names (``InvalidInput`` for an unknown one or a missing folder/URL)."""
    name = check_catalogue(config.name)
    if config.url and not config.url.startswith(("http://", "https://")) and name not in FOLDER_CATALOGUES:
        raise InvalidInput(f"catalogue URL must be http(s)://..., got {config.url!r}")
    return OPENERS[name](config)
