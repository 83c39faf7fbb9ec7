"""The data broker's settings (env prefix ``DATABROKER_``), and what they mean for catalogue and query."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, field_validator

from components.common.cache import cache_root
from components.common.errors import InvalidInput
from components.common.providers import provider
from components.common.settings import ComponentSettings, SecretStr, SettingsConfigDict
from components.databroker.catalogues import CatalogueConfig
from components.databroker.catalogues.factory import FOLDER_CATALOGUES
from components.databroker.http import HttpPolicy
from components.databroker.query import DEFAULT_COLLECTION, DEFAULT_PRODUCT_TYPE, Query, build_query


class Settings(ComponentSettings):
    """Catalogue, the source query, HTTP behaviour and credentials; secrets are ``SecretStr``."""

    model_config = SettingsConfigDict(env_prefix="DATABROKER_", extra="ignore", frozen=True,
                                      populate_by_name=True)

    catalogue: str = ""
    provider: str = ""
    url: str = ""
    dir: Path | None = None
    shared_folder_path: Path | None = Field(
        None, validation_alias=AliasChoices("shared_folder_path", "SHARED_FOLDER_PATH"))
    cache_dir: Path | None = None
    collection: str = DEFAULT_COLLECTION
    product_type: str = DEFAULT_PRODUCT_TYPE
    processing_mode: str = ""
    aoi: str = ""
    start: str = ""
    end: str = ""
    limit: int = 0
    timeout_seconds: float = 30.0
    retries: int = 4
    backoff_cap_seconds: float = 30.0
    # an exhausted source starts over on a call this long after the previous one, when the call names no run
    rerun_after_seconds: float = Field(5.0, ge=0)
    token: SecretStr | None = None
    username: str = ""
    password: SecretStr | None = None

    def product_dir(self) -> Path:
        """``dir``, else ``$SHARED_FOLDER_PATH/s5p`` (the platform's shared volume), else the user cache's
        ``s5p-co`` (``$XDG_CACHE_HOME/ai4cop/s5p-co``, default ``~/.cache/ai4cop/s5p-co``)."""
        if self.dir is not None:
            return self.dir
        if self.shared_folder_path is not None:
            return self.shared_folder_path / "s5p"
        return cache_root() / "s5p-co"

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        if value.strip():
            try:
                return provider(value).name
            except InvalidInput as err:
                raise ValueError(str(err)) from err
        return ""

    def catalogue_name(self) -> str:
        """``catalogue``; unset, the provider's OData catalogue (``cdse``) or, without a provider, ``local``."""
        return self.catalogue or ("cdse" if self.provider else "local")

    def catalogue_url(self) -> str:
        """``url``; unset, the provider's URL for the catalogue (empty: the backend's own default; a folder
        catalogue has none)."""
        name = self.catalogue_name()
        if self.url or not self.provider or name in FOLDER_CATALOGUES:
            return self.url
        return provider(self.provider).catalogues[name]

    def catalogue_config(self) -> CatalogueConfig:
        return CatalogueConfig(
            name=self.catalogue_name(), url=self.catalogue_url(), folder=self.product_dir(),
            cache_dir=self.cache_dir,
            policy=HttpPolicy(timeout=self.timeout_seconds, retries=self.retries,
                              backoff_cap=self.backoff_cap_seconds),
            token=self.token.get_secret_value() if self.token else "", username=self.username,
            password=self.password.get_secret_value() if self.password else "",
        )

    def query(self) -> Query:
        return build_query(aoi=self.aoi, start=self.start, end=self.end, collection=self.collection,
                           product_type=self.product_type, processing_mode=self.processing_mode,
                           limit=self.limit)
