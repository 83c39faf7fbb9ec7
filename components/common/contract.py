"""The contract at run time: Python classes for ``contract.proto``, compiling any proto, and each component's
proto text (from the component catalogue).

Nothing generated is committed except type stubs (``contract_pb2.pyi``, written by ``ai4cop proto split`` with
mypy-protobuf): all components share one set of classes built from ``contract.proto`` (the packaged copy of
the root ``model.proto`` that ``ai4cop proto split`` writes), so one process can host several components
without two definitions of ``Product`` colliding in the protobuf descriptor pool. Each component's own
``model.proto`` is a byte-identical subset of it, hence wire compatible.
"""

from __future__ import annotations

import functools
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

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


@functools.cache
def _contract() -> tuple[ModuleType, ModuleType]:
    return load_proto(Path(__file__).parent, CONTRACT_FILE)


def messages() -> Any:
    """The module of contract message classes (``messages().Product`` ...)."""
    return _contract()[0]


def services() -> Any:
    """The module of contract service stubs and ``add_*Servicer_to_server`` functions."""
    return _contract()[1]


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
