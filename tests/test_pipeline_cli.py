"""``ai4cop blueprint check``, ``ai4cop up`` (with the platform's client) and ``ai4cop run``, as a user runs them."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from components.common.catalogue import CATALOGUE
from components.orchestrator.blueprint import parse_dockerinfo
from components.runner.demo import ensure_sample_data
from components.runner.local import free_port
from tests.orchestrator_helpers import ai4cop, cli_env, platform_client

ROOT = Path(__file__).parents[1]
pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo cache shared by the tests of this module (sample data generated once)."""
    folder = tmp_path_factory.getbasetemp() / "ai4cop-cache"
    import os

    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(folder)
    try:
        ensure_sample_data()
    finally:
        if old is None:
            del os.environ["XDG_CACHE_HOME"]
        else:
            os.environ["XDG_CACHE_HOME"] = old
    return folder


def _closed(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_blueprint_check_passes_the_root_blueprint(cache: Path) -> None:
    proc = subprocess.run(ai4cop("blueprint", "check", str(ROOT / "blueprint.json")), capture_output=True,
                          text=True, env=cli_env(cache), timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK (2 nodes, 1 link)" in proc.stdout


def test_blueprint_check_lists_every_problem(cache: Path, tmp_path: Path) -> None:
    data = json.loads((ROOT / "blueprint.json").read_text())
    data["nodes"][1]["operation_signature_list"][0]["connected_to"] = [
        {"container_name": "databroker1", "operation_signature": {"operation_name": "next_product"}},
        {"container_name": "ghost", "operation_signature": {"operation_name": "x"}}]
    bad = tmp_path / "blueprint.json"
    bad.write_text(json.dumps(data))
    protos = tmp_path / "protos"
    protos.mkdir()
    (protos / "databroker1.proto").write_text((ROOT / "components/databroker/model.proto").read_text())
    (protos / "comax1.proto").write_text(
        (ROOT / "components/comax/model.proto").read_text().replace("message Product {", "message Product{"))
    proc = subprocess.run(ai4cop("blueprint", "check", str(bad), "--protos", str(protos)), capture_output=True,
                          text=True, env=cli_env(cache), timeout=60)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 1
    assert any("unknown node 'ghost'" in line for line in lines)
    assert any("databroker1.next_product takes Empty" in line for line in lines)
    assert any("[brace-space]" in line and "comax1.proto" in line for line in lines)


@pytest.mark.timeout(300)  # up, two client runs and an `ai4cop run`: a minute on a busy machine
def test_up_serves_the_platform_client_again_and_again_and_stops_everything(cache: Path, tmp_path: Path) -> None:
    basepath = tmp_path / "solution"
    up = subprocess.Popen(ai4cop("up", str(ROOT / "blueprint.json"), "--basepath", str(basepath)),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(cache))
    try:
        printed: list[str] = []
        assert up.stdout is not None
        while not printed or printed[-1] != "Ctrl-C stops everything":
            line = up.stdout.readline()
            assert line, up.stderr.read() if up.stderr else ""
            printed.append(line.rstrip("\n"))
        endpoint = next(line for line in printed if line.startswith("orchestrator: ")).split(": ", 1)[1]
        for node in ("databroker1", "comax1"):
            (line,) = [line for line in printed if line.startswith(f"{node}: ")]
            web = line.split(", ")[1].removesuffix(" (web)")
            assert line.endswith(" (web)") and "(gRPC)" in line
            assert httpx.get(f"{web}healthz", timeout=10).status_code == 200
        client = basepath / "orchestrator_client" / "orchestrator_client.py"
        assert f"python3 {client} --endpoint={endpoint} --basepath={basepath}" in "\n".join(printed)
        assert sorted(p.name for p in (basepath / "microservice").iterdir()) == ["comax1.proto", "databroker1.proto"]
        ports = [e.port for e in parse_dockerinfo((basepath / "dockerinfo.json").read_text()).values()]
        assert len(ports) == 3
        script = platform_client(tmp_path / "client")
        first = subprocess.run([sys.executable, str(script), f"--endpoint={endpoint}", f"--basepath={basepath}"],
                               cwd=script.parent, capture_output=True, text=True, timeout=60)
        assert first.returncode == 0, first.stderr
        assert "final: run.finished" in first.stdout, first.stdout
        assert first.stdout.count("comax1 produced event 'RPC.finished'") == 6
        # Again, with the client `up` wrote (the one `ai4cop export` ships): the broker starts over for the new
        # run, so it analyses all six products again.
        shipped = subprocess.run([sys.executable, str(client), f"--endpoint={endpoint}", f"--basepath={basepath}",
                                  "--timeout=60"], capture_output=True, text=True, timeout=90)
        assert shipped.returncode == 0, shipped.stdout + shipped.stderr
        lines = shipped.stdout.splitlines()
        assert "run: success=True code=0 message='running'" in lines
        assert sum(line.startswith("[run-2] RPC.finished comax1") for line in lines) == 6
        # the run may finish before `run` returns, so its final event may come before or after that line
        assert [line for line in lines if line.startswith("[")][-1].startswith("[run-2] run.finished orchestrator")
        # And `ai4cop run` against the nodes that are up: a third run, the whole answer, as `demo` prints it.
        again = subprocess.run(ai4cop("run", str(ROOT / "blueprint.json"), "--dockerinfo",
                                      str(basepath / "dockerinfo.json")),
                               capture_output=True, text=True, env=cli_env(cache), timeout=120)
        assert again.returncode == 0, again.stderr
        assert "products found 6, done 6" in again.stderr and "run finished in " in again.stderr
        assert again.stdout.startswith("Maximum CO column: ") and "over 6 product(s)" in again.stdout
    finally:
        up.send_signal(signal.SIGTERM)
        code = up.wait(30)
    assert code == 0
    assert all(_closed(port) for port in ports)


def test_run_prints_the_last_node_result_as_json(cache: Path) -> None:
    proc = subprocess.run(ai4cop("run", str(ROOT / "blueprint.json"), "--json"), capture_output=True, text=True,
                          env=cli_env(cache), timeout=90)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["products_analyzed"] == 6 and result["max_mol_m2"] > 0
    assert "products found 6, done 6" in proc.stderr


@pytest.mark.timeout(300)  # two local runs
def test_run_prints_the_answer_as_demo_does_and_says_when_there_is_none(cache: Path, tmp_path: Path) -> None:
    proc = subprocess.run(ai4cop("run", str(ROOT / "blueprint.json")), capture_output=True, text=True,
                          env=cli_env(cache), timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("Maximum CO column: ") and lines[1].startswith("  where: latitude ")
    assert "over 6 product(s)" in lines[-1] and "run finished in " in proc.stderr
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"databroker1": {"DATABROKER_START": "2023-01-01", "DATABROKER_END": "2023-01-02"}}))
    nothing = subprocess.run(ai4cop("run", str(ROOT / "blueprint.json"), "--config", str(config)),
                             capture_output=True, text=True, env=cli_env(cache), timeout=120)
    assert nothing.returncode == 0, nothing.stderr
    assert nothing.stdout == "comax1.analyze: no result (0 calls)\n"


def test_run_on_a_wrong_port_says_what_it_waits_for(cache: Path, tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    info = tmp_path / "dockerinfo.json"
    info.write_text(json.dumps({"docker_info_list": [
        {"container_name": name, "ip_address": "127.0.0.1", "port": port} for name in ("databroker1", "comax1")]}))
    proc = subprocess.run(ai4cop("run", str(ROOT / "blueprint.json"), "--dockerinfo", str(info)), capture_output=True,
                          text=True, env={**cli_env(cache), "ORCHESTRATOR_STARTUP_TIMEOUT": "3"}, timeout=110)
    assert proc.returncode == 1
    assert (f"waiting for comax1 at 127.0.0.1:{port}, databroker1 at 127.0.0.1:{port} to answer (up to 3 s)"
            in proc.stderr)
    assert re.search(rf"^ai4cop run: error: (comax1.analyze|databroker1.next_product) failed: UNAVAILABLE: not "
                     rf"reachable at 127.0.0.1:{port} within 3 s", proc.stderr, re.MULTILINE), proc.stderr


def test_run_names_a_node_that_cannot_start(cache: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"databroker1": {"DATABROKER_AOI": "not an area"}}))
    proc = subprocess.run(ai4cop("run", str(ROOT / "blueprint.json"), "--config", str(config)),
                          capture_output=True, text=True, env=cli_env(cache), timeout=90)
    assert proc.returncode != 0
    # (on a busy machine a line saying a node was killed after the stop grace period may come first)
    assert any(line.startswith("ai4cop run: error: node databroker1 (databroker) exited")
               for line in proc.stderr.splitlines()), proc.stderr


def test_run_rejects_an_unknown_image(cache: Path, tmp_path: Path) -> None:
    data = json.loads((ROOT / "blueprint.json").read_text())
    data["nodes"][1]["image"] = "docker.io/someone/tracker:1"
    bad = tmp_path / "blueprint.json"
    bad.write_text(json.dumps(data))
    proc = subprocess.run(ai4cop("run", str(bad)), capture_output=True, text=True, env=cli_env(cache), timeout=60)
    assert proc.returncode == 2
    # every catalogue component's repository name, sorted (the list grows as components are added)
    names = ", ".join(sorted(entry.image for entry in CATALOGUE))
    assert proc.stderr.strip().splitlines() == [
        "ai4cop run: error: node comax1: image 'docker.io/someone/tracker:1' is not an ai4cop component "
        f"(repository names: {names})"]


def test_blueprint_check_flags_kubernetes_names_and_warns_on_stream_flags(cache: Path, tmp_path: Path) -> None:
    data = json.loads((ROOT / "blueprint.json").read_text())
    data["nodes"][0]["operation_signature_list"][0]["operation_signature"]["output_message_stream"] = True
    warned = tmp_path / "warned.json"
    warned.write_text(json.dumps(data))
    proc = subprocess.run(ai4cop("blueprint", "check", str(warned)), capture_output=True, text=True,
                          env=cli_env(cache), timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0] == (
        f"{warned}: warning: node databroker1: operation next_product has output_message_stream=true but the "
        "proto's output is not a stream (the proto wins)")
    data["nodes"][1]["container_name"] = "CO_max"
    data["nodes"][0]["operation_signature_list"][0]["connected_to"][0]["container_name"] = "CO_max"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    proc = subprocess.run(ai4cop("blueprint", "check", str(bad)), capture_output=True, text=True,
                          env=cli_env(cache), timeout=60)
    assert proc.returncode == 1
    assert any("node CO_max: container name is not a DNS-1035 label" in line for line in proc.stdout.splitlines())


def test_up_refuses_an_invalid_pipeline_before_starting_anything(cache: Path, tmp_path: Path) -> None:
    data = json.loads((ROOT / "blueprint.json").read_text())
    data["nodes"][1]["operation_signature_list"][0]["operation_signature"]["input_message_name"] = "Foo"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    proc = subprocess.run(ai4cop("up", str(bad), "--basepath", str(tmp_path / "out")), capture_output=True,
                          text=True, env=cli_env(cache), timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "ai4cop up: error: invalid pipeline: node comax1: operation analyze declares input message Foo but the "
        "proto's rpc analyze has Product"]
    assert not (tmp_path / "out" / "logs").exists()
