"""The component's HTTP side (port 8062): a FastAPI app with ``/healthz``, served by uvicorn in a thread.

Every error a REST API answers has one JSON body, ``ErrorBody``; ``error_responses`` declares it in a route's
OpenAPI for the statuses the route can answer, so the published schema tells the truth about errors too.

Every asset a page loads is served by the component itself: users may be offline or behind a proxy, so
``/docs`` (Swagger UI) and ``/redoc`` load their scripts from ``/docs/static``, not from a CDN.
"""

from __future__ import annotations

import logging
import socket
import threading
from http import HTTPStatus
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from components.common.errors import Ai4copError, InvalidInput, Unavailable, http_status

logger = logging.getLogger(__name__)

DOCS_STATIC = "/docs/static"


def new_app(title: str, description: str = "") -> FastAPI:
    """A FastAPI app whose ``/docs`` and ``/redoc`` pages load Swagger UI and ReDoc from ``DOCS_STATIC``."""
    app = FastAPIOffline(title=title, description=description, static_url=DOCS_STATIC, redoc_url=None)

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(openapi_url=f"{root}{app.openapi_url}", title=f"{title} - ReDoc",
                              redoc_js_url=f"{root}{DOCS_STATIC}/redoc.standalone.js",
                              redoc_favicon_url=f"{root}{DOCS_STATIC}/favicon.png", with_google_fonts=False)
        # ReDoc's footer shows a logo from cdn.redoc.ly: the browser is told not to fetch images from elsewhere
        page.headers["Content-Security-Policy"] = "img-src 'self' data: blob:"
        return page

    return app


class FieldProblem(BaseModel):
    """One problem of a request that failed validation (the input itself is not echoed back)."""

    type: str = Field(description="the kind of problem, e.g. missing, int_parsing, json_invalid")
    loc: list[str | int] = Field(description="where: body, query or path, then the field")
    msg: str


class ErrorBody(BaseModel):
    """The one JSON body of every REST error."""

    error: str = Field(description="the error type, e.g. InvalidInput, NotFound, Unavailable")
    detail: str = Field(description="what went wrong, on one line")
    errors: list[FieldProblem] | None = Field(None, description="per-field problems of a request that failed "
                                                                "validation")


def error_responses(*errors: type[Ai4copError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of a route that can fail with ``errors``: each one's HTTP status with ``ErrorBody``."""
    return {http_status(error("")): {"model": ErrorBody, "description": error.__doc__ or error.__name__}
            for error in errors}


def _error(status: int, error: str, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail, **extra}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    """Map every failure to its HTTP status with the one JSON body ``{"error": type, "detail": message}``."""

    @app.exception_handler(Ai4copError)
    async def _domain_error(_request: Request, err: Ai4copError) -> JSONResponse:
        return _error(http_status(err), type(err).__name__, str(err))

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, err: RequestValidationError) -> JSONResponse:
        # FastAPI's per-field list kept under "errors", without the inputs: echoing them could be huge, or
        # hold values JSON cannot carry (a limit of 1e999 is a float infinity)
        problems = [FieldProblem(type=e["type"], loc=list(e["loc"]), msg=e["msg"]) for e in err.errors()]
        return _error(http_status(InvalidInput()), InvalidInput.__name__,
                      "; ".join(f"{'.'.join(str(p) for p in e.loc)}: {e.msg}" for e in problems),
                      errors=[e.model_dump() for e in problems])

    @app.exception_handler(HTTPException)
    async def _http_error(_request: Request, err: HTTPException) -> JSONResponse:
        if err.status_code == 400:
            # FastAPI's answer to a body it cannot read (not UTF-8...); one that is not JSON is already a 422
            return _error(http_status(InvalidInput()), InvalidInput.__name__, f"body: {err.detail}")
        # unknown paths (404) and methods (405, with its Allow header) in the same shape as the rest
        reply = _error(err.status_code, HTTPStatus(err.status_code).phrase.replace(" ", ""), str(err.detail))
        reply.headers.update(err.headers or {})
        return reply

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, _err: Exception) -> JSONResponse:
        # a bug: Starlette raises it on after this answer, so uvicorn logs its traceback; the client learns
        # nothing of the server's insides (paths, values)
        return _error(500, "InternalError", "internal error (see the server log)")


def create_web_app(name: str, app: Any | None = None) -> FastAPI:
    """Return ``app`` (or a new one from ``new_app``) with ``/healthz`` and the domain error handlers installed."""
    web = app if isinstance(app, FastAPI) else new_app(f"ai4cop {name}")

    @web.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "component": name}

    install_error_handlers(web)
    return web


class WebServer:
    """uvicorn on a socket bound up front (so port 0 works and the real port is known), in a daemon thread."""

    def __init__(self, app: FastAPI, host: str = "0.0.0.0", port: int = 8062):
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind((host, port))
        except OSError as err:
            self._sock.close()
            raise Unavailable(f"cannot listen for HTTP on {host}:{port}: {err.strerror}") from err
        self.port: int = self._sock.getsockname()[1]
        # listening from here on: a request sent before uvicorn's loop runs waits in the backlog, not refused
        self._sock.listen(128)
        config = uvicorn.Config(app, log_level="warning", lifespan="off", log_config=None)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name="web", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._sock.close()
