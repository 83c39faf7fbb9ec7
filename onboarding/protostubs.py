"""Type stubs for the protos Python loads at run time, written with mypy-protobuf's protoc plugins.

A proto at ``components/<name>/<file>.proto`` gets ``<file>_pb2.pyi`` (messages) and ``<file>_pb2_grpc.pyi``
(stubs, servicers, ``add_*_to_server``) beside it. The proto is compiled under its path in the repository, so
the services stub imports ``components.<name>.<file>_pb2``, the module mypy finds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from components.common.errors import FailedPrecondition, InvalidInput

PLUGINS = {"mypy": "protoc-gen-mypy", "mypy_grpc": "protoc-gen-mypy_grpc"}


def _plugin(name: str) -> str:
    """The plugin executable: in this interpreter's scripts folder (an unactivated venv) or on PATH."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which(name, path=search)
    if found is None:
        raise FailedPrecondition(f"{name} not found: writing type stubs needs mypy-protobuf "
                                 "(pip install -e '.[test]')")
    return found


def stubs(relative: Path, text: str) -> dict[Path, str]:
    """The stubs of the proto ``text`` that lies at ``relative`` (a path inside the repository), by path."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "in"
        out = Path(tmp) / "out"
        (root / relative).parent.mkdir(parents=True)
        out.mkdir()
        (root / relative).write_text(text, encoding="utf-8")
        command = [sys.executable, "-m", "grpc_tools.protoc", f"-I{root}"]
        command += [f"--plugin=protoc-gen-{kind}={_plugin(name)}" for kind, name in PLUGINS.items()]
        command += [f"--{kind}_out=quiet:{out}" for kind in PLUGINS]
        proc = subprocess.run([*command, relative.as_posix()], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise InvalidInput(f"{relative}: no type stubs: {(proc.stderr or proc.stdout).strip()}")
        stem = relative.with_suffix("")
        names = [stem.with_name(f"{stem.name}_pb2.pyi"), stem.with_name(f"{stem.name}_pb2_grpc.pyi")]
        return {name: (out / name).read_text(encoding="utf-8") for name in names}
