"""The GeoTriples adapter as a platform component: settings, the gRPC servicer, ``build``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
from pydantic import AliasChoices, Field, field_validator

from components.common.contract import messages, services
from components.common.errors import grpc_errors
from components.common.server import Component, ServiceBinding
from components.common.settings import ComponentSettings, SettingsConfigDict

logger = logging.getLogger(__name__)


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


class GeoTriplesServicer:
    """``GeoTriples`` rpcs: thin adapters over ``service.py`` and ``messages.py``."""

    def __init__(self, settings: Settings):
        self.settings = settings

    @grpc_errors
    def convert(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        from components.geotriples_adapter.gcpolicy import fewer_collections
        from components.geotriples_adapter.service import Request, conversion_for, counted_chunks

        fields = {name: getattr(request, name) for name in Request.__dataclass_fields__}
        with fewer_collections(), conversion_for(Request(**fields), self.settings.shared_folder,
                                                 self.settings.base_iri, self.settings.rdf_format,
                                                 self.settings.chunk_features) as conversion:
            for text, triples, skipped in counted_chunks(conversion):
                yield messages().RdfChunk(data=text, rdf_format=conversion.rdf_format, triples=triples,
                                          skipped=skipped)
            logger.info("convert: %d triples, %d features skipped", conversion.stats.triples,
                        conversion.stats.skipped)

    @grpc_errors
    def product_to_rdf(self, request: Any, context: grpc.ServicerContext) -> Any:
        from components.geotriples_adapter.messages import product_quads

        return self._chunk(product_quads(request, self.settings.base_iri))

    @grpc_errors
    def comax_to_rdf(self, request: Any, context: grpc.ServicerContext) -> Any:
        from components.geotriples_adapter.messages import comax_quads

        return self._chunk(comax_quads(request, self.settings.base_iri))

    def _chunk(self, quads: list[Any]) -> Any:
        from components.geotriples_adapter.writers import normalise_format, serialise

        fmt = normalise_format(self.settings.rdf_format)
        return messages().RdfChunk(data="".join(serialise([quads], fmt)), rdf_format=fmt, triples=len(quads))


def build(settings: Settings) -> Component:
    """The component: the ``GeoTriples`` gRPC service."""
    servicer = GeoTriplesServicer(settings)
    binding = ServiceBinding("GeoTriples", lambda server: services().add_GeoTriplesServicer_to_server(servicer,
                                                                                                      server))
    return Component("geotriples", [binding])
