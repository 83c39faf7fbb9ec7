"""HTTP: the W3C SPARQL 1.1 Protocol at ``/sparql``, the Graph Store Protocol at ``/rdf-graphs``, Strabon's
``/Query``, ``/Update`` and ``/Store``, and the query page at ``/``. Routing and content negotiation only."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from components.common.errors import InvalidInput, PermissionDenied
from components.common.web import ErrorBody, new_app
from components.geostore.page import PAGE
from components.geostore.results import geojson_results
from components.geostore.service import GeoStoreService
from components.geostore.store import Answer

RESULTS_MEDIA = {"application/sparql-results+json": "json", "application/json": "json",
                 "application/sparql-results+xml": "xml", "application/xml": "xml", "text/csv": "csv",
                 "text/tab-separated-values": "tsv", "application/geo+json": "geojson"}
GRAPH_MEDIA = {"application/n-triples": "ntriples", "text/turtle": "turtle", "application/rdf+xml": "rdfxml"}
RDF_MEDIA = {"application/n-triples": "ntriples", "text/turtle": "turtle", "application/rdf+xml": "rdfxml",
             "application/n-quads": "nquads", "application/trig": "trig", "application/ld+json": "jsonld",
             "text/plain": "ntriples"}
# Strabon's format names (its ``format`` parameter and its result menu)
STRABON_FORMATS = {"SPARQL/JSON": "json", "SPARQL/XML": "xml", "XML": "xml", "JSON": "json", "CSV": "csv",
                   "TSV": "tsv", "GEOJSON": "geojson", "HTML": "json", "N-TRIPLES": "ntriples", "NTRIPLES": "ntriples",
                   "TURTLE": "turtle", "RDF/XML": "rdfxml", "RDFXML": "rdfxml"}
SERVICE_DESCRIPTION = """@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
[] a sd:Service ;
  sd:endpoint <{endpoint}> ;
  sd:supportedLanguage sd:SPARQL11Query, sd:SPARQL11Update ;
  sd:resultFormat <http://www.w3.org/ns/formats/SPARQL_Results_JSON>, <http://www.w3.org/ns/formats/SPARQL_Results_XML>,
    <http://www.w3.org/ns/formats/SPARQL_Results_CSV>, <http://www.w3.org/ns/formats/SPARQL_Results_TSV>,
    <http://www.w3.org/ns/formats/N-Triples>, <http://www.w3.org/ns/formats/Turtle> ;
  sd:extensionFunction <http://www.opengis.net/def/function/geosparql/sfIntersects>,
    <http://www.opengis.net/def/function/geosparql/distance>, <http://strdf.di.uoa.gr/ontology#intersects> ;
  sd:feature sd:UnionDefaultGraph .
"""


def _documented(ok: dict[int, dict[str, Any]], *statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses of a route: its success answers, and the error body for each failure status."""
    errors = {400: "bad SPARQL, RDF or parameters", 401: "credentials required", 403: "writes refused",
              404: "not found", 409: "result cap exceeded", 422: "invalid input"}
    documented: dict[int | str, dict[str, Any]] = dict(ok.items())
    documented.update({status: {"model": ErrorBody, "description": errors[status]} for status in statuses})
    return documented


_ANSWERS: dict[int, dict[str, Any]] = {200: {"description": "results, a graph, or the service description",
                  "content": {media: {} for media in (*RESULTS_MEDIA, *GRAPH_MEDIA, "text/turtle")}},
            204: {"description": "update done"}}
_LOADED: dict[int, dict[str, Any]] = {200: {"description": "load report", "content": {"application/json": {}}},
           204: {"description": "graph replaced or cleared"}}


def _bad_request(err: InvalidInput) -> JSONResponse:
    # the SPARQL Protocol answers a malformed query or update with 400
    return JSONResponse({"error": "InvalidInput", "detail": str(err)}, status_code=400)


def _negotiate(accept: str, table: dict[str, str], default: str) -> str:
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media in table:
            return table[media]
    return default


def _answer_response(service: GeoStoreService, sparql: str, accept: str, explicit: str | None = None,
                     explain: bool = False) -> Response:
    wanted = explicit or _negotiate(accept, RESULTS_MEDIA, "json")
    graph_format = explicit if explicit and explicit in GRAPH_MEDIA.values() else \
        _negotiate(accept, GRAPH_MEDIA, "ntriples")
    try:
        answer = service.query(sparql, "json" if wanted in ("geojson", *GRAPH_MEDIA.values()) else wanted,
                               graph_format=graph_format)
    except InvalidInput as err:
        return _bad_request(err)
    headers = _headers(answer)
    if explain:
        return JSONResponse({"plan": answer.plan.to_dict(), "seconds": answer.seconds,
                             "unreadable_geometries": answer.unreadable,
                             "unreadable_examples": answer.unreadable_examples}, headers=headers)
    if wanted == "geojson" and answer.kind == "solutions":
        return Response(geojson_results(answer.body), media_type="application/geo+json", headers=headers)
    return Response(answer.body, media_type=answer.media_type, headers=headers)


def _headers(answer: Answer) -> dict[str, str]:
    return {"X-Geostore-Unreadable-Geometries": str(answer.unreadable),
            "X-Geostore-Query-Seconds": f"{answer.seconds:.6f}",
            "X-Geostore-Index": json.dumps(answer.plan.to_dict()["steps"])}


_Handler = Callable[[Request], Awaitable[Response]]


def _route(router: APIRouter, path: str, methods: list[str], **options: Any) -> Callable[[_Handler], _Handler]:
    """Register ``handler`` once per method, each with its own OpenAPI operation id (one route with several
    methods gives them all the same id)."""
    def register(handler: _Handler) -> _Handler:
        for method in methods:
            router.add_api_route(path, handler, methods=[method], operation_id=f"{handler.__name__}_{method.lower()}",
                                 **options)
        return handler
    return register


def create_router_app(service: GeoStoreService) -> FastAPI:
    """The FastAPI app of the store."""
    app = new_app("ai4cop geostore", "GeoSPARQL store with a spatial index (Strabon's role)")
    router = APIRouter(tags=["geostore"])

    def authorise(request: Request) -> None:
        password = service.settings.password
        if password is None:
            raise PermissionDenied("updates and loads are disabled: no GEOSTORE_PASSWORD is set")
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        user, given = "", ""
        if scheme.lower() == "basic":
            try:
                user, _, given = base64.b64decode(value).decode().partition(":")
            except ValueError:
                user, given = "", ""
        if not (secrets.compare_digest(user, service.settings.user)
                and secrets.compare_digest(given, password.get_secret_value())):
            raise _Unauthorised()

    async def form_or_body(request: Request) -> tuple[dict[str, str], bytes, str]:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media == "application/x-www-form-urlencoded":
            # parsed here rather than with request.form(), which needs python-multipart for this one case
            form = parse_qs((await request.body()).decode(), keep_blank_values=True)
            return {**dict(request.query_params), **{k: v[0] for k, v in form.items()}}, b"", media
        return dict(request.query_params), await request.body(), media

    @_route(router, "/sparql", ["GET", "POST"], summary="SPARQL 1.1 Protocol: query and update",
                      response_class=Response, responses=_documented(_ANSWERS, 400, 401, 403, 409, 422))
    async def sparql(request: Request) -> Response:
        params, body, media = await form_or_body(request)
        accept = request.headers.get("accept", "")
        explain = params.get("explain", "") in ("1", "true")
        if request.method == "POST" and media == "application/sparql-query":
            return _answer_response(service, body.decode(), accept, params.get("format"), explain)
        if request.method == "POST" and media == "application/sparql-update":
            return _update(request, body.decode())
        if "update" in params and request.method == "POST":
            return _update(request, params["update"])
        if "query" in params:
            return _answer_response(service, params["query"], accept, params.get("format"), explain)
        endpoint = str(request.url).split("?")[0]
        return Response(SERVICE_DESCRIPTION.format(endpoint=endpoint), media_type="text/turtle")

    def _update(request: Request, text: str) -> Response:
        authorise(request)
        try:
            service.update(text)
        except InvalidInput as err:
            return _bad_request(err)
        return Response(status_code=204)

    @_route(router, "/rdf-graphs", ["GET", "PUT", "POST", "DELETE"], summary="Graph Store Protocol",
                      response_class=Response,
                      responses=_documented({**_ANSWERS, **_LOADED, 200: {
                          "description": "the graph, or the load report",
                          "content": {**_ANSWERS[200]["content"], "application/json": {}}}},
                          400, 401, 403, 409, 422))
    async def graph_store(request: Request) -> Response:
        graph = request.query_params.get("graph")
        if graph is None and "default" not in request.query_params:
            return _bad_request(InvalidInput("give ?graph=IRI or ?default"))
        target = f"GRAPH <{graph}>" if graph else "DEFAULT"
        if request.method == "GET":
            where = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "?s ?p ?o"
            fmt = _negotiate(request.headers.get("accept", ""), GRAPH_MEDIA, "turtle")
            answer = service.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {where} }}", graph_format=fmt)
            return Response(answer.body, media_type=answer.media_type)
        authorise(request)
        if request.method == "DELETE":
            service.update(f"CLEAR {target}")
            return Response(status_code=204)
        media = request.headers.get("content-type", "text/turtle").split(";")[0].strip().lower()
        body = await request.body()
        if request.method == "PUT":
            service.update(f"CLEAR SILENT {target}")
        try:
            service.load(body, RDF_MEDIA.get(media, "turtle"), graph)
        except InvalidInput as err:
            return _bad_request(err)
        return Response(status_code=204 if request.method == "PUT" else 200)

    @_route(router, "/Query", ["GET", "POST"], summary="Strabon's query endpoint",
                      response_class=Response, responses=_documented(_ANSWERS, 400, 409, 422))
    async def strabon_query(request: Request) -> Response:
        params, _, _ = await form_or_body(request)
        if "query" not in params:
            return _bad_request(InvalidInput("query: missing parameter"))
        fmt = STRABON_FORMATS.get(params.get("format", "").upper())
        return _answer_response(service, params["query"], request.headers.get("accept", ""), fmt)

    @_route(router, "/Update", ["GET", "POST"], summary="Strabon's update endpoint",
                      response_class=Response, responses=_documented(_ANSWERS, 400, 401, 403, 422))
    async def strabon_update(request: Request) -> Response:
        params, _, _ = await form_or_body(request)
        text = params.get("query") or params.get("update")
        if not text:
            return _bad_request(InvalidInput("query: missing parameter (the update text)"))
        return _update(request, text)

    @_route(router, "/Store", ["POST"], summary="Strabon's store endpoint (data in the request)",
                      response_class=Response, responses=_documented(_LOADED, 400, 401, 403, 422))
    async def strabon_store(request: Request) -> Response:
        authorise(request)
        params, body, media = await form_or_body(request)
        data = params.get("data")
        if data is None and body:
            data = body.decode()
        if data is None:
            return _bad_request(InvalidInput("data: missing (loading from a url is not supported here)"))
        fmt = STRABON_FORMATS.get(params.get("format", "").upper()) or RDF_MEDIA.get(media, "ntriples")
        try:
            report = service.load(data, fmt, params.get("graph") or None)
        except InvalidInput as err:
            return _bad_request(err)
        return JSONResponse(report.to_dict())

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> str:
        return PAGE

    @app.exception_handler(_Unauthorised)
    async def _unauthorised(_request: Request, _err: _Unauthorised) -> JSONResponse:
        return JSONResponse({"error": "PermissionDenied", "detail": "credentials required"}, status_code=401,
                            headers={"WWW-Authenticate": 'Basic realm="geostore"'})

    app.include_router(router)
    return app


class _Unauthorised(Exception):
    """No or wrong Basic credentials on a write (401 with a challenge, as Strabon's endpoint answers)."""


__all__: list[Any] = ["create_router_app"]
