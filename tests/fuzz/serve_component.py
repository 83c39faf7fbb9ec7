"""Serve one component for the fuzz suite: ``python -m tests.fuzz.serve_component NAME``.

As the container does (settings from the environment, ``build``, gRPC and HTTP servers), but on loopback ports
the OS chooses: once both listen, one JSON line ``{"grpc": port, "web": port}`` goes to stdout. SIGTERM stops
it in the entry point's order. A separate process, so the suite sees a server die, and measures its memory alone.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading

from components.common.registry import app_module
from components.common.server import create_server
from components.common.web import WebServer, create_web_app


def main(name: str) -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    module = app_module(name)
    settings = module.Settings(host="127.0.0.1", port=0, web_host="127.0.0.1", web_port=0)
    component = module.build(settings)
    server, port = create_server(component.services, settings)
    web = WebServer(create_web_app(component.name, component.web_app), "127.0.0.1", 0)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stopping.set())
    server.start()
    web.start()
    print(json.dumps({"grpc": port, "web": web.port}), flush=True)
    stopping.wait()
    server.stop(1)
    web.stop()
    for hook in component.on_stop:
        hook()


if __name__ == "__main__":
    main(sys.argv[1])
