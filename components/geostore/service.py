"""The GeoSPARQL store's transport-free API: load RDF, query, update; what the servicer, web and CLI call."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from components.common.errors import FailedPrecondition, InvalidInput, PermissionDenied
from components.geostore.settings import Settings
from components.geostore.store import Answer, GeoStore, StoreInputError


@dataclass(frozen=True)
class LoadReport:
    triples: int
    total_triples: int
    geometries: int
    unreadable_geometries: int

    def to_dict(self) -> dict[str, int]:
        return {"triples": self.triples, "total_triples": self.total_triples, "geometries": self.geometries,
                "unreadable_geometries": self.unreadable_geometries}


class GeoStoreService:
    """One store, opened once (RocksDB allows one process), shared by every transport."""

    def __init__(self, settings: Settings, store: GeoStore | None = None):
        self.settings = settings
        self.store = store or GeoStore(settings.data_folder, read_only=settings.read_only)

    def _writable(self) -> None:
        if self.settings.read_only:
            raise PermissionDenied("the store is read-only (GEOSTORE_READ_ONLY)")

    def load(self, data: bytes | str, rdf_format: str, graph: str | None = None,
             base_iri: str | None = None) -> LoadReport:
        """Add RDF in one transaction (all or nothing); bad RDF is ``InvalidInput`` naming the line."""
        self._writable()
        try:
            triples = self.store.load(data, rdf_format or "ntriples", graph or self.settings.default_graph,
                                      base_iri or None)
        except StoreInputError as err:
            raise InvalidInput(str(err)) from err
        return self.report(triples)

    def report(self, triples: int = 0) -> LoadReport:
        return LoadReport(triples, len(self.store), len(self.store.index), len(self.store.index.unreadable))

    def update(self, sparql: str) -> None:
        self._writable()
        if not sparql.strip():
            raise InvalidInput("update: empty SPARQL update")
        try:
            self.store.update(sparql)
        except StoreInputError as err:
            raise InvalidInput(str(err)) from err

    def query(self, sparql: str, result_format: str = "json", graph_format: str = "ntriples",
              use_index: bool = True) -> Answer:
        if not sparql.strip():
            raise InvalidInput("query: empty SPARQL query")
        try:
            return self.store.query(sparql, result_format, use_index=use_index, graph_format=graph_format,
                                    limit=self.settings.result_cap)
        except StoreInputError as err:
            raise InvalidInput(str(err)) from err

    def solutions(self, sparql: str) -> Iterator[dict[str, Any]]:
        if not sparql.strip():
            raise InvalidInput("query: empty SPARQL query")
        try:
            for i, solution in enumerate(self.store.solutions(sparql)):
                if i >= self.settings.result_cap:
                    raise FailedPrecondition(f"more than {self.settings.result_cap} solutions (GEOSTORE_RESULT_CAP)")
                yield solution
        except StoreInputError as err:
            raise InvalidInput(str(err)) from err

    def close(self) -> None:
        self.store.close()
