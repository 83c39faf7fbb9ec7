#!/usr/bin/env python3
"""Deploy this solution to Kubernetes and run its pipeline.

    pip install -r requirements.txt
    python3 kubernetes-client-script.py -n NAMESPACE            # create ns, apply, wait ready, initialize + run
    python3 kubernetes-client-script.py -n NAMESPACE --dry-run  # print what would be applied; no cluster needed

Creates the namespace when missing, applies every manifest in ``deployments/`` (server-side apply, so running
it again updates in place), optionally creates the credentials Secret from an env file, waits until every
Deployment is ready, then runs the pipeline through the orchestrator (``orchestrator_client``), reached at
``--endpoint``, at the orchestrator Service's load balancer when it is exposed, or via ``kubectl port-forward``.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
FIELD_MANAGER = "ai4cop-solution"
# Claims, Secret and settings first (pods need them), then Services (DNS names exist when pods start), then
# Deployments.
ORDER = {"PersistentVolumeClaim": 0, "Secret": 1, "ConfigMap": 2, "Service": 3, "Deployment": 4}


def load_manifests(base: Path) -> list[dict[str, Any]]:
    """Every manifest in ``base/deployments``, in apply order."""
    docs: list[dict[str, Any]] = []
    for path in sorted((base / "deployments").glob("*.yaml")):
        docs.extend(doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc)
    return sorted(docs, key=lambda doc: ORDER.get(doc["kind"], 9))


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines (``#`` comments and blank lines ignored) for the credentials Secret."""
    values = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise SystemExit(f"error: cannot read the env file {path}: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise SystemExit(f"error: {path} is not a text file: {err.reason}") from None
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", key.strip()):
            raise SystemExit(f"error: {path}:{number}: expected KEY=VALUE")
        values[key.strip()] = value.strip()
    return values


def secret_manifest(name: str, values: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": "Opaque",
            "stringData": values}


def dry_run(namespace: str, docs: Sequence[dict[str, Any]]) -> None:
    """Print the namespace and every manifest that would be applied (Secret values masked)."""
    print(f"# would create namespace {namespace} (if missing) and apply {len(docs)} manifests")
    for doc in docs:
        shown = doc
        if doc["kind"] == "Secret":
            shown = {**doc, "stringData": {key: "********" for key in doc.get("stringData", {})}}
        print("---")
        print(f"# {doc['kind']}/{doc['metadata']['name']} in namespace {namespace}")
        print(yaml.safe_dump(shown, sort_keys=False), end="")


def ensure_namespace(api: Any, namespace: str) -> None:
    """Create the namespace unless it exists. Users limited to their namespace may not read namespaces at all
    (403): the namespace is then taken to exist, and applying into it says soon enough if it does not."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core = client.CoreV1Api(api)
    try:
        core.read_namespace(namespace)
        print(f"namespace {namespace} exists")
        return
    except ApiException as err:
        if err.status == 403:
            print(f"namespace {namespace}: not allowed to read namespaces; assuming it exists")
            return
        if err.status != 404:
            raise
    try:
        core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        print(f"namespace {namespace} created")
    except ApiException as err:
        if err.status != 409:  # created meanwhile
            raise
        print(f"namespace {namespace} exists")


def apply_all(namespace: str, docs: Sequence[dict[str, Any]]) -> None:
    """Create the namespace when missing, then server-side apply every manifest."""
    from kubernetes import client, dynamic

    api = client.ApiClient()
    ensure_namespace(api, namespace)
    resources = dynamic.DynamicClient(api).resources
    for doc in docs:
        resource = resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
        resource.server_side_apply(body=doc, name=doc["metadata"]["name"], namespace=namespace,
                                   field_manager=FIELD_MANAGER, force_conflicts=True)
        print(f"applied {doc['kind']}/{doc['metadata']['name']}")


def wait_ready(namespace: str, names: Sequence[str], timeout: float) -> None:
    """Wait until every Deployment in ``names`` has all its replicas ready."""
    from kubernetes import client

    apps = client.AppsV1Api()
    deadline = time.monotonic() + timeout
    pending = list(names)
    while pending:
        pending = [name for name in pending if not _ready(apps.read_namespaced_deployment(name, namespace))]
        if not pending:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"error: not ready after {timeout:.0f} s: {', '.join(pending)} (kubectl -n {namespace} "
                             "describe pods)")
        time.sleep(3)
    print(f"{len(names)} deployments ready")


def _ready(deployment: Any) -> bool:
    wanted = deployment.spec.replicas or 0
    return bool((deployment.status.ready_replicas or 0) >= wanted and
                (deployment.status.updated_replicas or 0) >= wanted)


def orchestrator_endpoint(namespace: str, timeout: float) -> tuple[str, subprocess.Popen[str] | None]:
    """The orchestrator's external address, or a local ``kubectl port-forward`` to it (returned to stop later)."""
    from kubernetes import client

    core = client.CoreV1Api()
    svc = core.read_namespaced_service("orchestrator", namespace)
    if svc.spec.type == "LoadBalancer":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ingress = (svc.status.load_balancer.ingress or []) if svc.status.load_balancer else []
            if ingress:
                return f"{ingress[0].ip or ingress[0].hostname}:8061", None
            time.sleep(3)
            svc = core.read_namespaced_service("orchestrator", namespace)
    return port_forward(namespace)


def port_forward(namespace: str) -> tuple[str, subprocess.Popen[str]]:
    """``kubectl port-forward`` to the orchestrator Service on a free local port."""
    try:
        forward = subprocess.Popen(["kubectl", "-n", namespace, "port-forward", "svc/orchestrator", ":8061"],
                                   stdout=subprocess.PIPE, text=True)
    except FileNotFoundError:
        raise SystemExit("error: kubectl is not installed, so the orchestrator cannot be port-forwarded; install "
                         "kubectl or pass --endpoint HOST:PORT (e.g. with --expose orchestrator at export)") from None
    assert forward.stdout is not None
    for line in forward.stdout:
        match = re.search(r"127\.0\.0\.1:(\d+)", line)
        if match:
            return f"127.0.0.1:{match.group(1)}", forward
    forward.wait(10)
    raise SystemExit("error: kubectl port-forward to svc/orchestrator failed (see above); pass --endpoint HOST:PORT")


def run_pipeline(endpoint: str) -> int:
    sys.path.insert(0, str(HERE / "orchestrator_client"))
    from orchestrator_client import run_pipeline as run

    return int(run(endpoint, HERE))


def api_error(err: Exception) -> str:
    """One line for a failed Kubernetes API call: the status and the API server's own message."""
    status, reason, body = getattr(err, "status", ""), getattr(err, "reason", ""), getattr(err, "body", "")
    try:
        message = json.loads(body).get("message", "") if body else ""
    except (ValueError, AttributeError):
        message = ""
    return f"error: the Kubernetes API answered {status} {reason}: {message or str(body)[:300] or 'no message'}"


def deploy_and_run(args: argparse.Namespace, docs: Sequence[dict[str, Any]]) -> int:
    """Apply, wait until ready, then run the pipeline (unless --no-run)."""
    from kubernetes import config

    config.load_kube_config(config_file=args.kubeconfig)
    apply_all(args.namespace, docs)
    wait_ready(args.namespace, [d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"], args.timeout)
    if args.no_run:
        return 0
    forward = None
    endpoint = args.endpoint
    if endpoint is None:
        endpoint, forward = orchestrator_endpoint(args.namespace, 120)
    try:
        return run_pipeline(endpoint)
    finally:
        if forward is not None:
            forward.terminate()
            forward.wait(10)


def main(argv: Sequence[str] | None = None) -> int:
    defaults = json.loads((HERE / "solution.json").read_text(encoding="utf-8"))
    parser = argparse.ArgumentParser(description="Deploy this solution to Kubernetes and run its pipeline.")
    parser.add_argument("-n", "--namespace", default=defaults["namespace"],
                        help="namespace, created when missing (default: %(default)s)")
    parser.add_argument("--dry-run", action="store_true", help="print what would be applied; needs no cluster")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--secret-env-file", type=Path,
                        help="KEY=VALUE file: create/update the credentials Secret from it")
    parser.add_argument("--secret-name", default=defaults.get("secret") or "ai4cop-credentials",
                        help="the credentials Secret the pods read (default: %(default)s)")
    parser.add_argument("--endpoint", help="orchestrator HOST:PORT (default: load balancer or port-forward)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for readiness")
    parser.add_argument("--no-run", action="store_true", help="deploy only; do not run the pipeline")
    args = parser.parse_args(argv)

    docs = load_manifests(HERE)
    if args.secret_env_file:
        docs = sorted([*docs, secret_manifest(args.secret_name, read_env_file(args.secret_env_file))],
                      key=lambda doc: ORDER.get(doc["kind"], 9))
    if args.dry_run:
        dry_run(args.namespace, docs)
        return 0
    from kubernetes.client.rest import ApiException
    from kubernetes.config import ConfigException
    from urllib3.exceptions import HTTPError

    try:
        return deploy_and_run(args, docs)
    except ApiException as err:
        raise SystemExit(api_error(err)) from None
    except ConfigException as err:
        raise SystemExit(f"error: no usable kubeconfig ({err}); pass --kubeconfig FILE or set KUBECONFIG") from None
    except HTTPError as err:
        raise SystemExit(f"error: cannot reach the Kubernetes API: {err}") from None


if __name__ == "__main__":
    sys.exit(main())
