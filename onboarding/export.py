"""Export a blueprint as the platform's Kubernetes solution zip (docs/platform.md, section 7), done better.

Layout: ``blueprint.json``, ``dockerinfo.json``, ``deployments/<container>_deployment.yaml``, ``_service.yaml``
and ``_configmap.yaml`` (its settings) per node and for ``orchestrator``, ``deployments/pvc.yaml`` with a shared
folder,
``microservice/<container>.proto``, ``protobuf/orchestrator.proto``, ``orchestrator_client/``,
``kubernetes-client-script.py``, ``requirements.txt`` and ``deployment-readme.txt``.
"""

from __future__ import annotations

import json
import re
import string
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from components.common.contract import component_proto
from components.common.errors import InvalidInput, NotFound
from components.common.registry import component_for_image, image_for_component
from onboarding.manifests import (
    GRPC_PORT,
    ClusterOptions,
    Workload,
    config_map,
    deployment,
    public_service,
    service,
    shared_claim,
)
from onboarding.solution_settings import DEFAULT_SHARED_FOLDER, Container, needs_shared_folder, solution_settings

ORCHESTRATOR = "orchestrator"
# Kubernetes names: a namespace is a DNS-1123 label, a Secret a DNS-1123 subdomain.
DNS_1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS_1123_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# Scripts shipped in the zip under the names the platform's users know.
ASSETS = {
    "kubernetes-client-script.py": "kubernetes_client_script.py",
    "orchestrator_client/orchestrator_client.py": "orchestrator_client.py",
    "requirements.txt": "requirements.txt",
}


@dataclass(frozen=True)
class ExportOptions:
    """Everything ``ai4cop export`` can change about the solution."""

    namespace: str = "ai4cop"
    registry: str | None = None
    tag: str | None = None
    pull_secret: str | None = None
    secret: str | None = "ai4cop-credentials"
    expose: Sequence[str] = ()
    expose_type: str = "LoadBalancer"
    replicas: dict[str, int] = field(default_factory=dict)
    shared_folder: str | None = None
    shared_size: str = "10Gi"
    storage_class: str | None = None
    config: dict[str, dict[str, str]] = field(default_factory=dict)

    def cluster(self, shared_folder: str | None) -> ClusterOptions:
        return ClusterOptions(pull_secret=self.pull_secret, secret=self.secret, shared_folder=shared_folder,
                              shared_size=self.shared_size, storage_class=self.storage_class,
                              expose_type=self.expose_type)


def parse_replicas(items: Iterable[str]) -> dict[str, int]:
    """``["comax1=3"]`` -> ``{"comax1": 3}``; ``InvalidInput`` for anything else."""
    result = {}
    for item in items:
        name, sep, count = item.partition("=")
        if not sep or not count.strip().isdigit() or int(count) < 1:
            raise InvalidInput(f"--replicas wants CONTAINER=N with N >= 1, got {item!r}")
        result[name.strip()] = int(count)
    return result


def _our_component(image: str) -> str | None:
    try:
        return component_for_image(image)
    except InvalidInput:
        return None


def _split_ref(image: str) -> tuple[str, str]:
    """(registry/namespace, tag) of an image reference (``("", "latest")`` parts when absent)."""
    registry, _, last = image.rpartition("/")
    last = last.split("@", 1)[0]
    return registry, last.rsplit(":", 1)[1] if ":" in last else "latest"


def _image(image: str, component: str, options: ExportOptions) -> str:
    """One of our images, re-pointed at ``--registry``/``--tag`` (each kept from ``image`` when not given)."""
    registry, tag = _split_ref(image)
    return image_for_component(component, registry if options.registry is None else options.registry,
                               options.tag or tag)


def _node_proto(name: str, proto_uri: str, component: str | None, base: Path) -> str:
    if component is not None:
        return component_proto(component)
    for candidate in (base / proto_uri if proto_uri else None, base / "microservice" / f"{name}.proto"):
        if candidate is not None and candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise NotFound(f"node {name}: image is not an ai4cop component and its proto was not found "
                   f"(looked for {proto_uri or '(no proto_uri)'} and microservice/{name}.proto next to the blueprint)")


def _check_names(names: Iterable[str], options: ExportOptions) -> None:
    known = set(names)
    if not DNS_1123_LABEL.match(options.namespace):
        raise InvalidInput(f"--namespace {options.namespace!r} is not a DNS-1123 label (lowercase letters, digits "
                           "and '-', starting and ending with a letter or digit, at most 63)")
    for label, value in (("--secret", options.secret), ("--pull-secret", options.pull_secret)):
        if value and not DNS_1123_SUBDOMAIN.match(value):
            raise InvalidInput(f"{label} {value!r} is not a Kubernetes object name (lowercase letters, digits, "
                               "'-' and '.')")
    if ORCHESTRATOR in known:
        raise InvalidInput(f"a blueprint node may not be named {ORCHESTRATOR!r}: the solution adds its own")
    for label, wanted in (("--replicas", options.replicas), ("--expose", options.expose)):
        unknown = sorted(set(wanted) - known - {ORCHESTRATOR})
        if unknown:
            raise InvalidInput(f"{label} names unknown container(s) {', '.join(unknown)}; "
                               f"known: {', '.join(sorted(known))}")


def build_solution(blueprint_path: Path, options: ExportOptions) -> dict[str, str]:
    """Every file of the solution as ``{path in zip: text}``."""
    import yaml

    from components.orchestrator.blueprint import Endpoint, dump_dockerinfo, parse_blueprint

    try:
        raw_text = blueprint_path.read_text(encoding="utf-8")
    except OSError as err:
        raise NotFound(f"cannot read blueprint {blueprint_path}: {err.strerror}") from err
    blueprint = parse_blueprint(raw_text)
    if not blueprint.nodes:
        raise InvalidInput(f"{blueprint_path}: the blueprint has no nodes")
    _check_names(blueprint.nodes, options)
    raw = json.loads(raw_text)
    files: dict[str, str] = {}
    containers = []
    images = {}
    ours = ""
    for node in raw["nodes"]:
        name = node["container_name"]
        component = _our_component(str(node.get("image", "")))
        if not node.get("image"):
            raise InvalidInput(f"node {name}: no image")
        if component is not None:
            if options.registry is not None or options.tag is not None:
                node["image"] = _image(str(node["image"]), component, options)
            ours = ours or str(node["image"])
        files[f"microservice/{name}.proto"] = _node_proto(name, str(node.get("proto_uri", "")), component,
                                                          blueprint_path.parent)
        containers.append(Container(name, component, options.replicas.get(name, 1)))
        images[name] = str(node["image"])
    _check_pipeline(blueprint_path, raw_text, files)
    # The orchestrator comes from where the blueprint's own ai4cop images come from.
    images[ORCHESTRATOR] = _image(ours or "ai4cop-orchestrator:latest", ORCHESTRATOR, options)
    containers.append(Container(ORCHESTRATOR, ORCHESTRATOR))
    shared_folder = options.shared_folder or (DEFAULT_SHARED_FOLDER if needs_shared_folder(containers) else None)
    settings = solution_settings(containers, options.config, shared_folder, ORCHESTRATOR)
    workloads = [Workload(c.name, images[c.name], c.component, c.replicas, c.name in options.expose,
                          settings[c.name]) for c in containers]
    files["blueprint.json"] = json.dumps(raw, indent=2) + "\n"
    # A Service name resolves in the namespace; a headless one to every replica (gRPC round_robin).
    files["dockerinfo.json"] = dump_dockerinfo({w.name: Endpoint(w.name, GRPC_PORT) for w in workloads})
    cluster = options.cluster(shared_folder)
    for work in workloads:
        files[f"deployments/{work.name}_configmap.yaml"] = yaml.safe_dump(config_map(work), sort_keys=False)
        files[f"deployments/{work.name}_deployment.yaml"] = yaml.safe_dump(deployment(work, cluster), sort_keys=False)
        files[f"deployments/{work.name}_service.yaml"] = yaml.safe_dump(service(work, cluster), sort_keys=False)
        if work.exposed and work.headless:
            files[f"deployments/{work.name}-public_service.yaml"] = yaml.safe_dump(public_service(work, cluster),
                                                                                   sort_keys=False)
    if shared_folder:
        files["deployments/pvc.yaml"] = yaml.safe_dump(shared_claim(cluster), sort_keys=False)
    files["protobuf/orchestrator.proto"] = component_proto(ORCHESTRATOR)
    for target, asset in ASSETS.items():
        files[target] = _asset(asset)
    files["solution.json"] = json.dumps({"name": blueprint.name, "namespace": options.namespace,
                                            "secret": options.secret or ""}, indent=2) + "\n"
    files["deployment-readme.txt"] = _readme(blueprint.name or blueprint_path.stem, workloads, options,
                                             shared_folder)
    return files


def _check_pipeline(blueprint_path: Path, raw_text: str, files: dict[str, str]) -> None:
    """``InvalidInput`` listing what ``ai4cop blueprint check`` would (graph, messages, container names)."""
    from components.orchestrator.service import load_pipeline

    protos = {name.removeprefix("microservice/"): text for name, text in files.items()
              if name.startswith("microservice/")}
    error = load_pipeline(raw_text, None, protos).error
    if error is not None:
        raise InvalidInput(f"{blueprint_path}: {error}")


def _asset(name: str) -> str:
    return (resources.files("onboarding.assets") / name).read_text(encoding="utf-8")


def _readme(solution: str, workloads: Sequence[Workload], options: ExportOptions, shared_folder: str | None) -> str:
    lines = []
    settings = []
    for work in workloads:
        notes = [f"{work.replicas} replicas, headless Service" if work.headless else "ClusterIP Service"]
        if work.exposed:
            notes.append(f"exposed ({options.expose_type})")
        lines.append(f"  {work.name:<16} {work.image}  ({', '.join(notes)})")
        settings.append(f"  {work.config_map}:" + ("" if work.settings else " (none)"))
        settings.extend(f"    {key}={value}" for key, value in sorted(work.settings.items()))
    template = string.Template(_asset("deployment-readme.txt"))
    return template.substitute(
        solution=solution, namespace=options.namespace, workloads="\n".join(lines), settings="\n".join(settings),
        secret=options.secret or "(none: --secret was empty)",
        pull_secret=options.pull_secret or "(none)",
        shared=shared_folder or "(none)",
    )


def export_solution(blueprint_path: Path, output: Path, options: ExportOptions) -> list[str]:
    """Write the solution zip to ``output`` and return the names it holds."""
    files = build_solution(blueprint_path, options)
    for folder in (output.parent, *output.parent.parents):
        if folder.exists() and not folder.is_dir():
            raise InvalidInput(f"cannot write {output}: {folder} is a file, not a folder")
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if name.endswith(".py") else 0o644) << 16
            archive.writestr(info, files[name])
    return sorted(files)


def load_manifests(files: dict[str, str]) -> list[dict[str, Any]]:
    """Every manifest of a solution (``build_solution``'s ``deployments/`` files), parsed."""
    import yaml

    return [yaml.safe_load(text) for name, text in sorted(files.items()) if name.startswith("deployments/")]
