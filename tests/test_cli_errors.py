"""Errors a user should not see: every command fails in one readable line, never a traceback or the gRPC core's
own log lines. The commands run as the user runs them, in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.geotriples_helpers import write_geojson
from tests.orchestrator_helpers import ai4cop

ROOT = Path(__file__).resolve().parents[1]
BLUEPRINT = ROOT / "blueprint.json"
pytestmark = pytest.mark.timeout(300)  # several commands per test, each a fresh process

# Installed into a subprocess through PYTHONPATH: modules named in AI4COP_TEST_BLOCK cannot be imported, as if
# their extra were not installed (child processes inherit it, as nodes started by the local runner do).
BLOCKER = '''
import os
import sys

_BLOCKED = set(filter(None, os.environ.get("AI4COP_TEST_BLOCK", "").split(",")))


class _Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in _BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _Blocker())
'''


@pytest.fixture
def user(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a user without some extras: the blocker on the path, an empty cache folder."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRPC_", "COMAX_", "DATABROKER_"))}
    yield {**env, "PYTHONPATH": f"{site}{os.pathsep}{ROOT}", "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "AI4COP_LOG_LEVEL": "WARNING"}


def _run(args: list[str], env: dict[str, str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(ai4cop(*args), capture_output=True, text=True, env=env, timeout=90, **kw)  # type: ignore


def _one_line(proc: subprocess.CompletedProcess[str], command: str) -> str:
    """The command's one error line (it exits 2, prints no traceback and nothing else on stderr)."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ai4cop {command}: error: "), proc.stderr
    return lines[0].removeprefix(f"ai4cop {command}: error: ")


@pytest.mark.parametrize(("args", "blocked", "extra"), [
    (["comax", "x.nc", "--aoi", "1,2,3,4"], "h5py", "comax"),
    (["sample", "s5p-co", "{tmp}/s5p"], "h5py", "comax"),
    (["search", "--dir", "{tmp}"], "h5py", "databroker"),
    (["geotriples", "convert", "{tmp}/places.geojson"], "rdflib", "geotriples"),
    (["serve", "comax", "--port", "0", "--web-port", "0"], "h5py", "comax"),
    (["serve", "geotriples", "--port", "0", "--web-port", "0"], "rdflib", "geotriples"),
    (["export", str(BLUEPRINT), "-o", "{tmp}/solution.zip"], "yaml", "deploy"),
    (["onboard", "comax", "--image", "ghcr.io/ai4cop/ai4cop-comax:0.1.0", "-o", "{tmp}/ob"], "jsonschema", "deploy"),
    (["demo"], "h5py", "comax"),
    (["run", str(BLUEPRINT)], "h5py", "comax"),
])
def test_a_command_without_its_extra_names_the_extra(args: list[str], blocked: str, extra: str,
                                                     user: dict[str, str], tmp_path: Path) -> None:
    write_geojson(tmp_path)
    (tmp_path / "s5p-fake.nc").write_bytes(b"\x89HDF\r\n\x1a\n")
    proc = _run([a.replace("{tmp}", str(tmp_path)) for a in args], {**user, "AI4COP_TEST_BLOCK": blocked})
    assert _one_line(proc, args[0]) == (f"needs the '{extra}' extra (the {blocked} module is not installed): "
                                        f"pip install 'ai4cop[{extra}]'")


def test_a_node_without_its_extra_says_which_to_install(user: dict[str, str]) -> None:
    env = {**user, "AI4COP_TEST_BLOCK": "rdflib"}
    proc = subprocess.run([sys.executable, "-m", "components.geotriples_adapter"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().endswith("geotriples_adapter: needs the 'geotriples' extra (the rdflib module is "
                                        "not installed): pip install 'ai4cop[geotriples]'")


def test_files_where_folders_belong_and_unusable_paths_are_one_line(user: dict[str, str], tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    assert _one_line(_run(["sample", "s5p-co", str(a_file)], user), "sample") == \
        f"OUTDIR {a_file} is a file, not a folder"
    assert _one_line(_run(["sample", "s5p-co", str(a_file / "sub")], user), "sample") == \
        f"{a_file / 'sub'}: Not a directory"
    assert _one_line(_run(["sample", "s5p-co", "/proc/ai4cop-test"], user), "sample") == \
        "/proc/ai4cop-test: No such file or directory"
    assert _one_line(_run(["up", str(BLUEPRINT), "--basepath", str(a_file)], user), "up") == \
        f"--basepath {a_file} is a file, not a folder"
    assert _one_line(_run(["onboard", "comax", "--image", "ghcr.io/ai4cop/ai4cop-comax:0.1.0", "-o", str(a_file)],
                          user), "onboard") == f"-o {a_file} is a file, not a folder"
    assert _one_line(_run(["export", str(BLUEPRINT), "-o", str(a_file / "solution.zip")], user), "export") == \
        f"cannot write {a_file / 'solution.zip'}: {a_file} is a file, not a folder"
    assert a_file.read_text() == "not a folder"


def test_export_into_a_folder_writes_solution_zip_there(user: dict[str, str], tmp_path: Path) -> None:
    proc = _run(["export", str(BLUEPRINT), "-o", str(tmp_path)], user)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"wrote {tmp_path / 'solution.zip'} (")
    assert "blueprint.json" in zipfile.ZipFile(tmp_path / "solution.zip").namelist()


def test_onboard_refuses_an_image_reference_no_registry_could_pull(user: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "package"
    message = _one_line(_run(["onboard", "comax", "--image", "not a ref!!", "-o", str(out)], user), "onboard")
    assert message.startswith("image reference 'not a ref!!' is not valid: expected [registry/]repository[:tag]")
    assert _run(["onboard", "comax", "--image", "Upper/Case:1", "-o", str(out)], user).returncode == 2
    assert not out.exists()
    for good in ("ghcr.io/ai4cop/ai4cop-comax:0.1.0", "localhost:5000/ai4cop-comax", "ai4cop-comax@sha256:" + "a" * 64):
        assert _run(["onboard", "comax", "--image", good, "-o", str(out)], user).returncode == 0, good


def test_an_unusable_cache_folder_says_how_to_choose_another(user: dict[str, str], tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    message = _one_line(_run(["demo"], {**user, "XDG_CACHE_HOME": str(a_file)}), "demo")
    assert message.startswith(f"cannot write {a_file}/ai4cop/demo/s5p-co/")
    assert message.endswith(f": Not a directory (the cache folder {a_file}/ai4cop is from XDG_CACHE_HOME; set "
                            "XDG_CACHE_HOME to a writable folder)")
    samples = tmp_path / "s5p"
    assert _run(["sample", "s5p-co", str(samples), "--scanlines", "20"], user).returncode == 0
    # the local catalogue's index is only a cache: without one, the search still answers
    search = _run(["search", "--dir", str(samples), "--start", "2024-03-01", "--end", "2024-03-02"],
                  {**user, "XDG_CACHE_HOME": str(a_file)})
    assert search.returncode == 0 and search.stdout.splitlines()[-1] == "1 product", search.stderr


def test_the_grpc_core_writes_nothing_of_its_own(user: dict[str, str]) -> None:
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _run(["serve", "databroker", "--port", str(port), "--web-port", "0"], user)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1].startswith(f"ai4cop serve: error: cannot listen for gRPC on 0.0.0.0:{port}")
    assert "add_port.cc" not in proc.stderr and "absl" not in proc.stderr
    loaded = subprocess.run([sys.executable, "-c", "import sys, onboarding.cli; print('grpc' in sys.modules)"],
                            capture_output=True, text=True, env=user, timeout=60)
    assert loaded.stdout.strip() == "False"  # so the CLI silences the core before anything loads it
