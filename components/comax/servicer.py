"""The ``COMax`` gRPC servicer: a thin adapter over ``COMaxService``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc

from components.comax.analysis import ProductResult, Summary
from components.comax.service import COMaxService
from components.common.contract import contract_pb2
from components.common.errors import grpc_errors
from components.common.runs import run_of

if TYPE_CHECKING:
    # mypy checks the rpcs against the generated servicer; at run time a plain class, so importing compiles no proto
    from components.common.contract_pb2_grpc import COMaxServicer as _Generated
else:
    _Generated = object


def _product_proto(result: ProductResult) -> contract_pb2.ProductResult:
    return contract_pb2.ProductResult(
        product=result.product, href=result.href, max_mol_m2=result.max_mol_m2 or 0.0,
        max_molecules_cm2=result.max_molecules_cm2 or 0.0, latitude=result.latitude or 0.0,
        longitude=result.longitude or 0.0, time=result.time or "", valid_pixels=result.valid_pixels,
        bytes_read=result.bytes_read, error=result.error or "",
    )


def result_proto(summary: Summary, result: ProductResult) -> contract_pb2.COMaxResult:
    """The reply to one ``analyze``: the aggregate, with this product's result in ``products``."""
    data = summary.to_dict()
    return contract_pb2.COMaxResult(
        max_mol_m2=data["max_mol_m2"] or 0.0, max_molecules_cm2=data["max_molecules_cm2"] or 0.0,
        latitude=data["latitude"] or 0.0, longitude=data["longitude"] or 0.0, time=data["time"] or "",
        product=data["product"] or "", valid_pixels=data["valid_pixels"], bytes_read=data["bytes_read"],
        error=result.error or "", products=[_product_proto(result)], aoi_wkt=summary.aoi_wkt,
        start=summary.start or "", end=summary.end or "", products_analyzed=data["products_analyzed"],
    )


class COMaxServicer(_Generated):
    """``COMax.analyze(Product) -> COMaxResult``; a bad AOI is INVALID_ARGUMENT, an unreadable product an
    ``error`` in the reply. The reply's aggregate is the one of the caller's pipeline run, when it names one."""

    def __init__(self, service: COMaxService):
        self.service = service

    @grpc_errors
    def analyze(self, request: contract_pb2.Product, context: grpc.ServicerContext) -> contract_pb2.COMaxResult:
        query = self.service.query_for(request.aoi_wkt, request.query_start, request.query_end)
        result, summary = self.service.analyze(request.href, request.name or request.id, query, run_of(context))
        return result_proto(summary, result)
