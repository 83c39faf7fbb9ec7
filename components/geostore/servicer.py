"""The ``GeoStore`` gRPC servicer: a thin adapter over ``GeoStoreService``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from components.common.contract import contract_pb2
from components.common.errors import grpc_errors
from components.geostore.geometry import counting_failures
from components.geostore.service import GeoStoreService

if TYPE_CHECKING:
    # mypy checks the rpcs against the generated servicer; at run time a plain class
    from components.common.contract_pb2_grpc import GeoStoreServicer as _Generated
else:
    _Generated = object


class GeoStoreServicer(_Generated):
    """``load(RdfChunk) -> LoadResult`` and ``query(SparqlQuery) -> stream SparqlSolution``."""

    def __init__(self, service: GeoStoreService):
        self.service = service

    @grpc_errors
    def load(self, request: Any, context: Any) -> Any:
        report = self.service.load(request.data, request.rdf_format)
        return contract_pb2.LoadResult(**report.to_dict())

    @grpc_errors
    def query(self, request: Any, context: Any) -> Iterator[Any]:
        messages = contract_pb2
        with counting_failures() as failures:
            for solution in self.service.solutions(request.query):
                bindings = [messages.SparqlBinding(variable=name, term=str(term)) for name, term in solution.items()]
                yield messages.SparqlSolution(bindings=bindings, unreadable_geometries=failures.count)
