"""The ``Interlinking`` gRPC servicer: a thin adapter over ``InterlinkingService``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc

from components.common.contract import messages
from components.common.errors import InvalidInput, grpc_errors
from components.interlinking.engine import Summary
from components.interlinking.service import InterlinkingService, Job


def summary_proto(summary: Summary) -> Any:
    recall = summary.recall
    return messages().InterlinkSummary(
        source_features=summary.source_features, target_features=summary.target_features,
        candidates=summary.candidates, verified=summary.verified, interlinked=summary.interlinked,
        links=summary.links, seconds=summary.seconds, precision=summary.precision,
        recall=-1.0 if recall is None else recall, repaired=summary.repaired, dropped=summary.dropped,
        z_dropped=summary.z_dropped)


class InterlinkingServicer:
    """``interlink`` streams the links as ``RdfChunk``s (so they chain into a GeoSPARQL store like GeoTriples'
    output); ``summarize`` runs the same job and returns its summary only."""

    def __init__(self, service: InterlinkingService):
        self.service = service

    def _job(self, request: Any) -> Job:
        if request.distance_m < 0:
            raise InvalidInput(f"distance_m must be >= 0 metres, not {request.distance_m}")
        if request.qualifying < 0:
            raise InvalidInput(f"qualifying must be >= 0, not {request.qualifying}")
        return self.service.job(request.source, request.target, list(request.relations),
                                request.distance_m or None, request.format, request.base_iri, request.crs,
                                request.qualifying or None)

    @grpc_errors
    def interlink(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        job = self._job(request)
        for text, links in job.texts():
            yield messages().RdfChunk(data=text, rdf_format=job.fmt, triples=links)

    @grpc_errors
    def summarize(self, request: Any, context: grpc.ServicerContext) -> Any:
        job = self._job(request)
        for _ in job.texts():
            pass
        return summary_proto(job.summary)
