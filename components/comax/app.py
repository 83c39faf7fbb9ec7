"""The CO max analyzer component: settings, the service (core + aggregate), its gRPC servicer and ``build``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, ValidationInfo, field_validator

from components.comax.analysis import ProductResult, Query, Summary
from components.comax.report import analyze_product
from components.comax.results_folder import FolderStore
from components.comax.sources import SourceConfig, Sources
from components.comax.state import ResultBook
from components.common import contract
from components.common.aoi import parse_aoi, parse_time, parse_window
from components.common.errors import InvalidInput, grpc_errors
from components.common.server import Component, ServiceBinding
from components.common.settings import ComponentSettings, SecretStr, SettingsConfigDict

logger = logging.getLogger(__name__)


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
    s3_endpoint: str | None = None
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_region: str | None = None
    http_timeout: float = 30.0
    block_size: int = Field(default=64 * 1024, ge=4096)
    cache_bytes: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024)
    max_gap_bytes: int = Field(default=4 * 1024 * 1024, ge=0)
    max_requests: int = Field(default=16, ge=1, le=256)

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

    def source_config(self) -> SourceConfig:
        return SourceConfig(
            s3_endpoint=self.s3_endpoint,
            s3_access_key=self.s3_access_key.get_secret_value() if self.s3_access_key else None,
            s3_secret_key=self.s3_secret_key.get_secret_value() if self.s3_secret_key else None,
            s3_region=self.s3_region, http_timeout=self.http_timeout, block_size=self.block_size,
            cache_bytes=self.cache_bytes, max_gap_bytes=self.max_gap_bytes, max_requests=self.max_requests,
            data_folder=self.data_folder, restrict_local=True,
        )


class COMaxService:
    """Analyses products for the platform and keeps the aggregate; transport-free."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.sources = Sources(settings.source_config())
        self.book = ResultBook(FolderStore(settings.results_folder) if settings.results_folder else None)

    def query_for(self, aoi: str, start: str, end: str) -> Query:
        """The question for one product: its own AOI/window, else the configured defaults."""
        aoi = aoi or self.settings.aoi or ""
        if not aoi.strip():
            raise InvalidInput("the Product carries no aoi_wkt and no default AOI is set (COMAX_AOI)")
        if not (start or end):
            start, end = self.settings.start or "", self.settings.end or ""
        return Query.build(aoi, start or None, end or None, qa_min=self.settings.qa_min, pixel=self.settings.pixel)

    def analyze(self, href: str, name: str, query: Query) -> tuple[ProductResult, Summary]:
        """Analyse one product, record it, and return its result and the aggregate."""
        if not href:
            result = ProductResult(product=name or "(unnamed)", error="InvalidInput: the Product has no href")
        else:
            result = analyze_product(self.sources, href, query, name)
        return result, self.book.add(query, result)

    def close(self) -> None:
        self.sources.close()


def _product_proto(result: ProductResult) -> Any:
    return contract.messages().ProductResult(
        product=result.product, href=result.href, max_mol_m2=result.max_mol_m2 or 0.0,
        max_molecules_cm2=result.max_molecules_cm2 or 0.0, latitude=result.latitude or 0.0,
        longitude=result.longitude or 0.0, time=result.time or "", valid_pixels=result.valid_pixels,
        bytes_read=result.bytes_read, error=result.error or "",
    )


def result_proto(summary: Summary, result: ProductResult) -> Any:
    """The reply to one ``analyze``: the aggregate, with this product's result in ``products``."""
    data = summary.to_dict()
    return contract.messages().COMaxResult(
        max_mol_m2=data["max_mol_m2"] or 0.0, max_molecules_cm2=data["max_molecules_cm2"] or 0.0,
        latitude=data["latitude"] or 0.0, longitude=data["longitude"] or 0.0, time=data["time"] or "",
        product=data["product"] or "", valid_pixels=data["valid_pixels"], bytes_read=data["bytes_read"],
        error=result.error or "", products=[_product_proto(result)], aoi_wkt=summary.aoi_wkt,
        start=summary.start or "", end=summary.end or "", products_analyzed=data["products_analyzed"],
    )


class COMaxServicer:
    """``COMax.analyze(Product) -> COMaxResult``; a bad AOI is INVALID_ARGUMENT, an unreadable product an
    ``error`` in the reply."""

    def __init__(self, service: COMaxService):
        self.service = service

    @grpc_errors
    def analyze(self, request: Any, context: Any) -> Any:
        query = self.service.query_for(request.aoi_wkt, request.query_start, request.query_end)
        result, summary = self.service.analyze(request.href, request.name or request.id, query)
        return result_proto(summary, result)


def build(settings: Settings) -> Component:
    """The component: the COMax gRPC service and the REST API / page on the web port."""
    from components.comax.web import create_router_app

    service = COMaxService(settings)
    servicer = COMaxServicer(service)
    binding = ServiceBinding("COMax", lambda server: contract.services().add_COMaxServicer_to_server(servicer, server))
    return Component("comax", [binding], web_app=create_router_app(service.book), on_stop=[service.close])
