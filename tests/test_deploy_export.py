"""Solution export: the platform's layout, valid Kubernetes manifests, a dry-run client script, a working client."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml

from components.common.errors import InvalidInput
from onboarding.cli import main
from onboarding.export import ExportOptions, build_solution, export_solution, load_manifests, parse_replicas
from onboarding.images import REPO_ROOT
from tests.deploy_helpers import FakeKubeApi, status_body

BLUEPRINT = REPO_ROOT / "blueprint.json"
K8S_VERSION = "1.30.0"


def _validate(manifest: dict[str, Any]) -> None:
    import kubernetes_validate

    kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)


@pytest.fixture(scope="module")
def solution(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CO blueprint exported with every option, unpacked."""
    out = tmp_path_factory.mktemp("solution")
    options = ExportOptions(namespace="co-max", registry="registry.example.org/ai4cop", tag="2.0",
                            pull_secret="regcred", replicas={"comax1": 3}, expose=("orchestrator",),
                            shared_folder="/data/shared", storage_class="cephfs")
    names = export_solution(BLUEPRINT, out / "solution.zip", options)
    with zipfile.ZipFile(out / "solution.zip") as archive:
        assert sorted(archive.namelist()) == names
        archive.extractall(out / "x")
    return out / "x"


def _yaml(base: Path, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((base / "deployments" / name).read_text())
    return doc


def test_layout_is_the_platforms(solution: Path) -> None:
    expected = {
        "blueprint.json", "dockerinfo.json", "deployment-readme.txt", "requirements.txt", "solution.json",
        "kubernetes-client-script.py", "protobuf/orchestrator.proto", "orchestrator_client/orchestrator_client.py",
        "microservice/databroker1.proto", "microservice/comax1.proto", "deployments/pvc.yaml",
        *(f"deployments/{n}_{kind}.yaml" for n in ("databroker1", "comax1", "orchestrator")
          for kind in ("deployment", "service", "configmap")),
    }
    assert {str(p.relative_to(solution)) for p in solution.rglob("*") if p.is_file()} == expected
    comax_proto = (REPO_ROOT / "components/comax/model.proto").read_text()
    assert (solution / "microservice/comax1.proto").read_text() == comax_proto
    assert "service Orchestrator {" in (solution / "protobuf/orchestrator.proto").read_text()


def test_every_manifest_validates_against_the_kubernetes_schemas(solution: Path) -> None:
    manifests = [yaml.safe_load(p.read_text()) for p in sorted((solution / "deployments").glob("*.yaml"))]
    assert len(manifests) == 10
    for manifest in manifests:
        _validate(manifest)


def test_dockerinfo_names_services_on_8061_plus_the_orchestrator(solution: Path) -> None:
    info = json.loads((solution / "dockerinfo.json").read_text())["docker_info_list"]
    assert {(e["container_name"], e["ip_address"], int(e["port"])) for e in info} == {
        ("databroker1", "databroker1", 8061), ("comax1", "comax1", 8061), ("orchestrator", "orchestrator", 8061)}


def test_images_are_repointed_at_the_registry_and_tag(solution: Path) -> None:
    nodes = {n["container_name"]: n["image"] for n in json.loads((solution / "blueprint.json").read_text())["nodes"]}
    assert nodes == {"databroker1": "registry.example.org/ai4cop/ai4cop-databroker:2.0",
                     "comax1": "registry.example.org/ai4cop/ai4cop-comax:2.0"}
    pod = _yaml(solution, "orchestrator_deployment.yaml")["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "registry.example.org/ai4cop/ai4cop-orchestrator:2.0"


def test_deployment_has_probes_resources_security_secret_and_shared_volume(solution: Path) -> None:
    deployment = _yaml(solution, "databroker1_deployment.yaml")
    assert deployment["apiVersion"] == "apps/v1" and deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["selector"]["matchLabels"] == {"app": "databroker1"}
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert [(p["name"], p["containerPort"]) for p in container["ports"]] == [("protobuf-api", 8061), ("webui", 8062)]
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["grpc"] == {"port": 8061}
    assert set(container["resources"]) == {"requests", "limits"}
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                            "readOnlyRootFilesystem": True}
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    assert container["envFrom"] == [{"configMapRef": {"name": "databroker1-settings"}},
                                    {"secretRef": {"name": "ai4cop-credentials", "optional": True}}]
    assert "env" not in container
    assert _yaml(solution, "databroker1_configmap.yaml")["data"]["SHARED_FOLDER_PATH"] == "/data/shared"
    assert {"name": "shared", "persistentVolumeClaim": {"claimName": "ai4cop-shared"}} in pod["volumes"]
    pvc = _yaml(solution, "pvc.yaml")
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"] and pvc["spec"]["storageClassName"] == "cephfs"


def test_services_are_clusterip_headless_when_scaled_and_exposed_on_request(solution: Path) -> None:
    broker = _yaml(solution, "databroker1_service.yaml")["spec"]
    assert broker["type"] == "ClusterIP" and "clusterIP" not in broker
    assert [(p["name"], p["port"]) for p in broker["ports"]] == [("protobuf-api", 8061), ("webui", 8062)]
    comax = _yaml(solution, "comax1_service.yaml")["spec"]
    assert comax["clusterIP"] == "None"
    assert _yaml(solution, "comax1_deployment.yaml")["spec"]["replicas"] == 3
    assert _yaml(solution, "orchestrator_service.yaml")["spec"]["type"] == "LoadBalancer"


def test_defaults_have_no_pull_secret_no_pvc_and_nothing_exposed() -> None:
    files = build_solution(BLUEPRINT, ExportOptions())
    assert "deployments/pvc.yaml" not in files
    for manifest in load_manifests(files):
        _validate(manifest)
        if manifest["kind"] == "Deployment":
            assert "imagePullSecrets" not in manifest["spec"]["template"]["spec"]
        elif manifest["kind"] == "Service":
            assert manifest["spec"]["type"] == "ClusterIP" and "clusterIP" not in manifest["spec"]
    nodes = json.loads(files["blueprint.json"])["nodes"]
    assert nodes == json.loads(BLUEPRINT.read_text())["nodes"]


def test_requirements_are_complete(solution: Path) -> None:
    names = {line.split(">=")[0].lower() for line in (solution / "requirements.txt").read_text().splitlines()
             if line and not line.startswith("#")}
    assert {"kubernetes", "pyyaml", "grpcio", "grpcio-tools", "protobuf"} <= names
    # every third-party module the two scripts import (grpcio-tools compiles the proto at run time)
    distributions = {"yaml": "pyyaml", "grpc": "grpcio", "google": "protobuf"}
    imported = set()
    for script in ("kubernetes-client-script.py", "orchestrator_client/orchestrator_client.py"):
        for node in ast.walk(ast.parse((solution / script).read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"__future__", "orchestrator_client"}
    assert third_party == {"yaml", "kubernetes", "urllib3", "grpc"}
    assert {distributions.get(module, module) for module in third_party} <= names


def test_client_script_reports_a_missing_env_file_in_one_line(solution: Path, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "kubernetes-client-script.py", "--dry-run", "--secret-env-file",
                           str(tmp_path / "missing.env")], cwd=solution, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr == f"error: cannot read the env file {tmp_path / 'missing.env'}: No such file or directory\n"


def test_client_script_dry_run_prints_what_it_would_apply(solution: Path, tmp_path: Path) -> None:
    env_file = tmp_path / "credentials.env"
    env_file.write_text("# S3\nCOMAX_S3_SECRET_KEY=verysecret\n")
    proc = subprocess.run([sys.executable, "kubernetes-client-script.py", "--dry-run",
                           "--secret-env-file", str(env_file)],
                          cwd=solution, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "would create namespace co-max" in proc.stdout
    docs = [doc for doc in yaml.safe_load_all(proc.stdout) if doc]
    assert [d["kind"] for d in docs] == ["PersistentVolumeClaim", "Secret", "ConfigMap", "ConfigMap", "ConfigMap",
                                         "Service", "Service", "Service", "Deployment", "Deployment", "Deployment"]
    assert "verysecret" not in proc.stdout
    for doc in docs:
        _validate(doc)


def test_bad_options_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="CONTAINER=N"):
        parse_replicas(["comax1=zero"])
    with pytest.raises(InvalidInput, match="unknown container"):
        build_solution(BLUEPRINT, ExportOptions(replicas={"nope": 2}))
    bad = json.loads(BLUEPRINT.read_text())
    bad["nodes"][0]["container_name"] = "Data_Broker"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(InvalidInput, match="DNS-1035"):
        build_solution(path, ExportOptions())
    with pytest.raises(InvalidInput, match="--namespace 'Bad_NS' is not a DNS-1123 label"):
        build_solution(BLUEPRINT, ExportOptions(namespace="Bad_NS"))
    with pytest.raises(InvalidInput, match="--pull-secret 'Reg Cred' is not a Kubernetes object name"):
        build_solution(BLUEPRINT, ExportOptions(pull_secret="Reg Cred"))


def test_cli_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "solution.zip"
    code = main(["export", str(BLUEPRINT), "-o", str(out), "--replicas", "comax1=2", "--pull-secret", "regcred"])
    printed = capsys.readouterr()
    assert code == 0 and out.exists() and "20 files" in printed.out
    assert "needs a ReadWriteMany storage class" in printed.err
    assert main(["export", str(tmp_path / "missing.json"), "-o", str(out)]) == 2


# -- the orchestrator client against a real gRPC server speaking orchestrator.proto --------------------


class FakeOrchestrator:
    """Records the calls; ``observe`` streams events until ``run`` was called, then ends."""

    def __init__(self, messages: Any) -> None:
        self.pb = messages
        self.calls: list[str] = []
        self.config: Any = None
        self.ran = futures.Future[None]()

    def initialize(self, request: Any, context: Any) -> Any:
        self.calls.append("initialize")
        self.config = request
        return self.pb.OrchestrationStatus(success=True, code=0, message="initialized")

    def observe(self, request: Any, context: Any) -> Iterator[Any]:
        self.calls.append(f"observe {request.name_regex} {request.component_regex}")
        self.ran.result(timeout=30)
        yield self.pb.OrchestrationEvent(run="r1", name="RPC.call", component="comax1", detail={"method": "analyze"})
        yield self.pb.OrchestrationEvent(run="r1", name="exception", component="comax1",
                                         detail={"method": "analyze", "traceback": "boom"})

    def run(self, request: Any, context: Any) -> Any:
        self.calls.append("run")
        self.ran.set_result(None)
        return self.pb.OrchestrationStatus(success=True, message="running", active_threads=2)


def test_orchestrator_client_observes_initializes_runs_and_waits(solution: Path) -> None:
    sys.path.insert(0, str(solution / "orchestrator_client"))
    try:
        import orchestrator_client
    finally:
        sys.path.remove(str(solution / "orchestrator_client"))
    messages, services = orchestrator_client.load_api(solution)
    fake = FakeOrchestrator(messages)
    servicer = type("Servicer", (services.OrchestratorServicer,), {
        "initialize": lambda _s, r, c: fake.initialize(r, c), "observe": lambda _s, r, c: fake.observe(r, c),
        "run": lambda _s, r, c: fake.run(r, c)})()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    services.add_OrchestratorServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    lines: list[str] = []
    try:
        status = orchestrator_client.run_pipeline(f"127.0.0.1:{port}", solution, timeout=30, emit=lines.append)
    finally:
        server.stop(0)
    assert status == 1  # an exception event was reported
    assert "observe .* .*" in fake.calls
    assert [call for call in fake.calls if not call.startswith("observe")] == ["initialize", "run"]
    assert set(fake.config.protofiles) == {"databroker1.proto", "comax1.proto"}
    assert json.loads(fake.config.dockerinfo) == json.loads((solution / "dockerinfo.json").read_text())
    assert any("EXCEPTION in comax1 analyze" in line and "boom" in line for line in lines)


def test_the_orchestrator_image_comes_from_the_blueprints_registry_and_tag() -> None:
    files = build_solution(BLUEPRINT, ExportOptions())
    deployment = yaml.safe_load(files["deployments/orchestrator_deployment.yaml"])
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "ghcr.io/ai4cop/ai4cop-orchestrator:0.1.0"
    files = build_solution(BLUEPRINT, ExportOptions(tag="0.2.0"))
    nodes = json.loads(files["blueprint.json"])["nodes"]
    assert [n["image"] for n in nodes] == ["ghcr.io/ai4cop/ai4cop-databroker:0.2.0",
                                           "ghcr.io/ai4cop/ai4cop-comax:0.2.0"]


def test_a_scaled_node_exposed_gets_a_public_service_beside_its_headless_one() -> None:
    files = build_solution(BLUEPRINT, ExportOptions(replicas={"comax1": 2}, expose=("comax1",),
                                                    expose_type="NodePort"))
    headless = yaml.safe_load(files["deployments/comax1_service.yaml"])
    public = yaml.safe_load(files["deployments/comax1-public_service.yaml"])
    assert headless["spec"]["clusterIP"] == "None"
    assert public["metadata"]["name"] == "comax1-public" and public["spec"]["type"] == "NodePort"
    assert public["spec"]["selector"] == {"app": "comax1"}
    _validate(public)


def test_orchestrator_client_runs_a_pipeline_on_the_real_orchestrator(tmp_path: Path) -> None:
    """The exported client against our orchestrator and three real gRPC nodes on loopback."""
    from components.common.server import create_server
    from components.orchestrator.app import Settings, build
    from components.orchestrator.blueprint import Endpoint
    from components.runner.local import write_basepath
    from tests.orchestrator_helpers import TestComponent, blueprint, collector, counter, doubler

    got: list[int] = []
    nodes = {"source": TestComponent("Counter", [counter(4)]).start(),
             "double": TestComponent("Doubler", [doubler()]).start(),
             "sink": TestComponent("Collector", [collector(got)]).start()}
    component = build(Settings(host="127.0.0.1", port=0))
    server, port = create_server(component.services, Settings(host="127.0.0.1", port=0))
    server.start()
    try:
        endpoints = {name: Endpoint("127.0.0.1", node.port) for name, node in nodes.items()}
        endpoints["orchestrator"] = Endpoint("127.0.0.1", port)
        links = [("source.next", "double.double"), ("double.double", "sink.collect")]
        write_basepath(tmp_path, blueprint(nodes, links), endpoints, {n: c.proto for n, c in nodes.items()})
        # write_basepath (ai4cop up) puts the client where the solution has it: the same script
        client = tmp_path / "orchestrator_client" / "orchestrator_client.py"
        assert client.read_text() == build_solution(BLUEPRINT, ExportOptions())[
            "orchestrator_client/orchestrator_client.py"]
        proc = subprocess.run([sys.executable, str(client), f"--endpoint=127.0.0.1:{port}", "--basepath=./",
                               "--timeout=60"], cwd=tmp_path, capture_output=True, text=True, timeout=90,
                              check=False)
    finally:
        for hook in component.on_stop:
            hook()
        server.stop(0)
        for node in nodes.values():
            node.stop()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "initialize: success=True" in proc.stdout and "run: success=True" in proc.stdout
    assert "RPC.call sink" in proc.stdout
    assert len(got) == 4


# -- settings, scaling and validation ------------------------------------------------------------------


def _settings(files: dict[str, str], container: str) -> dict[str, str]:
    data: dict[str, str] = yaml.safe_load(files[f"deployments/{container}_configmap.yaml"])["data"]
    return data


def _component_settings(module: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The component's own ``Settings`` built from ``env``, as the container would read it."""
    import importlib

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return importlib.import_module(module).Settings()


def test_the_default_export_configures_the_co_pipeline_for_a_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    files = build_solution(BLUEPRINT, ExportOptions())
    broker = _component_settings("components.databroker.app", _settings(files, "databroker1"), monkeypatch)
    assert (broker.catalogue, broker.processing_mode) == ("cdse", "OFFL")
    broker.query()  # the default area and period are valid
    comax = _component_settings("components.comax.app", _settings(files, "comax1"), monkeypatch)
    assert comax.s3_endpoint == "https://eodata.dataspace.copernicus.eu"
    assert _settings(files, "orchestrator") == {}
    readme = files["deployment-readme.txt"]
    assert "DATABROKER_CATALOGUE=cdse" in readme and "COMAX_S3_SECRET_KEY=..." in readme
    assert readme.index("kubectl create namespace") < readme.index("create secret generic")
    for manifest in load_manifests(files):
        _validate(manifest)


def test_config_file_settings_win_and_restart_the_pods_when_changed() -> None:
    config = {"databroker1": {"DATABROKER_AOI": "5,45,15,55", "DATABROKER_CATALOGUE": "stac"},
              "orchestrator": {"ORCHESTRATOR_CALL_TIMEOUT": "600"}}
    plain = build_solution(BLUEPRINT, ExportOptions())
    configured = build_solution(BLUEPRINT, ExportOptions(config=config))
    broker = _settings(configured, "databroker1")
    assert broker["DATABROKER_AOI"] == "5,45,15,55" and broker["DATABROKER_CATALOGUE"] == "stac"
    assert _settings(configured, "orchestrator") == {"ORCHESTRATOR_CALL_TIMEOUT": "600"}

    def digest(files: dict[str, str], name: str) -> str:
        deployment = yaml.safe_load(files[f"deployments/{name}_deployment.yaml"])
        return str(deployment["spec"]["template"]["metadata"]["annotations"]["ai4cop/settings-sha256"])

    assert digest(plain, "databroker1") != digest(configured, "databroker1")
    assert digest(plain, "comax1") == digest(configured, "comax1")


@pytest.mark.parametrize(("config", "message"), [
    ({"comax1": {"COMAX_S3_SECRET_KEY": "x"}}, "COMAX_S3_SECRET_KEY looks like a credential; put it in the Secret"),
    ({"databroker1": {"DATABROKER_PASSWORD": "x"}}, "DATABROKER_PASSWORD looks like a credential"),
    ({"comax2": {"COMAX_QA_MIN": "0.7"}}, "--config names unknown container(s) comax2"),
    ({"comax1": {"COMAX QA": "0.7"}}, "'COMAX QA' is not an environment variable name"),
])
def test_config_file_mistakes_are_clear_errors(config: dict[str, dict[str, str]], message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        build_solution(BLUEPRINT, ExportOptions(config=config))
    assert message in str(info.value)


def test_a_scaled_analyzer_shares_its_results_and_gets_one_call_per_replica(monkeypatch: pytest.MonkeyPatch) -> None:
    files = build_solution(BLUEPRINT, ExportOptions(replicas={"comax1": 3}))
    pvc = yaml.safe_load(files["deployments/pvc.yaml"])
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    pod = yaml.safe_load(files["deployments/comax1_deployment.yaml"])["spec"]["template"]["spec"]
    assert {"name": "shared", "mountPath": "/shared"} in pod["containers"][0]["volumeMounts"]
    assert {"name": "shared", "persistentVolumeClaim": {"claimName": "ai4cop-shared"}} in pod["volumes"]
    comax = _component_settings("components.comax.app", _settings(files, "comax1"), monkeypatch)
    assert comax.results_folder == Path("/shared/comax1")
    orchestrator = _component_settings("components.orchestrator.app", _settings(files, "orchestrator"), monkeypatch)
    assert orchestrator.run_options().node_concurrency == {"comax1": 3}
    assert yaml.safe_load(files["deployments/comax1_service.yaml"])["spec"]["clusterIP"] == "None"
    for manifest in load_manifests(files):
        _validate(manifest)
    # An explicit shared folder is used as it is; a single analyzer still keeps its results there.
    files = build_solution(BLUEPRINT, ExportOptions(shared_folder="/data"))
    assert _settings(files, "comax1")["COMAX_RESULTS_FOLDER"] == "/data/comax1"
    assert "ORCHESTRATOR_NODE_CONCURRENCY" not in _settings(files, "orchestrator")


def _broken_blueprint(tmp_path: Path) -> Path:
    data = json.loads(BLUEPRINT.read_text())
    data["nodes"][1]["operation_signature_list"][0]["connected_to"] = [
        {"container_name": "databroker1", "operation_signature": {"operation_name": "next_product"}},
        {"container_name": "ghost", "operation_signature": {"operation_name": "x"}}]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    return path


def test_an_invalid_pipeline_is_not_exported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _broken_blueprint(tmp_path)
    with pytest.raises(InvalidInput) as info:
        build_solution(path, ExportOptions())
    message = str(info.value)
    assert message.startswith(f"{path}: invalid pipeline: ")
    assert "unknown node 'ghost'" in message and "databroker1.next_product takes Empty" in message
    out = tmp_path / "solution.zip"
    assert main(["export", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ai4cop export: error: ") and not out.exists()
    assert main(["export", str(BLUEPRINT), "-o", str(out), "--namespace", "Bad_NS"]) == 2
    assert "is not a DNS-1123 label" in capsys.readouterr().err and not out.exists()


def test_cli_export_reads_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "nodes.json"
    config.write_text(json.dumps({"comax1": {"COMAX_QA_MIN": 0.75}}))
    out = tmp_path / "solution.zip"
    assert main(["export", str(BLUEPRINT), "-o", str(out), "--config", str(config)]) == 0
    with zipfile.ZipFile(out) as archive:
        data = yaml.safe_load(archive.read("deployments/comax1_configmap.yaml"))["data"]
    assert data["COMAX_QA_MIN"] == "0.75"


# -- the client script against a Kubernetes API server on loopback --------------------------------------

NS_PATH = "/api/v1/namespaces/co-max"
FORBIDDEN_READ = status_body(403, "Forbidden", 'namespaces "co-max" is forbidden: User "dev" cannot get resource '
                                               '"namespaces" in API group "" in the namespace "co-max"')
FORBIDDEN_CREATE = status_body(403, "Forbidden", 'namespaces is forbidden: User "dev" cannot create resource '
                                                 '"namespaces" in API group "" at the cluster scope')


def _script(solution: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "kubernetes-client-script.py", "--no-run", *args], cwd=solution,
                          capture_output=True, text=True, timeout=120, check=False, env=env)


@pytest.mark.parametrize(("routes", "said", "error"), [
    # not allowed to create namespaces: one line with the API server's message
    ({("GET", NS_PATH): (404, status_body(404, "NotFound", 'namespaces "co-max" not found')),
      ("POST", "/api/v1/namespaces"): (403, FORBIDDEN_CREATE)},
     "", "error: the Kubernetes API answered 403 Forbidden: " + str(FORBIDDEN_CREATE["message"])),
    # not allowed to read namespaces: assumed to exist; the next call that is refused says why, in one line
    ({("GET", NS_PATH): (403, FORBIDDEN_READ)},
     "namespace co-max: not allowed to read namespaces; assuming it exists", "error: the Kubernetes API answered 404"),
])
def test_client_script_api_errors_are_one_line(solution: Path, tmp_path: Path, routes: Any, said: str,
                                               error: str) -> None:
    api = FakeKubeApi(routes)
    try:
        proc = _script(solution, "--kubeconfig", str(api.kubeconfig(tmp_path / "kubeconfig")))
    finally:
        api.close()
    assert proc.returncode == 1
    assert said in proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(error), proc.stderr
    assert api.requests[0] == ("GET", NS_PATH)


def test_client_script_without_kubeconfig_or_kubectl_says_so_in_one_line(solution: Path, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    proc = _script(solution, "--kubeconfig", str(tmp_path / "missing"))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no usable kubeconfig"), proc.stderr
    import importlib.util

    spec = importlib.util.spec_from_file_location("client_script", solution / "kubernetes-client-script.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SystemExit, match="kubectl is not installed") as info:
        script.port_forward("co-max")
    assert "\n" not in str(info.value)
