"""Where each component lives, and how an entry point builds and serves one by name."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from types import ModuleType

from pydantic import ValidationError

from components.common.errors import Ai4copError, InvalidInput
from components.common.server import serve
from components.common.settings import describe_invalid

# Each module defines ``Settings`` (a ComponentSettings with its env prefix) and
# ``build(settings) -> components.common.server.Component``.
COMPONENTS: dict[str, str] = {
    "databroker": "components.databroker.app",
    "comax": "components.comax.app",
    "geotriples": "components.geotriples_adapter.app",
    "orchestrator": "components.orchestrator.app",
}


def component_module(name: str) -> ModuleType:
    """The app module of component ``name``; ``InvalidInput`` naming the known ones otherwise."""
    if name not in COMPONENTS:
        raise InvalidInput(f"unknown component {name!r}; known: {', '.join(sorted(COMPONENTS))}")
    return importlib.import_module(COMPONENTS[name])


def configure_logging() -> None:
    """Configure the root logger once, for entry points only (level from ``AI4COP_LOG_LEVEL``)."""
    logging.basicConfig(
        level=os.environ.get("AI4COP_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def serve_component(name: str, port: int | None = None, web_port: int | None = None) -> None:
    """Read the component's settings from the environment once, apply overrides, serve until a signal."""
    module = component_module(name)
    overrides = {key: value for key, value in (("port", port), ("web_port", web_port)) if value is not None}
    settings = module.Settings(**overrides)
    logging.getLogger(__name__).info("%s settings: %r", name, settings)
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
