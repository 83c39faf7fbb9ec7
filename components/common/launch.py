"""Entry points that serve one component by name: ``python -m components.<name>`` and ``ai4cop serve``."""

from __future__ import annotations

import logging
import os
import sys

from pydantic import ValidationError

from components.common.errors import Ai4copError
from components.common.registry import app_module, component
from components.common.server import serve
from components.common.settings import describe_invalid


def configure_logging() -> None:
    """Configure the root logger once, for entry points only (level from ``AI4COP_LOG_LEVEL``)."""
    logging.basicConfig(
        level=os.environ.get("AI4COP_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def serve_component(name: str, port: int | None = None, web_port: int | None = None) -> None:
    """Read the component's settings from the environment once, apply overrides, serve until a signal."""
    module = app_module(name)
    overrides = {key: value for key, value in (("port", port), ("web_port", web_port)) if value is not None}
    settings = module.Settings(**overrides)
    logging.getLogger(__name__).info("%s settings: %r", component(name).name, settings)
    serve(module.build(settings), settings)


def main(name: str) -> None:
    """``python -m components.<name>``: the container entry point."""
    configure_logging()
    try:
        serve_component(name)
    except ValidationError as err:
        logging.getLogger(__name__).error("%s: %s", name, describe_invalid(err))
        sys.exit(2)
    except Ai4copError as err:
        logging.getLogger(__name__).error("%s: %s", name, err)
        sys.exit(2)
    except ModuleNotFoundError as err:
        extra = component(name).extra
        if not extra or (err.name or "").split(".")[0] == "components":
            raise
        logging.getLogger(__name__).error("%s: needs the '%s' extra (the %s module is not installed): "
                                          "pip install 'ai4cop[%s]'", name, extra, err.name, extra)
        sys.exit(2)
