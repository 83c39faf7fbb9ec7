"""Catalogue backends behind one interface: ``open_catalogue(name, ...)`` returns a ``Catalogue``."""

from __future__ import annotations

from components.databroker.catalogues.base import Catalogue, PagedCatalogue
from components.databroker.catalogues.factory import CATALOGUES, CatalogueConfig, check_catalogue, open_catalogue

__all__ = ["CATALOGUES", "Catalogue", "CatalogueConfig", "PagedCatalogue", "check_catalogue", "open_catalogue"]
