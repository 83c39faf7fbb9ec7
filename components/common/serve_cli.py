"""``ai4cop serve COMPONENT [--port P] [--web-port W]``."""

from __future__ import annotations

import argparse

from components.common.registry import served_names


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = subparsers.add_parser("serve", help="serve one component (gRPC on 8061, HTTP on 8062)")
    serve.add_argument("component", choices=served_names())
    serve.add_argument("--port", type=int, help="gRPC port (default 8061, or <PREFIX>_PORT)")
    serve.add_argument("--web-port", type=int, help="HTTP port (default 8062, or <PREFIX>_WEB_PORT)")
    serve.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    from components.common.launch import configure_logging, serve_component
    from components.common.registry import component

    args.extra = component(args.component).extra  # what to install if the component's modules are missing
    configure_logging()
    serve_component(args.component, port=args.port, web_port=args.web_port)
    return 0
