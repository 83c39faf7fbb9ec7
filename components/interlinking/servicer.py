"""The ``Interlinking`` gRPC servicer: a thin adapter over ``InterlinkingService``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import grpc

from components.common.contract import contract_pb2
from components.common.errors import InvalidInput, grpc_errors
from components.interlinking.engine import Summary
from components.interlinking.service import InterlinkingService, Job

if TYPE_CHECKING:
    # mypy checks the rpcs against the generated servicer; at run time a plain class, so importing compiles no proto
    from components.common.contract_pb2_grpc import InterlinkingServicer as _Generated
else:
    _Generated = object


def summary_proto(summary: Summary) -> contract_pb2.InterlinkSummary:
    recall = summary.recall
    return contract_pb2.InterlinkSummary(
        source_features=summary.source_features, target_features=summary.target_features,
        candidates=summary.candidates, verified=summary.verified, interlinked=summary.interlinked,
        links=summary.links, seconds=summary.seconds, precision=summary.precision,
        recall=-1.0 if recall is None else recall, repaired=summary.repaired, dropped=summary.dropped,
        z_dropped=summary.z_dropped)


class InterlinkingServicer(_Generated):
    """``interlink`` streams the links as ``RdfChunk``s (so they chain into a GeoSPARQL store like GeoTriples'
    output); ``summarize`` runs the same job and returns its summary only."""

    def __init__(self, service: InterlinkingService):
        self.service = service

    def _job(self, request: contract_pb2.InterlinkRequest) -> Job:
        if request.distance_m < 0:
            raise InvalidInput(f"distance_m must be >= 0 metres, not {request.distance_m}")
        if request.qualifying < 0:
            raise InvalidInput(f"qualifying must be >= 0, not {request.qualifying}")
        return self.service.job(request.source, request.target, list(request.relations),
                                request.distance_m or None, request.format, request.base_iri, request.crs,
                                request.qualifying or None)

    @grpc_errors
    def interlink(self, request: contract_pb2.InterlinkRequest,
                  context: grpc.ServicerContext) -> Iterator[contract_pb2.RdfChunk]:
        job = self._job(request)
        for text, links in job.texts():
            yield contract_pb2.RdfChunk(data=text, rdf_format=job.fmt, triples=links)

    @grpc_errors
    def summarize(self, request: contract_pb2.InterlinkRequest,
                  context: grpc.ServicerContext) -> contract_pb2.InterlinkSummary:
        job = self._job(request)
        for _ in job.texts():
            pass
        return summary_proto(job.summary)
