"""The CO max analyzer component: wiring only (``Settings`` and ``build``)."""

from __future__ import annotations

from components.comax.service import COMaxService
from components.comax.servicer import COMaxServicer
from components.comax.settings import Settings
from components.common.contract import contract_pb2_grpc
from components.common.server import Component, ServiceBinding

__all__ = ["Settings", "build"]


def build(settings: Settings) -> Component:
    """The component: the COMax gRPC service and the REST API / page on the web port."""
    from components.comax.web import create_router_app

    service = COMaxService(settings)
    servicer = COMaxServicer(service)
    binding = ServiceBinding("COMax", lambda server: contract_pb2_grpc.add_COMaxServicer_to_server(servicer, server))
    return Component("comax", [binding], web_app=create_router_app(service.book), on_stop=[service.close])
