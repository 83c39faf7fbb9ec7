"""What the orchestrator sends and retries, over real gRPC components on loopback: the run's name in every call's
metadata, and retries of UNAVAILABLE only where the component did not answer it itself (one retry layer)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from components.common.errors import Unavailable, grpc_errors
from components.common.runs import RUN_KEY
from components.orchestrator.engine import RunOptions
from components.runner.local import free_port
from components.runner.pipeline import Progress, run_to_end
from tests.orchestrator_helpers import RpcSpec, TestComponent, blueprint, dockerinfo, num, protofiles

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def started() -> Iterator[list[TestComponent]]:
    components: list[TestComponent] = []
    yield components
    for comp in components:
        comp.stop()


class _Source:
    """A source that records each call's run and answers three numbers, then NOT_FOUND; or always fails."""

    def __init__(self, fail: str = ""):
        self.fail = fail
        self.runs: list[str] = []
        self._lock = threading.Lock()

    @grpc_errors
    def ours(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        """Fails as our components do: a domain error mapped by ``grpc_errors``."""
        self._record(context)
        raise Unavailable("catalogue down (after the broker's own retries)")

    def foreign(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        """Fails as a foreign component may: a bare UNAVAILABLE."""
        self._record(context)
        context.abort(grpc.StatusCode.UNAVAILABLE, "busy")
        return b""

    def counting(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        count = self._record(context)
        if count > 3:
            context.abort(grpc.StatusCode.NOT_FOUND, "no more")
        return num(count)

    def _record(self, context: grpc.ServicerContext) -> int:
        run = dict(context.invocation_metadata()).get(RUN_KEY, "")
        with self._lock:
            self.runs.append(str(run))
            return sum(r == run for r in self.runs)


def _pipeline(started: list[TestComponent], handler: Any) -> tuple[str, str, dict[str, str]]:
    node = TestComponent("Source", [RpcSpec("next", handler, input_type="Empty")]).start()
    started.append(node)
    nodes = {"source": node}
    return blueprint(nodes, []), dockerinfo(nodes), protofiles(nodes)


def test_every_call_names_its_run_and_each_run_its_own(started: list[TestComponent]) -> None:
    source = _Source()
    text, info, protos = _pipeline(started, source.counting)
    first = run_to_end(text, info, protos)
    second = run_to_end(text, info, protos)
    assert first.run.succeeded and second.run.succeeded
    assert source.runs == [first.run.id] * 4 + [second.run.id] * 4
    assert first.run.id != second.run.id and first.run.id.startswith("run-1.")


@pytest.mark.parametrize("kind, calls", [("ours", 1), ("foreign", 3)])
def test_unavailable_is_retried_only_when_the_component_did_not_answer_it(
        started: list[TestComponent], kind: str, calls: int) -> None:
    source = _Source()
    text, info, protos = _pipeline(started, getattr(source, kind))
    outcome = run_to_end(text, info, protos, options=RunOptions(retries=2, retry_backoff=0.01))
    assert outcome.run.failure is not None and outcome.run.failure.status == "UNAVAILABLE"
    assert len(source.runs) == calls


def test_progress_says_which_node_the_run_is_waiting_for() -> None:
    nodes = {"source": TestComponent("Source", [RpcSpec("next", _Source().counting, input_type="Empty")],
                                     port=free_port())}  # never started: nothing listens there
    lines: list[str] = []
    outcome = run_to_end(blueprint(nodes, []), dockerinfo(nodes), protofiles(nodes),
                         options=RunOptions(startup_timeout=1.5), on_progress=Progress(lines.append, patience=0),
                         interval=0.2)
    target = f"127.0.0.1:{nodes['source'].port}"
    assert f"waiting for source at {target} to answer (up to 1.5 s)" in lines[0]
    assert "waiting" not in lines[-1]
    assert outcome.run.failure is not None
    assert str(outcome.run.failure) == (f"source.next failed: UNAVAILABLE: not reachable at {target} within 1.5 s "
                                        "(start-up deadline, ORCHESTRATOR_STARTUP_TIMEOUT)")
