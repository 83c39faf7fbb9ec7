"""The platform's ``blueprint.json`` and ``dockerinfo.json``, parsed into plain typed objects.

Both the Graphene variant (``pipeline-topology/v2``) and the older Acumos variant are accepted: stream flags
may be missing (they mean ``false``), booleans may be strings, ports may be strings or ints, and the legacy
top-level keys (``input_ports``, ``probeIndicator``, ``training_clients``) are ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from components.common.errors import InvalidInput


@dataclass(frozen=True)
class Operation:
    """One rpc of a node as the blueprint declares it."""

    name: str
    input_message: str
    output_message: str
    input_stream: bool = False
    output_stream: bool = False


@dataclass(frozen=True)
class Link:
    """An edge: every output of ``source`` (node, rpc) goes to the input of ``target`` (node, rpc)."""

    source: tuple[str, str]
    target: tuple[str, str]

    def __str__(self) -> str:
        return f"{self.source[0]}.{self.source[1]} -> {self.target[0]}.{self.target[1]}"


@dataclass(frozen=True)
class Node:
    """One container of the pipeline."""

    name: str
    image: str
    node_type: str = "MLModel"
    proto_uri: str = ""
    operations: dict[str, Operation] = field(default_factory=dict)


@dataclass(frozen=True)
class Blueprint:
    """The pipeline: nodes by container name and the links between their rpcs."""

    name: str
    version: str
    nodes: dict[str, Node]
    links: list[Link]


@dataclass(frozen=True)
class Endpoint:
    """Where a node's gRPC server listens."""

    host: str
    port: int

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def _load(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidInput(f"{what} is not valid JSON: {err}") from err


def _require(obj: Any, key: str, where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise InvalidInput(f"{where}: missing {key!r}")
    return obj[key]


def parse_blueprint(text: str) -> Blueprint:
    """Parse blueprint JSON text; ``InvalidInput`` saying what and where when it is malformed."""
    data = _load(text, "blueprint")
    nodes_data = _require(data, "nodes", "blueprint")
    if not isinstance(nodes_data, list):
        raise InvalidInput("blueprint: 'nodes' must be a list")
    nodes: dict[str, Node] = {}
    links: list[Link] = []
    for index, raw in enumerate(nodes_data):
        name = str(_require(raw, "container_name", f"blueprint node #{index}"))
        if name in nodes:
            raise InvalidInput(f"blueprint: node {name!r} is defined twice")
        operations: dict[str, Operation] = {}
        for entry in raw.get("operation_signature_list") or []:
            sig = _require(entry, "operation_signature", f"node {name}")
            op = Operation(
                name=str(_require(sig, "operation_name", f"node {name}")),
                input_message=str(sig.get("input_message_name", "")),
                output_message=str(sig.get("output_message_name", "")),
                input_stream=_flag(sig.get("input_message_stream", False)),
                output_stream=_flag(sig.get("output_message_stream", False)),
            )
            operations[op.name] = op
            for target in entry.get("connected_to") or []:
                target_node = str(_require(target, "container_name", f"node {name} link"))
                target_sig = _require(target, "operation_signature", f"node {name} link to {target_node}")
                target_op = str(_require(target_sig, "operation_name", f"node {name} link to {target_node}"))
                links.append(Link((name, op.name), (target_node, target_op)))
        nodes[name] = Node(name=name, image=str(raw.get("image", "")), node_type=str(raw.get("node_type", "")),
                           proto_uri=str(raw.get("proto_uri", "")), operations=operations)
    return Blueprint(str(data.get("name", "")), str(data.get("version", "")), nodes, links)


def parse_dockerinfo(text: str) -> dict[str, Endpoint]:
    """Parse dockerinfo JSON text into endpoints by container name (``port`` may be an int or a string)."""
    data = _load(text, "dockerinfo")
    entries = _require(data, "docker_info_list", "dockerinfo")
    if not isinstance(entries, list):
        raise InvalidInput("dockerinfo: 'docker_info_list' must be a list")
    endpoints: dict[str, Endpoint] = {}
    for index, entry in enumerate(entries):
        name = str(_require(entry, "container_name", f"dockerinfo entry #{index}"))
        host = str(_require(entry, "ip_address", f"dockerinfo entry {name}"))
        port_value = _require(entry, "port", f"dockerinfo entry {name}")
        try:
            port = int(str(port_value).strip())
        except ValueError as err:
            raise InvalidInput(f"dockerinfo entry {name}: port {port_value!r} is not a number") from err
        endpoints[name] = Endpoint(host, port)
    return endpoints


def dump_dockerinfo(endpoints: dict[str, Endpoint]) -> str:
    """The dockerinfo JSON text for ``endpoints`` (ports as strings, as the platform writes them)."""
    entries = [{"container_name": name, "ip_address": ep.host, "port": str(ep.port)}
               for name, ep in endpoints.items()]
    return json.dumps({"docker_info_list": entries}, indent=2) + "\n"
