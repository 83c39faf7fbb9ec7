"""The GeoSPARQL store component: wiring only (``Settings`` and ``build``)."""

from __future__ import annotations

from components.common.contract import contract_pb2_grpc
from components.common.server import Component, ServiceBinding
from components.geostore.service import GeoStoreService
from components.geostore.servicer import GeoStoreServicer
from components.geostore.settings import Settings

__all__ = ["Settings", "build"]


def build(settings: Settings) -> Component:
    """The component: the GeoStore gRPC service, and on the web port the SPARQL endpoints and the page."""
    from components.geostore.web import create_router_app

    service = GeoStoreService(settings)
    servicer = GeoStoreServicer(service)
    binding = ServiceBinding("GeoStore",
                             lambda server: contract_pb2_grpc.add_GeoStoreServicer_to_server(servicer, server))
    return Component("geostore", [binding], web_app=create_router_app(service), on_stop=[service.close])
