"""The component's HTTP side (port 8062): a FastAPI app with ``/healthz``, served by uvicorn in a thread."""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from components.common.errors import Ai4copError, Unavailable, http_status

logger = logging.getLogger(__name__)


def install_error_handlers(app: FastAPI) -> None:
    """Map domain errors to their HTTP status with a JSON body ``{"error": type, "detail": message}``."""

    @app.exception_handler(Ai4copError)
    async def _domain_error(_request: Request, err: Ai4copError) -> JSONResponse:
        return JSONResponse({"error": type(err).__name__, "detail": str(err)}, status_code=http_status(err))

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, err: RequestValidationError) -> JSONResponse:
        # the same body shape as domain errors, with FastAPI's per-field list kept under "errors"
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()]
        return JSONResponse({"error": "InvalidInput", "detail": "; ".join(problems),
                             "errors": jsonable_encoder(err.errors())}, status_code=422)


def create_web_app(name: str, app: Any | None = None) -> FastAPI:
    """Return ``app`` (or a new FastAPI app) with ``/healthz`` and the domain error handlers installed."""
    web = app if isinstance(app, FastAPI) else FastAPI(title=f"ai4cop {name}")

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
