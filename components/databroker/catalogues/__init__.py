"""Catalogue backends behind one interface: ``open_catalogue(name, ...)`` returns a ``Catalogue``."""

from __future__ import annotations

from components.databroker.catalogues.base import Catalogue, PagedCatalogue
from components.databroker.catalogues.factory import CatalogueConfig, open_catalogue

__all__ = ["Catalogue", "CatalogueConfig", "PagedCatalogue", "open_catalogue"]
