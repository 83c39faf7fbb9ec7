"""The ``COMax`` gRPC servicer: a thin adapter over ``COMaxService``."""

from __future__ import annotations

from typing import Any

from components.comax.analysis import ProductResult, Summary
from components.comax.service import COMaxService
from components.common import contract
from components.common.errors import grpc_errors
from components.common.runs import run_of


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
    ``error`` in the reply. The reply's aggregate is the one of the caller's pipeline run, when it names one."""

    def __init__(self, service: COMaxService):
        self.service = service

    @grpc_errors
    def analyze(self, request: Any, context: Any) -> Any:
        query = self.service.query_for(request.aoi_wkt, request.query_start, request.query_end)
        result, summary = self.service.analyze(request.href, request.name or request.id, query, run_of(context))
        return result_proto(summary, result)
