"""The interlinking's settings (``INTERLINKING_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, field_validator

from components.common.settings import ComponentSettings, SettingsConfigDict


class Settings(ComponentSettings):
    """``INTERLINKING_*`` settings; the shared folder defaults to the platform's ``SHARED_FOLDER_PATH``."""

    model_config = SettingsConfigDict(env_prefix="INTERLINKING_", extra="ignore", frozen=True)

    shared_folder: Path = Field(default=Path("/data/shared"),
                                validation_alias=AliasChoices("INTERLINKING_SHARED_FOLDER", "SHARED_FOLDER_PATH",
                                                              "shared_folder"))
    base_iri: str = "http://example.com"
    crs: str = "EPSG:4326"
    chunk_features: int = Field(default=10_000, ge=1, le=1_000_000)

    @field_validator("crs")
    @classmethod
    def _known_crs(cls, value: str) -> str:
        from components.common.errors import InvalidInput
        from components.interlinking.datasets import check_crs

        try:
            return check_crs(value, "crs")
        except InvalidInput as err:  # a ValueError is what pydantic reports with the variable's name
            raise ValueError(str(err)) from err
