"""The contract at run time: Python classes for ``contract.proto``, compiling any proto, and each component's
proto text (from the component catalogue).

All components share one set of classes built from ``contract.proto`` (the packaged copy of the root
``model.proto`` that ``ai4cop proto split`` writes), so one process can host several components without two
definitions of ``Product`` colliding in the protobuf descriptor pool. Each component's own ``model.proto`` is a
byte-identical subset of it, hence wire compatible.

Nothing generated is committed except type stubs: ``contract_pb2.pyi`` and ``contract_pb2_grpc.pyi`` (written by
``ai4cop proto split`` with mypy-protobuf) describe ``contract_pb2`` and ``contract_pb2_grpc`` here to mypy, while
at run time those two names are ``LazyProto`` objects that compile the proto on first use.
"""

from __future__ import annotations

import functools
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf import descriptor_pb2

from components.common.registry import component

CONTRACT_FILE = "contract.proto"
COMPONENTS_ROOT = Path(__file__).resolve().parent.parent
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


class LazyProto:
    """The messages (or, with ``services``, the services) module grpc compiles from a proto, compiled on the
    first attribute read, so importing a component compiles nothing. Type checkers see the committed
    mypy-protobuf stub of that module instead."""

    def __init__(self, directory: Path, filename: str, services: bool = False) -> None:
        self._source = (directory, filename)
        self._part = 1 if services else 0

    def __getattr__(self, name: str) -> Any:
        return getattr(_compiled(*self._source)[self._part], name)

    def __repr__(self) -> str:
        return f"<LazyProto {self._source[1]} {'services' if self._part else 'messages'}>"


@functools.cache
def _compiled(directory: Path, filename: str) -> tuple[ModuleType, ModuleType]:
    return load_proto(directory, filename)


if TYPE_CHECKING:
    from components.common import contract_pb2 as contract_pb2
    from components.common import contract_pb2_grpc as contract_pb2_grpc
else:
    contract_pb2 = LazyProto(Path(__file__).parent, CONTRACT_FILE)
    contract_pb2_grpc = LazyProto(Path(__file__).parent, CONTRACT_FILE, services=True)


def compile_proto(path: Path) -> tuple[descriptor_pb2.FileDescriptorProto | None, str]:
    """Compile ``path`` on its own with grpcio-tools' protoc; return its descriptor or the compiler's errors."""
    import grpc_tools

    include = Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.pb"
        proc = subprocess.run(
            [sys.executable, "-m", "grpc_tools.protoc", f"-I{path.parent.resolve()}", f"-I{include}",
             f"--descriptor_set_out={out}", path.name],
            capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0 or not out.exists():
            return None, (proc.stderr or proc.stdout).strip() or "protoc failed"
        fds = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    return fds.file[-1], ""


def proto_path(name: str) -> Path:
    """Where component ``name``'s proto lies in the installed package (``InvalidInput`` for an unknown name)."""
    entry = component(name)
    return COMPONENTS_ROOT / entry.name / entry.proto


def component_proto(name: str) -> str:
    """The proto text component ``name``'s image carries (what the platform gets at onboarding)."""
    return proto_path(name).read_text(encoding="utf-8")
