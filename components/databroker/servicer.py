"""The ``DataBroker`` gRPC servicer: a thin adapter over ``ProductSource`` and the catalogues."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING

import grpc

from components.common.aoi import isoformat
from components.common.contract import contract_pb2, contract_pb2_grpc
from components.common.errors import grpc_errors
from components.common.runs import run_of
from components.databroker.catalogues import CatalogueConfig, check_catalogue, open_catalogue
from components.databroker.query import ProductRecord, Query, build_query
from components.databroker.service import ProductSource

if TYPE_CHECKING:
    # mypy checks the rpcs against the generated servicer; at run time a plain class, so importing compiles no proto
    from components.common.contract_pb2_grpc import DataBrokerServicer as _Generated
else:
    _Generated = object


def to_message(record: ProductRecord, query: Query) -> contract_pb2.Product:
    """The contract's ``Product`` for a record, carrying the query's AOI and window."""
    return contract_pb2.Product(
        id=record.id, name=record.name, href=record.href, start=isoformat(record.start), end=isoformat(record.end),
        footprint_wkt=record.footprint_wkt, size_bytes=record.size_bytes, product_type=record.product_type,
        collection=record.collection, checksum=record.checksum, catalogue=record.catalogue,
        aoi_wkt=query.aoi_wkt, query_start=isoformat(query.start), query_end=isoformat(query.end),
    )


def resolve_search(request: contract_pb2.SearchQuery, config: CatalogueConfig,
                   defaults: Query) -> tuple[CatalogueConfig, Query]:
    """Catalogue and query of a ``SearchQuery``; empty fields take the configured values.

    Credentials go only to the configured catalogue: a request naming another catalogue or URL
    is searched anonymously.
    """
    name = check_catalogue(request.catalogue or config.name)
    url = request.url or (config.url if name == config.name else "")
    if (name, url) != (config.name, config.url):
        config = dataclasses.replace(config, name=name, url=url, token="", username="", password="")
    query = build_query(
        aoi=request.aoi_wkt or defaults.aoi_wkt, start=request.start or defaults.start.isoformat(),
        end=request.end or defaults.end.isoformat(), collection=request.collection or defaults.collection,
        product_type=request.product_type or defaults.product_type,
        processing_mode=request.processing_mode or defaults.processing_mode, limit=request.limit,
    )
    return config, query


class DataBrokerServicer(_Generated):
    """``next_product``: the configured query, one product per call; ``search``: a query from upstream.

    At run time a plain class, not a subclass of the generated servicer (which would compile the contract at
    import): ``add_DataBrokerServicer_to_server`` needs only the two methods, and ``register`` adds them.
    """

    def __init__(self, source: ProductSource, config: CatalogueConfig):
        self.source = source
        self.config = config

    def register(self, server: grpc.Server) -> None:
        """Serve this servicer's rpcs on ``server``."""
        contract_pb2_grpc.add_DataBrokerServicer_to_server(self, server)

    @grpc_errors
    def next_product(self, request: contract_pb2.Empty, context: grpc.ServicerContext) -> contract_pb2.Product:
        return to_message(*self.source.next(run_of(context)))

    @grpc_errors
    def search(self, request: contract_pb2.SearchQuery,
               context: grpc.ServicerContext) -> Iterator[contract_pb2.Product]:
        config, query = resolve_search(request, self.config, self.source.query)
        catalogue = open_catalogue(config)
        try:
            for record in catalogue.search(query):
                if not context.is_active():
                    return
                yield to_message(record, query)
        finally:
            catalogue.close()
