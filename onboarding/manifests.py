"""Kubernetes manifests of a solution: a Deployment, a Service and a settings ConfigMap per node, plus the
shared volume.

Better than the platform's export (docs/platform.md, section 7): ClusterIP Services on the fixed ports 8061/8062,
exposed outside only on request; gRPC readiness/liveness/startup probes on the health service; resource
requests and limits; a restrictive ``securityContext``; an image pull secret only when one is named;
credentials from a Secret; and a headless Service for a node with several replicas, so that a gRPC client
balancing with ``round_robin`` over ``dns:///<service>:8061`` reaches every replica.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from components.common.registry import COMPONENTS

GRPC_PORT = 8061
WEB_PORT = 8062
SHARED_CLAIM = "ai4cop-shared"
# The UID/GID our Dockerfile creates; foreign images keep their own user.
RUN_AS = 10001
PART_OF = "ai4cop"
# Changes with the settings, so re-applying a solution whose settings changed restarts the pods.
SETTINGS_HASH = "ai4cop/settings-sha256"

# requests (cpu, memory), limits (cpu, memory) of a foreign image; ours come from the component catalogue
FOREIGN_RESOURCES = (("250m", "256Mi"), ("2", "2Gi"))


@dataclass(frozen=True)
class Workload:
    """One Deployment + Service: a blueprint node, or the orchestrator."""

    name: str
    image: str
    component: str | None  # our component's name, or None for a foreign image
    replicas: int = 1
    exposed: bool = False
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def headless(self) -> bool:
        return self.replicas > 1

    @property
    def config_map(self) -> str:
        """The name of the ConfigMap holding this workload's settings."""
        return f"{self.name}-settings"


@dataclass(frozen=True)
class ClusterOptions:
    """What every workload shares: pull secret, credentials Secret, shared folder, exposure type."""

    pull_secret: str | None = None
    secret: str | None = "ai4cop-credentials"
    shared_folder: str | None = None
    shared_size: str = "10Gi"
    storage_class: str | None = None
    expose_type: str = "LoadBalancer"


def _labels(name: str) -> dict[str, str]:
    return {"app": name, "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": PART_OF}


def _probe(initial: int, period: int, failures: int) -> dict[str, Any]:
    return {"grpc": {"port": GRPC_PORT}, "initialDelaySeconds": initial, "periodSeconds": period,
            "timeoutSeconds": 5, "failureThreshold": failures}


def _container(work: Workload, options: ClusterOptions) -> dict[str, Any]:
    requests, limits = FOREIGN_RESOURCES
    if work.component is not None:
        entry = COMPONENTS[work.component]
        requests, limits = entry.requests, entry.limits
    ours = work.component is not None
    container: dict[str, Any] = {
        "name": work.name,
        "image": work.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "protobuf-api", "containerPort": GRPC_PORT, "protocol": "TCP"},
                  {"name": "webui", "containerPort": WEB_PORT, "protocol": "TCP"}],
        # Startup covers slow first starts; liveness then only restarts a server that stopped answering.
        "startupProbe": _probe(1, 2, 60),
        "readinessProbe": _probe(0, 5, 3),
        "livenessProbe": _probe(0, 20, 3),
        "resources": {"requests": {"cpu": requests[0], "memory": requests[1]},
                      "limits": {"cpu": limits[0], "memory": limits[1]}},
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                            "readOnlyRootFilesystem": ours},
    }
    # Settings first, then the Secret: on a key in both, the later source (the credential) wins.
    container["envFrom"] = [{"configMapRef": {"name": work.config_map}}]
    if options.secret:
        container["envFrom"].append({"secretRef": {"name": options.secret, "optional": True}})
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]
    if options.shared_folder:
        mounts.append({"name": "shared", "mountPath": options.shared_folder})
    container["volumeMounts"] = mounts
    return container


def deployment(work: Workload, options: ClusterOptions) -> dict[str, Any]:
    """The ``apps/v1`` Deployment of ``work`` (label ``app: <name>``, ports ``protobuf-api``/``webui``)."""
    pod_security: dict[str, Any] = {"seccompProfile": {"type": "RuntimeDefault"}}
    if work.component is not None:
        pod_security.update({"runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS, "fsGroup": RUN_AS})
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {}}]
    if options.shared_folder:
        volumes.append({"name": "shared", "persistentVolumeClaim": {"claimName": SHARED_CLAIM}})
    pod: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "securityContext": pod_security,
        "containers": [_container(work, options)],
        "volumes": volumes,
    }
    if options.pull_secret:
        pod["imagePullSecrets"] = [{"name": options.pull_secret}]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": work.name, "labels": _labels(work.name)},
        "spec": {
            "replicas": work.replicas,
            "selector": {"matchLabels": {"app": work.name}},
            "template": {"metadata": {"labels": _labels(work.name), "annotations": {SETTINGS_HASH: _digest(work)}},
                         "spec": pod},
        },
    }


def _digest(work: Workload) -> str:
    return hashlib.sha256(json.dumps(work.settings, sort_keys=True).encode()).hexdigest()[:16]


def config_map(work: Workload) -> dict[str, Any]:
    """The ConfigMap ``<name>-settings`` whose keys become the container's environment variables."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": work.config_map, "labels": _labels(work.name)}, "data": dict(work.settings)}


def service(work: Workload, options: ClusterOptions) -> dict[str, Any]:
    """The Service of ``work``: ClusterIP on 8061/8062, headless with replicas, external only when exposed."""
    spec: dict[str, Any] = {
        "selector": {"app": work.name},
        "ports": [{"name": "protobuf-api", "port": GRPC_PORT, "targetPort": GRPC_PORT, "protocol": "TCP"},
                  {"name": "webui", "port": WEB_PORT, "targetPort": WEB_PORT, "protocol": "TCP"}],
    }
    if work.headless:
        spec["type"] = "ClusterIP"
        spec["clusterIP"] = "None"
    else:
        spec["type"] = options.expose_type if work.exposed else "ClusterIP"
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": work.name, "labels": _labels(work.name)}, "spec": spec}


def public_service(work: Workload, options: ClusterOptions) -> dict[str, Any]:
    """``<name>-public``: the outside way in to a scaled node, whose own Service is headless."""
    manifest = service(Workload(work.name, work.image, work.component, 1, True), options)
    manifest["metadata"]["name"] = f"{work.name}-public"
    return manifest


def shared_claim(options: ClusterOptions) -> dict[str, Any]:
    """The ReadWriteMany PersistentVolumeClaim behind the shared folder."""
    spec: dict[str, Any] = {"accessModes": ["ReadWriteMany"],
                            "resources": {"requests": {"storage": options.shared_size}}}
    if options.storage_class:
        spec["storageClassName"] = options.storage_class
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": SHARED_CLAIM, "labels": {"app.kubernetes.io/part-of": PART_OF}}, "spec": spec}
