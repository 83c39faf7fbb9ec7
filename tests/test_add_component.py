"""The add-a-component recipe of docs/architecture.md, walked on a copy of the repository.

A throwaway component ``echo`` is made exactly as the recipe says: its folder with the usual rooms, its service in
the root ``model.proto`` (then ``ai4cop proto split``), and one catalogue entry; nothing else is edited. It must
pass ``proto check`` and the import layers, pass ``blueprint check`` in a pipeline after the data broker, serve,
and run in that pipeline with ``ai4cop run``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

ROOMS = {
    "__init__.py": '"""A throwaway component made by the add-a-component recipe."""\n',
    "__main__.py": 'from components.common.launch import main\n\nmain("echo")\n',
    "settings.py": '''from components.common.settings import ComponentSettings, SettingsConfigDict


class Settings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="ECHO_", extra="ignore", frozen=True)

    suffix: str = " (echoed)"
''',
    "service.py": '''class EchoService:
    def __init__(self, suffix: str):
        self.suffix = suffix

    def echo(self, name: str) -> str:
        return name + self.suffix
''',
    "servicer.py": '''from __future__ import annotations

from typing import TYPE_CHECKING

import grpc

from components.common.contract import contract_pb2
from components.common.errors import grpc_errors
from components.echo.service import EchoService

if TYPE_CHECKING:
    from components.common.contract_pb2_grpc import EchoServicer as _Generated
else:
    _Generated = object


class EchoServicer(_Generated):
    def __init__(self, service: EchoService):
        self.service = service

    @grpc_errors
    def echo(self, request: contract_pb2.Product, context: grpc.ServicerContext) -> contract_pb2.Product:
        reply = contract_pb2.Product()
        reply.CopyFrom(request)
        reply.name = self.service.echo(request.name)
        return reply
''',
    "app.py": '''from components.common.contract import contract_pb2_grpc
from components.common.server import Component, ServiceBinding
from components.echo.service import EchoService
from components.echo.servicer import EchoServicer
from components.echo.settings import Settings

__all__ = ["Settings", "build"]


def build(settings: Settings) -> Component:
    servicer = EchoServicer(EchoService(settings.suffix))
    binding = ServiceBinding("Echo", lambda server: contract_pb2_grpc.add_EchoServicer_to_server(servicer, server))
    return Component("echo", [binding])
''',
}

SERVICE = """
// component: echo
service Echo {
  rpc echo(Product) returns (Product);
}
"""

ENTRY = '    ComponentEntry("echo", "Echo", "ECHO_", "", "ai4cop-echo"),\n'


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository with the ``echo`` component added by the recipe's three steps."""
    tmp = tmp_path_factory.mktemp("recipe")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("components", "onboarding"):
        shutil.copytree(ROOT / folder, tmp / folder, ignore=ignore)
    for name in ("model.proto", "setup.cfg", "pyproject.toml", "README.md", "blueprint.json"):
        shutil.copy2(ROOT / name, tmp / name)
    (tmp / "tests").mkdir()
    shutil.copy2(ROOT / "tests" / "import_contracts.py", tmp / "tests" / "import_contracts.py")

    # 1. the component's folder, with the rooms every component has
    folder = tmp / "components" / "echo"
    folder.mkdir()
    for name, text in ROOMS.items():
        (folder / name).write_text(text, encoding="utf-8")
    shutil.copy2(ROOT / "components" / "comax" / "license.json", folder / "license.json")
    # 2. its service in the root model.proto, then `ai4cop proto split`
    with (tmp / "model.proto").open("a", encoding="utf-8") as proto:
        proto.write(SERVICE)
    assert _ai4cop(tmp, "proto", "split").returncode == 0
    # 3. one catalogue entry
    catalogue = tmp / "components" / "common" / "catalogue.py"
    text = catalogue.read_text(encoding="utf-8")
    end = text.rindex(")")
    catalogue.write_text(text[:end] + ENTRY + text[end:], encoding="utf-8")
    return tmp


def _env(repo: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(repo), "XDG_CACHE_HOME": str(repo / "cache"), "AI4COP_LOG_LEVEL": "WARNING"}


def _ai4cop(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "onboarding.cli", *args], cwd=repo, env=_env(repo),
                          capture_output=True, text=True, timeout=180, check=False)


def _pipeline(repo: Path) -> Path:
    """The CO blueprint with the analyzer replaced by ``echo1`` (databroker1.next_product -> echo1.echo)."""
    blueprint = json.loads((repo / "blueprint.json").read_text(encoding="utf-8"))
    broker, analyzer = blueprint["nodes"]
    broker["operation_signature_list"][0]["connected_to"] = [
        {"container_name": "echo1", "operation_signature": {"operation_name": "echo"}}]
    analyzer.update(container_name="echo1", image="ghcr.io/ai4cop/ai4cop-echo:0.1.0",
                    proto_uri="org/ai4cop/echo/0.1.0/echo-0.1.0.proto")
    analyzer["operation_signature_list"] = [{"operation_signature": {
        "operation_name": "echo", "input_message_name": "Product", "input_message_stream": False,
        "output_message_name": "Product", "output_message_stream": False}, "connected_to": []}]
    path = repo / "echo_blueprint.json"
    path.write_text(json.dumps(blueprint, indent=2), encoding="utf-8")
    return path


def test_the_split_writes_the_components_proto_and_it_passes_the_platform_checks(repo: Path) -> None:
    proto = repo / "components" / "echo" / "model.proto"
    assert "service Echo {" in proto.read_text(encoding="utf-8")
    assert "service Echo {" in (repo / "components" / "common" / "contract.proto").read_text(encoding="utf-8")
    checked = _ai4cop(repo, "proto", "check", str(proto))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_new_component_is_typed_against_the_regenerated_stubs(repo: Path) -> None:
    assert "class EchoServicer(" in (repo / "components" / "common" / "contract_pb2_grpc.pyi").read_text()
    checked = subprocess.run([sys.executable, "-m", "mypy", "components/echo"], cwd=repo, env=_env(repo),
                             capture_output=True, text=True, timeout=180, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_new_component_is_layered_by_its_catalogue_entry(repo: Path) -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint is not None
    kept = subprocess.run([lint], cwd=repo, env=_env(repo), capture_output=True, text=True, timeout=120, check=False)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    servicer = repo / "components" / "echo" / "servicer.py"
    original = servicer.read_text(encoding="utf-8")
    servicer.write_text(original + "\nimport components.comax.state  # noqa: E402,F401\n", encoding="utf-8")
    try:
        broken = subprocess.run([lint], cwd=repo, env=_env(repo), capture_output=True, text=True, timeout=120,
                                check=False)
    finally:
        servicer.write_text(original, encoding="utf-8")
    assert broken.returncode != 0
    assert "components.echo.servicer -> components.comax.state" in broken.stdout


def test_the_new_component_serves_and_runs_in_a_blueprint(repo: Path) -> None:
    blueprint = _pipeline(repo)
    checked = _ai4cop(repo, "blueprint", "check", str(blueprint))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "OK (2 nodes, 1 link)" in checked.stdout

    run = _ai4cop(repo, "run", str(blueprint), "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    product = json.loads(run.stdout)
    assert product["name"].startswith("S5P_OFFL_L2__CO_____") and product["name"].endswith(" (echoed)")
    assert "products found 6, done 6" in run.stderr
