"""The settings each container of an exported solution gets (one ConfigMap per Deployment).

In order, later wins: the cluster defaults of our components (what the CO pipeline needs on CREODIAS or any
cluster with internet: the CDSE catalogue, the CDSE ``eodata`` S3 endpoint, the demo's area and period), what
the export derives (the shared folder, a scaled analyzer's shared results folder, the orchestrator's calls in
flight per scaled node), then the user's ``--config`` file (``{"<container>": {"VAR": "value"}}``, the format of
``ai4cop run``/``up``). Credentials never go here: they come from the Secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from components.common.errors import InvalidInput

# The CDSE S3 endpoint serving s3://eodata/... (keys: https://documentation.dataspace.copernicus.eu/APIs/S3.html).
EODATA_S3 = "https://eodata.dataspace.copernicus.eu"
# Where the shared volume is mounted when a scaled analyzer needs one and --shared-folder was not given.
DEFAULT_SHARED_FOLDER = "/shared"
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CREDENTIAL = re.compile(r"(PASSWORD|SECRET|TOKEN|_KEY)(_|$)", re.IGNORECASE)

NodeSettings = dict[str, dict[str, str]]


def cluster_defaults() -> dict[str, dict[str, str]]:
    """Per component: the settings a deployed CO pipeline runs with out of the box."""
    from components.runner.demo import DEFAULT_AOI, DEFAULT_END, DEFAULT_START

    return {
        "databroker": {"DATABROKER_CATALOGUE": "cdse", "DATABROKER_PROCESSING_MODE": "OFFL",
                       "DATABROKER_AOI": DEFAULT_AOI, "DATABROKER_START": DEFAULT_START, "DATABROKER_END": DEFAULT_END},
        "comax": {"COMAX_S3_ENDPOINT": EODATA_S3},
    }


@dataclass(frozen=True)
class Container:
    """What the settings of one workload depend on: its name, our component (or None) and replicas."""

    name: str
    component: str | None
    replicas: int = 1


def needs_shared_folder(containers: list[Container]) -> bool:
    """A scaled analyzer keeps its results in a folder all its replicas share."""
    return any(c.component == "comax" and c.replicas > 1 for c in containers)


def check_config(config: Mapping[str, Mapping[str, str]], known: list[str]) -> None:
    """``InvalidInput`` for an unknown container, a name that is no environment variable, or a credential."""
    unknown = sorted(set(config) - set(known))
    if unknown:
        raise InvalidInput(f"--config names unknown container(s) {', '.join(unknown)}; known: {', '.join(known)}")
    for node, env in config.items():
        for key in env:
            if not ENV_NAME.match(key):
                raise InvalidInput(f"--config {node}: {key!r} is not an environment variable name")
            if CREDENTIAL.search(key):
                raise InvalidInput(f"--config {node}: {key} looks like a credential; put it in the Secret "
                                   "(kubernetes-client-script.py --secret-env-file), not in a ConfigMap")


def solution_settings(containers: list[Container], config: Mapping[str, Mapping[str, str]],
                      shared_folder: str | None, orchestrator: str) -> NodeSettings:
    """Every container's environment (``orchestrator`` is the orchestrator's container name)."""
    check_config(config, [c.name for c in containers])
    defaults = cluster_defaults()
    scaled = {c.name: c.replicas for c in containers if c.replicas > 1}
    result: NodeSettings = {}
    for container in containers:
        env = dict(defaults.get(container.component or "", {}))
        if shared_folder:
            env["SHARED_FOLDER_PATH"] = shared_folder
            if container.component == "comax":
                # One folder per analyzer node: its replicas aggregate over the same files, other nodes do not mix.
                env["COMAX_RESULTS_FOLDER"] = f"{shared_folder.rstrip('/')}/{container.name}"
        if container.name == orchestrator and scaled:
            # One call in flight per replica, spread round-robin over the pods of the headless Service.
            env["ORCHESTRATOR_NODE_CONCURRENCY"] = json.dumps(scaled, sort_keys=True)
        env.update(config.get(container.name, {}))
        result[container.name] = env
    return result
