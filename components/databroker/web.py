"""The 8062 side: a small page and a JSON API to see and change the source query, search what it matches
and see what the source delivered."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import FastAPI
from fastapi import Query as Param
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from components.common.aoi import isoformat
from components.common.errors import InvalidInput, PermissionDenied, Unavailable, UpstreamError
from components.common.web import error_responses, new_app
from components.databroker.catalogues import CatalogueConfig
from components.databroker.query import Query, build_query
from components.databroker.service import ProductSource


class QueryBody(BaseModel):
    """A new source query; omitted fields keep their current value."""

    aoi: str | None = Field(None, description="WKT, GeoJSON or bbox 'west,south,east,north'")
    start: str | None = Field(None, description="ISO 8601")
    end: str | None = Field(None, description="ISO 8601")
    collection: str | None = None
    product_type: str | None = None
    processing_mode: str | None = Field(None, description="OFFL, NRTI, RPRO or '' for any")
    limit: int | None = Field(None, ge=0, description="0 = no limit")


def describe(query: Query, config: CatalogueConfig) -> dict[str, Any]:
    return {"catalogue": config.name, "url": config.url,
            "folder": str(config.folder) if config.name == "local" else "", "aoi": query.aoi_wkt,
            "start": isoformat(query.start), "end": isoformat(query.end), "collection": query.collection,
            "product_type": query.product_type, "processing_mode": query.processing_mode, "limit": query.limit}


def create_app(source: ProductSource, config: CatalogueConfig) -> FastAPI:
    """Routes over a running source; the catalogue itself (name, URL, folder) is fixed by the environment."""
    app = new_app("ai4cop databroker")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> str:
        return resources.files("components.databroker").joinpath("page.html").read_text()

    @app.get("/api/query")
    def get_query() -> dict[str, Any]:
        return describe(source.query, config)

    @app.put("/api/query", responses=error_responses(InvalidInput))
    def put_query(body: QueryBody) -> dict[str, Any]:
        current = source.query
        query = build_query(
            aoi=current.aoi_wkt if body.aoi is None else body.aoi,
            start=isoformat(current.start) if body.start is None else body.start,
            end=isoformat(current.end) if body.end is None else body.end,
            collection=body.collection or current.collection,
            product_type=body.product_type or current.product_type,
            processing_mode=current.processing_mode if body.processing_mode is None else body.processing_mode,
            limit=current.limit if body.limit is None else body.limit,
        )
        source.restart(query)
        return describe(query, config)

    @app.get("/api/products")
    def products() -> dict[str, Any]:
        return source.status()

    @app.get("/api/search", summary="The first products the current query matches (nothing is delivered)",
             responses=error_responses(InvalidInput, PermissionDenied, UpstreamError, Unavailable))
    def search(limit: int = Param(100, ge=1, le=1000)) -> dict[str, Any]:
        found = source.matches(limit)
        return {"products": [record.as_dict(found.query) for record in found.products], "more": found.more}

    return app
