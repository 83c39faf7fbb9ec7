"""Validate a pipeline (blueprint + endpoints + per-node protos) and turn it into a plan of rpc steps."""

from __future__ import annotations

from dataclasses import dataclass, field

from components.orchestrator.blueprint import Blueprint, Endpoint, Link
from components.orchestrator.protos import NodeProto, Rpc

StepKey = tuple[str, str]


@dataclass
class Step:
    """One rpc the orchestrator drives with its own worker: where it is, its shape, and its links."""

    node: str
    rpc: Rpc
    endpoint: Endpoint
    source: bool
    sink: bool
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
        key = proto_key(name)
        if key in proto_errors:
            found.append(f"node {name}: {proto_errors[key]}")
            continue
        proto = protos.get(name)
        if proto is None:
            found.append(f"node {name}: no proto (expected protofiles key {key!r})")
            continue
        for op in node.operations:
            if op not in proto.rpcs:
                found.append(f"node {name}: operation {op} is not an rpc of service {proto.service}")
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
                                     sink=proto.is_empty(rpc.output_type))
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
