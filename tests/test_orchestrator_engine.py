"""The orchestrator core over real gRPC components on loopback: completion, shapes, fan-out/in, failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.orchestrator.engine import RunOptions
from components.orchestrator.events import Event
from components.orchestrator.service import Configuration, Orchestrator
from components.runner.local import free_port
from tests.conftest import eventually
from tests.orchestrator_helpers import (
    DnsServer,
    FreezingProxy,
    RpcSpec,
    TestComponent,
    blueprint,
    collector,
    counter,
    dockerinfo,
    doubler,
    negator,
    num,
    protofiles,
    splitter,
    totaler,
    value,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def started() -> Iterator[list[TestComponent]]:
    components: list[TestComponent] = []
    yield components
    for comp in components:
        comp.stop()


def _start(started: list[TestComponent], **nodes: TestComponent) -> dict[str, TestComponent]:
    for comp in nodes.values():
        comp.start()
        started.append(comp)
    return nodes


def _config(nodes: dict[str, TestComponent], links: list[tuple[str, str]], **kw: int) -> Configuration:
    return Configuration(blueprint(nodes, links), dockerinfo(nodes), protofiles(nodes), **kw)


def _run(orch: Orchestrator, config: Configuration, timeout: float = 30) -> list[Event]:
    """Observe, initialize, run, and collect every event until the observe stream ends (like the platform)."""
    subscription = orch.observe(".*", ".*")
    events: list[Event] = []
    reader = threading.Thread(target=lambda: events.extend(subscription))
    reader.start()
    status = orch.initialize(config)
    assert status.success, status.message
    assert status.message == "initialized"
    assert orch.run("").success
    reader.join(timeout)
    assert not reader.is_alive(), "observe stream did not end"
    return events


def test_linear_pipeline_finishes_when_the_source_is_exhausted(started: list[TestComponent]) -> None:
    got: list[int] = []
    nodes = _start(started, source=TestComponent("Counter", [counter(5)]),
                   double=TestComponent("Doubler", [doubler()]),
                   sink=TestComponent("Collector", [collector(got)]))
    orch = Orchestrator()
    assert orch.status().message == "not initialized"
    events = _run(orch, _config(nodes, [("source.next", "double.double"), ("double.double", "sink.collect")]))
    assert got == [2, 4, 6, 8, 10]
    assert events[-1].name == "run.finished"
    names = {e.name for e in events}
    assert {"initialized", "thread.start", "RPC.call", "RPC.finished", "queue.added", "queue.consumed",
            "thread.terminate"} <= names
    status = orch.status()
    assert (status.success, status.message, status.active_threads) == (True, "finished", 0)


def test_fan_out_copies_and_fan_in_merges(started: list[TestComponent]) -> None:
    got: list[int] = []
    nodes = _start(started, source=TestComponent("Counter", [counter(4)]),
                   left=TestComponent("Left", [doubler()]), right=TestComponent("Right", [doubler()]),
                   sink=TestComponent("Collector", [collector(got)]))
    links = [("source.next", "left.double"), ("source.next", "right.double"),
             ("left.double", "sink.collect"), ("right.double", "sink.collect")]
    events = _run(Orchestrator(), _config(nodes, links))
    assert events[-1].name == "run.finished"
    assert sorted(got) == [2, 2, 4, 4, 6, 6, 8, 8]


def test_all_four_streaming_shapes(started: list[TestComponent]) -> None:
    got: list[int] = []
    nodes = _start(started, source=TestComponent("Counter", [counter(3)]),
                   split=TestComponent("Splitter", [splitter()]), neg=TestComponent("Negator", [negator()]),
                   total=TestComponent("Totaler", [totaler()]), sink=TestComponent("Collector", [collector(got)]))
    links = [("source.next", "split.split"), ("split.split", "neg.negate"), ("neg.negate", "total.total"),
             ("total.total", "sink.collect")]
    events = _run(Orchestrator(), _config(nodes, links))
    assert events[-1].name == "run.finished", events[-1]
    assert got == [-(1 + 4 + 9)]


def test_structurally_identical_messages_link_under_different_names(started: list[TestComponent]) -> None:
    got: list[int] = []
    nodes = _start(started, source=TestComponent("Counter", [counter(2)], num_name="Count"),
                   sink=TestComponent("Collector", [collector(got)], num_name="Amount"))
    events = _run(Orchestrator(), _config(nodes, [("source.next", "sink.collect")]))
    assert events[-1].name == "run.finished"
    assert got == [1, 2]


def test_iterations_bound_the_source_calls(started: list[TestComponent]) -> None:
    got: list[int] = []
    nodes = _start(started, source=TestComponent("Counter", [counter(100)]),
                   sink=TestComponent("Collector", [collector(got)]))
    events = _run(Orchestrator(), _config(nodes, [("source.next", "sink.collect")], iterations=3))
    assert events[-1].name == "run.finished"
    assert got == [1, 2, 3]


def test_bounded_queue_holds_back_a_fast_source(started: list[TestComponent]) -> None:
    got: list[int] = []
    slow = TestComponent("Doubler", [doubler(delay=0.05)])
    nodes = _start(started, source=TestComponent("Counter", [counter(40)]), slow=slow,
                   sink=TestComponent("Collector", [collector(got)]))
    orch = Orchestrator()
    assert orch.initialize(_config(nodes, [("source.next", "slow.double"), ("slow.double", "sink.collect")],
                                   queuesize=2)).success
    orch.run("")
    run = orch.current_run
    assert run is not None
    eventually(lambda: run.outputs[("slow", "double")] >= 10, what="10 doubled")
    ahead = run.outputs[("source", "next")] - run.outputs[("slow", "double")]
    assert ahead <= 2 + 1 + 1  # queue + the item in the source's hands + the one being processed
    assert run.wait(20) and run.succeeded
    assert len(got) == 40


def test_component_error_is_an_exception_event_and_fails_the_run(started: list[TestComponent]) -> None:
    nodes = _start(started, source=TestComponent("Counter", [counter(5)]),
                   double=TestComponent("Doubler", [doubler(fail_on=3)]),
                   sink=TestComponent("Collector", [collector([])]))
    orch = Orchestrator()
    events = _run(orch, _config(nodes, [("source.next", "double.double"), ("double.double", "sink.collect")]))
    exception = next(e for e in events if e.name == "exception")
    assert exception.component == "double"
    assert exception.detail["method"] == "/Doubler/double"
    assert exception.detail["status"] == "INVALID_ARGUMENT"
    assert "traceback" in exception.detail
    assert events[-1].name == "run.failed"
    status = orch.status()
    assert not status.success
    assert "double.double" in status.message and "INVALID_ARGUMENT" in status.message


def test_continue_on_error_skips_the_bad_item(started: list[TestComponent]) -> None:
    got: list[int] = []
    nodes = _start(started, source=TestComponent("Counter", [counter(5)]),
                   double=TestComponent("Doubler", [doubler(fail_on=3)]),
                   sink=TestComponent("Collector", [collector(got)]))
    orch = Orchestrator(RunOptions(continue_on_error=True))
    events = _run(orch, _config(nodes, [("source.next", "double.double"), ("double.double", "sink.collect")]))
    assert [e.name for e in events].count("exception") == 1
    assert events[-1].name == "run.finished"
    assert got == [2, 4, 8, 10]


@pytest.mark.slow
def test_a_component_that_starts_late_does_not_kill_the_run(started: list[TestComponent]) -> None:
    got: list[int] = []
    late = TestComponent("Doubler", [doubler()], port=free_port())
    nodes = _start(started, source=TestComponent("Counter", [counter(3)]),
                   sink=TestComponent("Collector", [collector(got)]))
    nodes = {"source": nodes["source"], "late": late, "sink": nodes["sink"]}
    timer = threading.Timer(5.0, late.start)
    timer.start()
    try:
        events = _run(Orchestrator(),
                      _config(nodes, [("source.next", "late.double"), ("late.double", "sink.collect")]))
    finally:
        timer.join()
        started.append(late)
    assert events[-1].name == "run.finished"
    assert got == [2, 4, 6]


def test_start_up_deadline_names_the_missing_node(started: list[TestComponent]) -> None:
    missing = TestComponent("Doubler", [doubler()], port=free_port())
    nodes = _start(started, source=TestComponent("Counter", [counter(3)]))
    nodes["missing"] = missing
    orch = Orchestrator(RunOptions(startup_timeout=1.0))
    events = _run(orch, _config(nodes, [("source.next", "missing.double")]))
    assert events[-1].name == "run.failed"
    assert events[-1].component == "missing"
    assert "start-up deadline" in events[-1].detail["message"]


def test_a_component_killed_mid_run_fails_the_run_naming_it(started: list[TestComponent]) -> None:
    port = free_port()
    helper = Path(__file__).with_name("orchestrator_helpers.py")
    proc = subprocess.Popen([sys.executable, str(helper), str(port)], stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(helper.parent.parent)})
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        victim = TestComponent("Doubler", [doubler()], port=port)
        nodes = _start(started, source=TestComponent("Counter", [counter(1000)]))
        nodes = {"source": nodes["source"], "victim": victim}
        orch = Orchestrator(RunOptions(retry_backoff=0.2))
        assert orch.initialize(_config(nodes, [("source.next", "victim.double")])).success
        orch.run("")
        run = orch.current_run
        assert run is not None
        eventually(lambda: run.outputs[("victim", "double")] >= 3, what="3 calls answered by the victim")
        assert not run.ended
        proc.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        assert run.wait(10), "run did not end after the component was killed"
        assert time.monotonic() - killed_at < 5
        assert run.failure is not None and run.failure.node == "victim"
        assert "victim" in orch.status().message
    finally:
        proc.kill()
        proc.wait()


def test_stop_orchestration_ends_a_running_pipeline(started: list[TestComponent]) -> None:
    nodes = _start(started, source=TestComponent("Counter", [counter(10_000, delay=0.01)]),
                   sink=TestComponent("Collector", [collector([])]))
    orch = Orchestrator()
    assert orch.initialize(_config(nodes, [("source.next", "sink.collect")])).success
    orch.run("")
    assert orch.status().active_threads == 2
    assert orch.stop("").success
    run = orch.current_run
    assert run is not None and run.ended and run.failure is not None
    assert orch.status().active_threads == 0


def test_late_observer_gets_the_final_event_and_ends(started: list[TestComponent]) -> None:
    nodes = _start(started, source=TestComponent("Counter", [counter(1)]),
                   sink=TestComponent("Collector", [collector([])]))
    orch = Orchestrator()
    _run(orch, _config(nodes, [("source.next", "sink.collect")]))
    late = list(orch.observe(".*", ".*"))
    assert [e.name for e in late] == ["run.finished"]
    assert list(orch.observe("exception", ".*")) == []


def test_observer_filters_by_regex(started: list[TestComponent]) -> None:
    nodes = _start(started, source=TestComponent("Counter", [counter(2)]),
                   sink=TestComponent("Collector", [collector([])]))
    orch = Orchestrator()
    subscription = orch.observe("^RPC", "sink")
    events: list[Event] = []
    reader = threading.Thread(target=lambda: events.extend(subscription))
    reader.start()
    assert orch.initialize(_config(nodes, [("source.next", "sink.collect")])).success
    orch.run("")
    reader.join(20)
    assert events and {(e.name, e.component) for e in events} == {("RPC.call", "sink"), ("RPC.finished", "sink")}


def test_concurrency_keeps_several_calls_in_flight(started: list[TestComponent]) -> None:
    got: list[int] = []
    nodes = _start(started, source=TestComponent("Counter", [counter(8)]),
                   slow=TestComponent("Doubler", [doubler(delay=0.3)]),
                   sink=TestComponent("Collector", [collector(got)]))
    orch = Orchestrator(RunOptions(concurrency=4))
    events = _run(orch, _config(nodes, [("source.next", "slow.double"), ("slow.double", "sink.collect")]))
    assert events[-1].name == "run.finished"
    assert sorted(got) == [2, 4, 6, 8, 10, 12, 14, 16]
    run = orch.current_run
    assert run is not None and run.ended_at - run.started_at < 8 * 0.3 / 2
    assert [e.name for e in events].count("thread.start") == 1 + 4 + 4


def test_an_observer_that_initializes_right_after_a_run_follows_the_new_run(started: list[TestComponent]) -> None:
    got: list[int] = []
    nodes = _start(started, source=TestComponent("Counter", [counter(2)]),
                   sink=TestComponent("Collector", [collector(got)]))
    orch = Orchestrator()
    config = _config(nodes, [("source.next", "sink.collect")])
    _run(orch, config)
    events = _run(orch, config)  # observes after the first run ended, then initializes at once
    assert {e.run for e in events if e.run} == {"run-2"}
    assert events[-1].name == "run.finished"


def _recording_doubler(calls: list[float], delay: float) -> RpcSpec:
    """``double`` that records when each call arrived (to see which backend got it and how calls overlap)."""

    def double(request: bytes, context: object) -> bytes:
        calls.append(time.monotonic())
        time.sleep(delay)
        return num(2 * value(request))

    return RpcSpec("double", double)


def test_calls_to_a_scaled_node_are_spread_over_every_address_of_its_name(started: list[TestComponent]) -> None:
    """A headless Service on loopback: one name, two addresses, from a real DNS server that gRPC asks."""
    port = free_port()
    first: list[float] = []
    second: list[float] = []
    replicas = [TestComponent("Doubler", [_recording_doubler(first, 0.3)], port=port, host="127.0.0.1"),
                TestComponent("Doubler", [_recording_doubler(second, 0.3)], port=port, host="127.0.0.2")]
    got: list[int] = []
    nodes = _start(started, source=TestComponent("Counter", [counter(8)]), comax1=replicas[0],
                   sink=TestComponent("Collector", [collector(got)]))
    started.append(replicas[1].start())
    dns = DnsServer({"comax1": ["127.0.0.1", "127.0.0.2"]})
    try:
        info = json.loads(dockerinfo(nodes))
        for entry in info["docker_info_list"]:
            if entry["container_name"] == "comax1":
                entry["ip_address"] = f"dns://127.0.0.1:{dns.port}/comax1"  # what `comax1:8061` is in a cluster
        config = Configuration(blueprint(nodes, [("source.next", "comax1.double"), ("comax1.double", "sink.collect")]),
                               json.dumps(info), protofiles(nodes))
        orch = Orchestrator(RunOptions(node_concurrency={"comax1": 2}))
        events = _run(orch, config)
    finally:
        dns.close()
    assert events[-1].name == "run.finished"
    assert sorted(got) == [2, 4, 6, 8, 10, 12, 14, 16]
    assert "comax1" in dns.queries
    assert len(first) >= 2 and len(second) >= 2 and len(first) + len(second) == 8
    run = orch.current_run
    assert run is not None and run.ended_at - run.started_at < 8 * 0.3 * 0.75  # calls overlapped
    assert [e.name for e in events].count("thread.start") == 1 + 2 + 1  # 2 workers for comax1 only


def test_node_concurrency_comes_from_the_orchestrator_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from components.orchestrator.app import Settings

    monkeypatch.setenv("ORCHESTRATOR_NODE_CONCURRENCY", '{"comax1": 3}')
    options = Settings().run_options()
    assert options.node_concurrency == {"comax1": 3} and options.concurrency == 1
    assert options.keepalive == 30.0
    monkeypatch.setenv("ORCHESTRATOR_KEEPALIVE_SECONDS", "2")
    with pytest.raises(ValueError, match="must be 0 \\(no pings\\) or at least 10 seconds"):
        Settings()


def test_a_peer_lost_without_a_reset_fails_the_run_instead_of_hanging(started: list[TestComponent]) -> None:
    """Keepalive: the node goes silent mid-call (no FIN, no RST); the run fails naming it within seconds."""
    got: list[int] = []
    victim = TestComponent("Doubler", [doubler(delay=0.2)])
    nodes = _start(started, source=TestComponent("Counter", [counter(1000)]), victim=victim,
                   sink=TestComponent("Collector", [collector(got)]))
    proxy = FreezingProxy(victim.port)
    try:
        info = json.loads(dockerinfo(nodes))
        for entry in info["docker_info_list"]:
            if entry["container_name"] == "victim":
                entry["port"] = str(proxy.port)
        text = blueprint(nodes, [("source.next", "victim.double"), ("victim.double", "sink.collect")],
                         images={"victim": "ghcr.io/ai4cop/ai4cop-comax:0.1.0"})
        orch = Orchestrator(RunOptions(keepalive=0.5, retry_backoff=0.1))
        assert orch.initialize(Configuration(text, json.dumps(info), protofiles(nodes))).success
        orch.run("")
        run = orch.current_run
        assert run is not None
        eventually(lambda: len(got) >= 3, what="3 results through the proxy")
        proxy.freeze()
        frozen_at = time.monotonic()
        assert run.wait(15), "the run hung on a silent peer"
        assert time.monotonic() - frozen_at < 6
        assert run.failure is not None and run.failure.node == "victim" and run.failure.status == "UNAVAILABLE"
    finally:
        proxy.close()


def test_keepalive_pings_ours_often_and_foreign_servers_within_their_default_policy() -> None:
    from components.orchestrator.blueprint import Endpoint
    from components.orchestrator.graph import Step
    from components.orchestrator.protos import Rpc

    rpc = Rpc("S", "r", "A", "B", False, False)

    def step(image: str) -> Step:
        return Step("n", rpc, Endpoint("h", 1), source=False, sink=False, image=image)

    def pings(options: RunOptions, image: str) -> dict[str, int | str]:
        return {k: v for k, v in options.channel_options(step(image)) if "keepalive" in k or "ping" in k}

    ours = pings(RunOptions(), "ghcr.io/ai4cop/ai4cop-comax:0.1.0")
    assert ours == {"grpc.keepalive_time_ms": 30_000, "grpc.keepalive_timeout_ms": 20_000,
                    "grpc.http2.ping_timeout_ms": 20_000, "grpc.http2.max_pings_without_data": 0}
    assert pings(RunOptions(), "docker.io/someone/tracker:1")["grpc.keepalive_time_ms"] == 300_000
    assert pings(RunOptions(keepalive=0), "ghcr.io/ai4cop/ai4cop-comax:0.1.0") == {}
