"""Blueprint/dockerinfo parsing, graph validation and image naming (no servers needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.common.errors import InvalidInput
from components.common.registry import component_for_image, image_for_component
from components.orchestrator.blueprint import parse_blueprint, parse_dockerinfo
from components.orchestrator.service import load_pipeline
from tests.orchestrator_helpers import TestComponent, blueprint, collector, counter, doubler

ROOT = Path(__file__).parents[1]


def _nodes() -> dict[str, TestComponent]:
    return {"source": TestComponent("Counter", [counter(1)], port=1),
            "double": TestComponent("Doubler", [doubler()], port=2),
            "sink": TestComponent("Collector", [collector([])], port=3)}


LINKS = [("source.next", "double.double"), ("double.double", "sink.collect")]


def _protos(nodes: dict[str, TestComponent]) -> dict[str, str]:
    return {f"{n}.proto": c.proto for n, c in nodes.items()}


def test_graphene_and_legacy_variants_parse_alike() -> None:
    nodes = _nodes()
    new, old = parse_blueprint(blueprint(nodes, LINKS)), parse_blueprint(blueprint(nodes, LINKS, legacy=True))
    assert new.links == old.links
    assert [str(link) for link in new.links] == ["source.next -> double.double", "double.double -> sink.collect"]
    assert old.nodes["double"].operations["double"].input_stream is False


def test_stream_flags_as_strings_and_ports_as_strings_or_ints() -> None:
    data = json.loads(blueprint(_nodes(), LINKS))
    data["nodes"][1]["operation_signature_list"][0]["operation_signature"]["output_message_stream"] = "true"
    assert parse_blueprint(json.dumps(data)).nodes["double"].operations["double"].output_stream is True
    info = parse_dockerinfo(json.dumps({"docker_info_list": [
        {"container_name": "a", "ip_address": "h", "port": "8061"},
        {"container_name": "b", "ip_address": "h", "port": 9000}]}))
    assert (info["a"].port, info["b"].target) == (8061, "h:9000")


@pytest.mark.parametrize("text, message", [
    ("{", "not valid JSON"),
    ("{}", "missing 'nodes'"),
    ('{"nodes": [{"image": "x"}]}', "missing 'container_name'"),
])
def test_malformed_blueprints_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_blueprint(text)


def test_bad_dockerinfo_port() -> None:
    with pytest.raises(InvalidInput, match="port 'abc' is not a number"):
        parse_dockerinfo('{"docker_info_list": [{"container_name": "a", "ip_address": "h", "port": "abc"}]}')


def test_a_valid_pipeline_has_no_problems() -> None:
    nodes = _nodes()
    pipeline = load_pipeline(blueprint(nodes, LINKS), None, _protos(nodes))
    assert pipeline.problems == []


def test_problems_unknown_node_mismatch_empty_input_missing_proto() -> None:
    nodes = _nodes()
    links = [*LINKS, ("source.next", "ghost.run"), ("double.double", "source.next")]
    protos = _protos(nodes)
    del protos["double.proto"]
    found = load_pipeline(blueprint(nodes, links), '{"docker_info_list": []}', protos).problems
    text = "\n".join(found)
    assert "node double: no proto (expected protofiles key 'double.proto')" in text
    assert "unknown node 'ghost'" in text
    assert "node source: not in dockerinfo" in text
    nodes2 = _nodes()
    protos2 = _protos(nodes2)
    protos2["sink.proto"] = protos2["sink.proto"].replace("int64 value = 1;", "double value = 1;")
    found2 = load_pipeline(blueprint(nodes2, [*LINKS, ("double.double", "source.next")]), None, protos2).problems
    assert any("double.double -> sink.collect" in p and "differ" in p for p in found2)
    assert any("source.next takes Empty" in p for p in found2)


def test_a_proto_that_does_not_compile_is_a_problem_not_a_crash() -> None:
    nodes = _nodes()
    protos = _protos(nodes)
    protos["double.proto"] = "syntax = \"proto3\";\nmessage {\n"
    found = load_pipeline(blueprint(nodes, LINKS), None, protos).problems
    assert any(p.startswith("node double: double.proto does not compile") for p in found)


def test_image_names_map_to_components_and_back() -> None:
    assert component_for_image("ghcr.io/ai4cop/ai4cop-databroker:0.1.0") == "databroker"
    assert component_for_image("registry:5000/x/ai4cop-comax@sha256:abc") == "comax"
    assert component_for_image("ai4cop-geotriples") == "geotriples_adapter"
    assert image_for_component("orchestrator", "ghcr.io/ai4cop/", "1.2") == "ghcr.io/ai4cop/ai4cop-orchestrator:1.2"
    with pytest.raises(InvalidInput, match="not an ai4cop component"):
        component_for_image("docker.io/library/nginx:1")


def test_root_blueprint_is_the_packaged_co_blueprint_and_valid() -> None:
    root = (ROOT / "blueprint.json").read_text()
    assert root == (ROOT / "components/runner/co_blueprint.json").read_text()
    bp = parse_blueprint(root)
    assert [str(link) for link in bp.links] == ["databroker1.next_product -> comax1.analyze"]
    protos = {f"{n}.proto": (ROOT / "components" / component_for_image(node.image) / "model.proto").read_text()
              for n, node in bp.nodes.items()}
    assert load_pipeline(root, None, protos).problems == []


@pytest.mark.parametrize("name", ["Data_Broker", "databroker.1", "1broker", "broker-", "x" * 64])
def test_a_container_name_kubernetes_rejects_is_a_problem(name: str) -> None:
    nodes = _nodes()
    nodes[name] = nodes.pop("sink")
    links = [("source.next", "double.double"), ("double.double", f"{name}.collect")]
    found = load_pipeline(blueprint(nodes, links), None, _protos(nodes)).problems
    assert found == [f"node {name}: container name is not a DNS-1035 label (lowercase letters, digits and '-', "
                     "starting with a letter, at most 63): Kubernetes rejects it as a Service name"]


def test_blueprint_message_names_must_match_the_proto() -> None:
    nodes = _nodes()
    data = json.loads(blueprint(nodes, LINKS))
    sig = data["nodes"][0]["operation_signature_list"][0]["operation_signature"]
    sig["output_message_name"] = "Foo"
    found = load_pipeline(json.dumps(data), None, _protos(nodes)).problems
    assert found == ["node source: operation next declares output message Foo but the proto's rpc next has Num"]


def test_a_packaged_message_matches_its_bare_name_in_the_blueprint() -> None:
    nodes = _nodes()
    packaged = 'syntax = "proto3";\npackage demo;'
    protos = {k: v.replace('syntax = "proto3";', packaged) for k, v in _protos(nodes).items()}
    assert load_pipeline(blueprint(nodes, LINKS), None, protos).problems == []


def test_stream_flags_that_disagree_with_the_proto_are_warnings() -> None:
    nodes = _nodes()
    data = json.loads(blueprint(nodes, LINKS))
    data["nodes"][1]["operation_signature_list"][0]["operation_signature"]["output_message_stream"] = True
    pipeline = load_pipeline(json.dumps(data), None, _protos(nodes))
    assert pipeline.problems == []
    assert pipeline.warnings == ["node double: operation double has output_message_stream=true but the proto's "
                                 "output is not a stream (the proto wins)"]
