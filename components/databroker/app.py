"""The data broker component: ``Settings`` from ``DATABROKER_*`` and ``build(settings)``."""

from __future__ import annotations

import functools

from components.common.server import Component, ServiceBinding
from components.databroker.catalogues import open_catalogue
from components.databroker.service import ProductSource
from components.databroker.servicer import DataBrokerServicer
from components.databroker.settings import Settings
from components.databroker.web import create_app

__all__ = ["Settings", "build"]


def build(settings: Settings) -> Component:
    """Validate the configuration (``InvalidInput`` if wrong) and wire source, gRPC servicer and web app."""
    config = settings.catalogue_config()
    open_catalogue(config).close()  # fails early on an unknown catalogue or a bad URL
    source = ProductSource(functools.partial(open_catalogue, config), settings.query(),
                           rerun_after=settings.rerun_after_seconds)
    servicer = DataBrokerServicer(source, config)
    binding = ServiceBinding("DataBroker", servicer.register)
    return Component("databroker", [binding], web_app=create_app(source, config), on_stop=[source.close])
