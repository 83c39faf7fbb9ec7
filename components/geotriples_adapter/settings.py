"""The GeoTriples adapter's settings (``GEOTRIPLES_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, field_validator

from components.common.settings import ComponentSettings, SettingsConfigDict


class Settings(ComponentSettings):
    """``GEOTRIPLES_*`` settings; the shared folder defaults to the platform's ``SHARED_FOLDER_PATH``."""

    model_config = SettingsConfigDict(env_prefix="GEOTRIPLES_", extra="ignore", frozen=True)

    shared_folder: Path = Field(default=Path("/data/shared"),
                                validation_alias=AliasChoices("GEOTRIPLES_SHARED_FOLDER", "SHARED_FOLDER_PATH",
                                                              "shared_folder"))
    chunk_features: int = Field(default=2000, ge=1, le=1_000_000)
    base_iri: str = "http://example.com"
    rdf_format: str = "ntriples"

    @field_validator("base_iri")
    @classmethod
    def _absolute_iri(cls, value: str) -> str:
        from components.common.errors import InvalidInput
        from components.geotriples_adapter.mapgen import check_base_iri

        try:
            check_base_iri(value)
        except InvalidInput as err:  # a ValueError is what pydantic reports with the variable's name
            raise ValueError(str(err)) from err
        return value
