"""The CO max analyzer's settings (``COMAX_*``): the default question, the data folders and S3 access.

``COMAX_PROVIDER`` (``cdse``, ``creodias``) presets the S3 endpoint, region and the archive's limits; any of
them set explicitly wins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationInfo, field_validator

from components.comax.sources import SourceConfig
from components.common.aoi import parse_aoi, parse_time, parse_window
from components.common.errors import InvalidInput
from components.common.providers import provider
from components.common.settings import ComponentSettings, SecretStr, SettingsConfigDict


class Settings(ComponentSettings):
    """``COMAX_*`` settings. Folders default to the platform's shared folder (``SHARED_FOLDER_PATH``)."""

    model_config = SettingsConfigDict(env_prefix="COMAX_", extra="ignore", frozen=True, populate_by_name=True)

    results_folder: Path | None = Field(
        default=None, validation_alias=AliasChoices("COMAX_RESULTS_FOLDER", "SHARED_FOLDER_PATH", "results_folder"))
    data_folder: Path | None = Field(
        default=None, validation_alias=AliasChoices("COMAX_DATA_FOLDER", "SHARED_FOLDER_PATH", "data_folder"))
    qa_min: float = Field(default=0.5, ge=0.0, le=1.0)
    pixel: Literal["centre", "footprint"] = "centre"
    aoi: str | None = None
    start: str | None = None
    end: str | None = None
    provider: str = ""
    s3_endpoint: str | None = None
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_region: str | None = None
    s3_anonymous: bool = False
    s3_max_connections: int | None = Field(default=None, ge=0)
    s3_requests_per_minute: int | None = Field(default=None, ge=0)
    s3_retries: int = Field(default=4, ge=0, le=20)
    s3_backoff_seconds: float = Field(default=0.5, ge=0.0)
    http_timeout: float = 30.0
    block_size: int = Field(default=64 * 1024, ge=4096)
    cache_bytes: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024)
    max_gap_bytes: int = Field(default=4 * 1024 * 1024, ge=0)
    max_requests: int = Field(default=16, ge=1, le=256)
    keep_runs: int = Field(default=20, ge=1)  # results of the most recent pipeline runs kept

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        if value.strip():
            try:
                return provider(value).name
            except InvalidInput as err:
                raise ValueError(str(err)) from err
        return ""

    @field_validator("aoi")
    @classmethod
    def _valid_aoi(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            try:
                parse_aoi(value)
            except InvalidInput as err:
                raise ValueError(str(err)) from err
        return value

    @field_validator("start", "end")
    @classmethod
    def _valid_time(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and value.strip():
            start = info.data.get("start") if info.field_name == "end" else None
            try:
                if start and start.strip():
                    parse_window(start, value)
                else:
                    parse_time(value, str(info.field_name))
            except InvalidInput as err:
                raise ValueError(str(err)) from err
        return value

    def source_config(self, restrict_local: bool = True) -> SourceConfig:
        """How to reach sources; ``restrict_local``: local paths only inside the data folder (the served
        component), not for the command line, which reads what its user may read."""
        preset = provider(self.provider) if self.provider else None
        return SourceConfig(
            s3_endpoint=self.s3_endpoint or (preset.s3_endpoint if preset else None),
            s3_access_key=self.s3_access_key.get_secret_value() if self.s3_access_key else None,
            s3_secret_key=self.s3_secret_key.get_secret_value() if self.s3_secret_key else None,
            s3_region=self.s3_region or (preset.s3_region if preset else None), s3_anonymous=self.s3_anonymous,
            s3_max_connections=_first(self.s3_max_connections, preset.s3_max_connections if preset else 0),
            s3_requests_per_minute=_first(self.s3_requests_per_minute,
                                          preset.s3_requests_per_minute if preset else 0),
            s3_retries=self.s3_retries, s3_backoff_s=self.s3_backoff_seconds, http_timeout=self.http_timeout,
            block_size=self.block_size, cache_bytes=self.cache_bytes, max_gap_bytes=self.max_gap_bytes,
            max_requests=self.max_requests, data_folder=self.data_folder, restrict_local=restrict_local,
        )


def _first(value: int | None, default: int) -> int:
    return default if value is None else value
