"""Python classes for the one contract, loaded at runtime from the proto (nothing generated is committed).

All components share one set of classes built from ``contract.proto`` (the packaged copy of the root
``model.proto`` that ``ai4cop proto split`` writes), so one process can host several components without
two definitions of ``Product`` colliding in the protobuf descriptor pool. Each component's own
``model.proto`` is a byte-identical subset of it, hence wire compatible.
"""

from __future__ import annotations

import functools
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc

CONTRACT_FILE = "contract.proto"
_lock = threading.Lock()


def load_proto(directory: Path, filename: str) -> tuple[ModuleType, ModuleType]:
    """Compile ``directory/filename`` with grpcio-tools and return its (messages, services) modules."""
    with _lock:
        sys.path.insert(0, str(directory))
        try:
            protos, services = grpc.protos_and_services(filename)
        finally:
            sys.path.remove(str(directory))
    return protos, services


@functools.cache
def _contract() -> tuple[ModuleType, ModuleType]:
    return load_proto(Path(__file__).parent, CONTRACT_FILE)


def messages() -> Any:
    """The module of contract message classes (``messages().Product`` ...)."""
    return _contract()[0]


def services() -> Any:
    """The module of contract service stubs and ``add_*Servicer_to_server`` functions."""
    return _contract()[1]
