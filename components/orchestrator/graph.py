"""Validate a pipeline (blueprint + endpoints + per-node protos) and turn it into a plan of rpc steps."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from components.orchestrator.blueprint import Blueprint, Endpoint, Link, Operation
from components.orchestrator.protos import NodeProto, Rpc

StepKey = tuple[str, str]
# A container name becomes a Kubernetes Service (and DNS) name on the platform: an RFC 1035 label.
DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")


@dataclass
class Step:
    """One rpc the orchestrator drives with its own worker: where it is, its shape, and its links."""

    node: str
    rpc: Rpc
    endpoint: Endpoint
    source: bool
    sink: bool
    image: str = ""
    inputs: list[StepKey] = field(default_factory=list)
    outputs: list[StepKey] = field(default_factory=list)

    @property
    def key(self) -> StepKey:
        return (self.node, self.rpc.name)

    @property
    def label(self) -> str:
        return f"{self.node}.{self.rpc.name}"


@dataclass
class Plan:
    """Every step to run, in blueprint order, plus what is needed to decode outputs later."""

    steps: dict[StepKey, Step]
    protos: dict[str, NodeProto]

    @property
    def sources(self) -> list[Step]:
        return [s for s in self.steps.values() if s.source]

    def last_steps(self) -> list[Step]:
        """Steps whose outputs go nowhere (the pipeline's results), excluding sinks that return Empty."""
        return [s for s in self.steps.values() if not s.outputs and not s.sink]


def proto_key(node: str) -> str:
    """The ``protofiles`` key of a node's proto, as the platform's client sends it."""
    return f"{node}.proto"


def problems(blueprint: Blueprint, endpoints: dict[str, Endpoint] | None, protos: dict[str, NodeProto],
             proto_errors: dict[str, str] | None = None) -> list[str]:
    """Every problem of the pipeline, one readable line each (empty when it can run).

    ``endpoints`` may be None when only the graph is checked (no dockerinfo at hand).
    """
    found: list[str] = []
    proto_errors = proto_errors or {}
    if not blueprint.nodes:
        found.append("blueprint has no nodes")
    for name, node in blueprint.nodes.items():
        if not DNS_1035.match(name):
            found.append(f"node {name}: container name is not a DNS-1035 label (lowercase letters, digits and '-', "
                         "starting with a letter, at most 63): Kubernetes rejects it as a Service name")
        key = proto_key(name)
        if key in proto_errors:
            found.append(f"node {name}: {proto_errors[key]}")
            continue
        proto = protos.get(name)
        if proto is None:
            found.append(f"node {name}: no proto (expected protofiles key {key!r})")
            continue
        for op in node.operations.values():
            if op.name not in proto.rpcs:
                found.append(f"node {name}: operation {op.name} is not an rpc of service {proto.service}")
            else:
                found.extend(_signature_problems(name, op, proto.rpcs[op.name]))
        if endpoints is not None and name not in endpoints:
            found.append(f"node {name}: not in dockerinfo (no address to call)")
    for link in blueprint.links:
        found.extend(_link_problems(blueprint, protos, link))
    sources = [
        (name, op) for name, node in blueprint.nodes.items() if name in protos
        for op in node.operations if op in protos[name].rpcs and protos[name].is_empty(protos[name].rpcs[op].input_type)
    ]
    if blueprint.nodes and protos and not sources:
        found.append("pipeline has no source (an rpc whose input is Empty)")
    return found


def _same_message(declared: str, actual: str) -> bool:
    """A blueprint names messages without package; the proto's full name may carry one."""
    return declared in (actual, actual.rsplit(".", 1)[-1])


def _signature_problems(node: str, op: Operation, rpc: Rpc) -> list[str]:
    found = []
    for what, declared, actual in (("input", op.input_message, rpc.input_type),
                                   ("output", op.output_message, rpc.output_type)):
        if declared and not _same_message(declared, actual):
            found.append(f"node {node}: operation {op.name} declares {what} message {declared} but the proto's "
                         f"rpc {rpc.name} has {actual}")
    return found


def warnings(blueprint: Blueprint, protos: dict[str, NodeProto]) -> list[str]:
    """Differences that do not stop a run: stream flags that disagree with the proto.

    The design studio links operations without looking at ``stream``, and the orchestrator calls each rpc as
    its proto declares it, so a wrong flag in the blueprint is harmless but worth telling.
    """
    found = []
    for name, node in blueprint.nodes.items():
        proto = protos.get(name)
        for op in node.operations.values():
            rpc = proto.rpcs.get(op.name) if proto is not None else None
            if rpc is None:
                continue
            for what, declared, actual in (("input", op.input_stream, rpc.input_stream),
                                           ("output", op.output_stream, rpc.output_stream)):
                if declared != actual:
                    found.append(f"node {name}: operation {op.name} has {what}_message_stream={str(declared).lower()}"
                                 f" but the proto's {what} is {'' if actual else 'not '}a stream (the proto wins)")
    return found


def _link_problems(blueprint: Blueprint, protos: dict[str, NodeProto], link: Link) -> list[str]:
    (src_node, src_op), (dst_node, dst_op) = link.source, link.target
    if dst_node not in blueprint.nodes:
        return [f"link {link}: unknown node {dst_node!r}"]
    if src_node not in protos or dst_node not in protos:
        return []
    src, dst = protos[src_node].rpcs.get(src_op), protos[dst_node].rpcs.get(dst_op)
    if dst is None:
        return [f"link {link}: {dst_node} has no rpc {dst_op!r} (service {protos[dst_node].service})"]
    if src is None:
        return []
    if protos[dst_node].is_empty(dst.input_type):
        return [f"link {link}: {dst_node}.{dst_op} takes Empty (a source) and cannot have an incoming link"]
    if protos[src_node].shape(src.output_type) != protos[dst_node].shape(dst.input_type):
        return [f"link {link}: {src_node}.{src_op} returns {src.output_type} but {dst_node}.{dst_op} takes "
                f"{dst.input_type}, and their fields (numbers/types) differ"]
    return []


def build_plan(blueprint: Blueprint, endpoints: dict[str, Endpoint], protos: dict[str, NodeProto]) -> Plan:
    """The steps of a pipeline that ``problems`` found valid.

    A step is started for every source rpc and every rpc with an incoming link; an rpc that is neither
    would only wait forever, so it gets no worker.
    """
    steps: dict[StepKey, Step] = {}

    def step(node: str, op: str) -> Step:
        if (node, op) not in steps:
            proto = protos[node]
            rpc = proto.rpcs[op]
            steps[(node, op)] = Step(node, rpc, endpoints[node], source=proto.is_empty(rpc.input_type),
                                     sink=proto.is_empty(rpc.output_type), image=blueprint.nodes[node].image)
        return steps[(node, op)]

    for name, node in blueprint.nodes.items():
        for op in node.operations:
            if protos[name].is_empty(protos[name].rpcs[op].input_type):
                step(name, op)
    for link in blueprint.links:
        source, target = step(*link.source), step(*link.target)
        if target.key not in source.outputs:
            source.outputs.append(target.key)
            target.inputs.append(source.key)
    return Plan(steps, protos)
