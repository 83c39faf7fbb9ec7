"""The ``GeoStore`` gRPC servicer: a thin adapter over ``GeoStoreService``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from components.common import contract
from components.common.errors import grpc_errors
from components.geostore.geometry import counting_failures
from components.geostore.service import GeoStoreService


class GeoStoreServicer:
    """``load(RdfChunk) -> LoadResult`` and ``query(SparqlQuery) -> stream SparqlSolution``."""

    def __init__(self, service: GeoStoreService):
        self.service = service

    @grpc_errors
    def load(self, request: Any, context: Any) -> Any:
        report = self.service.load(request.data, request.rdf_format)
        return contract.messages().LoadResult(**report.to_dict())

    @grpc_errors
    def query(self, request: Any, context: Any) -> Iterator[Any]:
        messages = contract.messages()
        with counting_failures() as failures:
            for solution in self.service.solutions(request.query):
                bindings = [messages.SparqlBinding(variable=name, term=str(term)) for name, term in solution.items()]
                yield messages.SparqlSolution(bindings=bindings, unreadable_geometries=failures.count)
