"""The ``GeoTriples`` gRPC servicer: thin adapters over ``service.py`` and ``messages.py``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import grpc

from components.common.contract import contract_pb2
from components.common.errors import grpc_errors
from components.geotriples_adapter.settings import Settings

if TYPE_CHECKING:
    # mypy checks the rpcs against the generated servicer; at run time a plain class, so importing compiles no proto
    from components.common.contract_pb2_grpc import GeoTriplesServicer as _Generated
    from components.geotriples_adapter.emit import Quad
else:
    _Generated = object

logger = logging.getLogger(__name__)


class GeoTriplesServicer(_Generated):
    """``GeoTriples`` rpcs: thin adapters over ``service.py`` and ``messages.py``."""

    def __init__(self, settings: Settings):
        self.settings = settings

    @grpc_errors
    def convert(self, request: contract_pb2.GeoData,
                context: grpc.ServicerContext) -> Iterator[contract_pb2.RdfChunk]:
        from components.geotriples_adapter.gcpolicy import fewer_collections
        from components.geotriples_adapter.service import Request, conversion_for, counted_chunks

        fields = {name: getattr(request, name) for name in Request.__dataclass_fields__}
        with fewer_collections(), conversion_for(Request(**fields), self.settings.shared_folder,
                                                 self.settings.base_iri, self.settings.rdf_format,
                                                 self.settings.chunk_features) as conversion:
            for text, triples, skipped in counted_chunks(conversion):
                yield contract_pb2.RdfChunk(data=text, rdf_format=conversion.rdf_format, triples=triples,
                                            skipped=skipped)
            logger.info("convert: %d triples, %d features skipped", conversion.stats.triples,
                        conversion.stats.skipped)

    @grpc_errors
    def product_to_rdf(self, request: contract_pb2.Product, context: grpc.ServicerContext) -> contract_pb2.RdfChunk:
        from components.geotriples_adapter.messages import product_quads

        return self._chunk(product_quads(request, self.settings.base_iri))

    @grpc_errors
    def comax_to_rdf(self, request: contract_pb2.COMaxResult,
                     context: grpc.ServicerContext) -> contract_pb2.RdfChunk:
        from components.geotriples_adapter.messages import comax_quads

        return self._chunk(comax_quads(request, self.settings.base_iri))

    def _chunk(self, quads: list[Quad]) -> contract_pb2.RdfChunk:
        from components.geotriples_adapter.writers import normalise_format, serialise

        fmt = normalise_format(self.settings.rdf_format)
        return contract_pb2.RdfChunk(data="".join(serialise([quads], fmt)), rdf_format=fmt, triples=len(quads))
