"""Run a plan: one worker thread per rpc, bounded queues between them, generic calls on serialized bytes.

The platform's semantics (one worker and one input queue per rpc, fan-out copies, fan-in merges, the four
streaming shapes) with its defects fixed: every worker waits for its component to be ready (up to a start-up
deadline) before the first call; queues are bounded, so a slow consumer slows its producers instead of
growing memory; ``iterations`` bounds the number of source calls; a source answering NOT_FOUND or
OUT_OF_RANGE is exhausted, after which its downstream drains and the run finishes; a component error is an
``exception`` event naming node, rpc and status, then the run fails (or goes on, with ``continue_on_error``).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health_pb2

from components.common.errors import ERROR_KEY
from components.common.registry import is_ai4cop_image
from components.common.runs import new_run_id, run_metadata
from components.orchestrator.channel import Channel, Closed
from components.orchestrator.events import FAILED, FINISHED, Event, EventBus
from components.orchestrator.graph import Plan, Step, StepKey

logger = logging.getLogger(__name__)

EXHAUSTED = frozenset({grpc.StatusCode.NOT_FOUND, grpc.StatusCode.OUT_OF_RANGE})
FOREIGN_PING_INTERVAL = 300.0  # seconds: gRPC servers' default minimum between pings without data
EMPTY = b""  # the serialized platform ``Empty`` message
HEALTH_CHECK = "/grpc.health.v1.Health/Check"


@dataclass(frozen=True)
class RunOptions:
    """How a run behaves; ``queuesize``/``iterations`` come from ``initialize`` (0 = default / unlimited)."""

    queuesize: int = 64
    iterations: int = 0
    startup_timeout: float = 60.0
    call_timeout: float | None = None
    retries: int = 2
    retry_backoff: float = 0.5
    continue_on_error: bool = False
    max_message_bytes: int = 64 * 1024 * 1024
    concurrency: int = 1
    node_concurrency: Mapping[str, int] = field(default_factory=dict)
    keepalive: float = 30.0

    def workers(self, step: Step) -> int:
        """Calls in flight for a step: for a unary-input rpc, its node's ``node_concurrency`` entry (a node with
        replicas) or ``concurrency`` (order is then not kept); 1 for sources and streaming inputs."""
        if step.source or step.rpc.input_stream:
            return 1
        return max(1, self.node_concurrency.get(step.node, self.concurrency))

    def channel_options(self, step: Step) -> list[tuple[str, int | str]]:
        """gRPC channel options for ``step``'s node: message size, fast reconnects, round-robin, keepalive.

        Keepalive pings find a peer that vanished without a TCP reset (a lost pod or node), which would
        otherwise leave a call waiting forever. Our servers accept a ping every 10 s; a foreign server keeps
        gRPC's default policy (at most one ping per 5 minutes while it sends nothing, else it drops the
        connection), so its node is pinged only that often.
        """
        interval = self.keepalive if is_ai4cop_image(step.image) else max(self.keepalive, FOREIGN_PING_INTERVAL)
        options: list[tuple[str, int | str]] = [
            ("grpc.max_receive_message_length", self.max_message_bytes),
            ("grpc.max_send_message_length", self.max_message_bytes),
            ("grpc.initial_reconnect_backoff_ms", 200),
            ("grpc.max_reconnect_backoff_ms", 1000),
            # A node name that resolves to several pods (a headless Service with replicas) gets every pod.
            ("grpc.lb_policy_name", "round_robin"),
        ]
        if self.keepalive > 0:
            timeout_ms = int(1000 * min(20.0, interval))
            options += [
                ("grpc.keepalive_time_ms", int(1000 * interval)),
                # Both names: recent gRPC cores take the ping timeout from the second.
                ("grpc.keepalive_timeout_ms", timeout_ms),
                ("grpc.http2.ping_timeout_ms", timeout_ms),
                # Keep pinging through a long call in which neither side sends anything.
                ("grpc.http2.max_pings_without_data", 0),
            ]
        return options


@dataclass(frozen=True)
class Failure:
    """Why a run failed: the node and rpc, the gRPC status name, and the component's message."""

    node: str
    rpc: str
    status: str
    message: str

    def __str__(self) -> str:
        where = f"{self.node}.{self.rpc}" if self.rpc else self.node
        return f"{where} failed: {self.status}: {self.message}"


class _Stopped(Exception):
    """The run is being aborted; the worker just leaves."""


class _StepError(Exception):
    """A failure that is not a gRPC status (start-up deadline...)."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


class Run:
    """One execution of a plan. ``start`` returns at once; ``wait`` blocks until it has ended.

    Every call carries the run's unique ``id`` in its metadata (``components.common.runs``): that is how a
    component running for several runs (a broker, an analyzer) tells a new run from the one before.
    """

    def __init__(self, plan: Plan, label: str, bus: EventBus, options: RunOptions):
        self.plan = plan
        self.label = label
        self.id = new_run_id(label)
        self.bus = bus
        self.options = options
        self.failure: Failure | None = None
        self.results: dict[StepKey, bytes] = {}
        # Written under ``_count_lock`` (a step may have several workers), read without it by progress displays.
        self.calls: dict[StepKey, int] = dict.fromkeys(plan.steps, 0)
        self.outputs: dict[StepKey, int] = dict.fromkeys(plan.steps, 0)
        self.started_at = 0.0
        self.ended_at = 0.0
        self._lock = threading.Lock()
        # worker thread -> (node, address), while the worker waits for its node to answer (start-up)
        self._waiting: dict[int, tuple[str, str]] = {}
        self._count_lock = threading.Lock()
        self._stopping = threading.Event()
        self._done = threading.Event()
        self._alive = 0
        self._grpc: dict[str, grpc.Channel] = {}
        self._queues: dict[StepKey, Channel] = {
            key: Channel(step.label, options.queuesize, sum(options.workers(plan.steps[k]) for k in step.inputs))
            for key, step in plan.steps.items() if not step.source
        }
        self._threads: list[threading.Thread] = []
        self._metadata = run_metadata(self.id)

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        self.started_at = time.monotonic()
        for step in self.plan.steps.values():
            if step.node not in self._grpc:
                self._grpc[step.node] = grpc.insecure_channel(step.endpoint.target,
                                                              options=self.options.channel_options(step))
        for step in self.plan.steps.values():
            for index in range(self.options.workers(step)):
                self._threads.append(threading.Thread(target=self._work, args=(step,), daemon=True,
                                                      name=f"rpc-{step.label}-{index}"))
        self._alive = len(self._threads)
        for thread in self._threads:
            thread.start()
        if not self._threads:
            self._complete()

    def wait(self, timeout: float | None = None) -> bool:
        """True once the run has ended (finished or failed)."""
        return self._done.wait(timeout)

    @property
    def ended(self) -> bool:
        return self._done.is_set()

    @property
    def active_threads(self) -> int:
        with self._lock:
            return self._alive

    def waiting(self) -> dict[str, str]:
        """The nodes some worker is still waiting for (not answering yet), with their addresses."""
        with self._lock:
            return dict(self._waiting.values())

    @property
    def succeeded(self) -> bool:
        return self.ended and self.failure is None

    def stop(self, reason: str = "stopped by stop_orchestration") -> None:
        """Abort the run: cancel calls in flight, wake every worker; the run ends as failed."""
        self._record(Failure("orchestrator", "", "CANCELLED", reason))
        self._abort()

    def _abort(self) -> None:
        self._stopping.set()
        for queue in self._queues.values():
            queue.abort()
        for channel in self._grpc.values():
            channel.close()

    def _record(self, failure: Failure) -> None:
        with self._lock:
            if self.failure is None:
                self.failure = failure

    def _complete(self) -> None:
        self.ended_at = time.monotonic()
        for channel in self._grpc.values():
            channel.close()
        detail = {"seconds": f"{self.ended_at - self.started_at:.3f}",
                  "messages": str(sum(self.outputs.values()))}
        if self.failure is None:
            self._emit(FINISHED, "orchestrator", **detail)
        else:
            f = self.failure
            self._emit(FAILED, f.node, rpc=f.rpc, status=f.status, message=f.message, reason=str(f), **detail)
        self._done.set()

    def _emit(self, name: str, component: str, **detail: str) -> None:
        if self.bus.has_subscribers or name in (FINISHED, FAILED):
            self.bus.publish(Event(self.label, name, component, detail))

    # -- workers -----------------------------------------------------------------------------------------

    def _work(self, step: Step) -> None:
        self._emit("thread.start", step.node, rpc=step.rpc.name)
        try:
            self._await_ready(step)
            if step.source:
                self._run_source(step)
            elif step.rpc.input_stream:
                self._run_stream_in(step)
            else:
                self._run_unary_in(step)
        except (_Stopped, Closed):
            pass
        except grpc.RpcError as err:
            if not self._stopping.is_set():
                self._report(step, err.code().name, err.details() or "", traceback.format_exc())
                self._abort()
        except _StepError as err:
            self._report(step, err.status, str(err), traceback.format_exc())
            self._abort()
        except Exception as err:
            logger.exception("worker %s crashed", step.label)
            self._report(step, "INTERNAL", f"{type(err).__name__}: {err}", traceback.format_exc())
            self._abort()
        finally:
            for key in step.outputs:
                self._queues[key].producer_done()
            self._emit("thread.terminate", step.node, rpc=step.rpc.name)
            with self._lock:
                self._alive -= 1
                last = self._alive == 0
            if last:
                self._complete()

    def _report(self, step: Step, status: str, message: str, trace: str) -> None:
        """An ``exception`` event (the platform's details ``method`` and ``traceback``, plus ours)."""
        logger.error("%s: %s: %s", step.label, status, message)
        self._emit("exception", step.node, method=step.rpc.method, traceback=trace, rpc=step.rpc.name,
                   status=status, message=message)
        if not self.options.continue_on_error:
            self._record(Failure(step.node, step.rpc.name, status, message))

    def _await_ready(self, step: Step) -> None:
        """Wait (up to the start-up deadline) until the node answers; a NOT_SERVING health counts as not yet.

        The probe is a health check with ``wait_for_ready`` in short slices, so a stop is noticed quickly; a
        server without the health service answers UNIMPLEMENTED, which proves it is up just as well.
        """
        worker = threading.get_ident()
        with self._lock:
            self._waiting[worker] = (step.node, step.endpoint.target)
        try:
            self._probe(step)
        finally:
            with self._lock:
                del self._waiting[worker]

    def _probe(self, step: Step) -> None:
        deadline = self.started_at + self.options.startup_timeout
        probe: grpc.UnaryUnaryMultiCallable[bytes, bytes] = self._grpc[step.node].unary_unary(HEALTH_CHECK)
        while True:
            if self._stopping.is_set():
                raise _Stopped()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _StepError("UNAVAILABLE", f"not reachable at {step.endpoint.target} within "
                                                f"{self.options.startup_timeout:g} s (start-up deadline, "
                                                "ORCHESTRATOR_STARTUP_TIMEOUT)")
            try:
                reply = probe(b"", timeout=min(0.25, remaining), wait_for_ready=True)
            except grpc.RpcError as err:
                if err.code() in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE):
                    self._stopping.wait(0.05)
                    continue
                return
            if health_pb2.HealthCheckResponse.FromString(reply).status == health_pb2.HealthCheckResponse.SERVING:
                return
            self._stopping.wait(0.1)

    def _deliver(self, step: Step, response: bytes) -> None:
        with self._count_lock:
            self.outputs[step.key] += 1
        self.results[step.key] = response
        if step.sink:
            return
        for key in step.outputs:
            self._queues[key].put(response)
            self._emit("queue.added", key[0], queue=self._queues[key].name)

    def _next_input(self, step: Step) -> bytes | None:
        item = self._queues[step.key].get()
        if item is not None:
            self._emit("queue.consumed", step.node, queue=step.label)
        return item

    def _run_source(self, step: Step) -> None:
        limit = self.options.iterations
        while not limit or self.calls[step.key] < limit:
            if self._stopping.is_set():
                raise _Stopped()
            produced = 0
            try:
                for response in self._call(step, EMPTY):
                    produced += 1
                    self._deliver(step, response)
            except grpc.RpcError as err:
                if err.code() in EXHAUSTED and not self._stopping.is_set():
                    self._emit("source.exhausted", step.node, rpc=step.rpc.name, status=err.code().name)
                    return
                raise
            # An Empty-input stream that closes is restarted (platform semantics); one that yields
            # nothing at all has nothing more to give, so it counts as exhausted instead of spinning.
            if step.rpc.output_stream and not produced:
                self._emit("source.exhausted", step.node, rpc=step.rpc.name, status="OK")
                return

    def _run_unary_in(self, step: Step) -> None:
        while (request := self._next_input(step)) is not None:
            try:
                for response in self._call(step, request):
                    self._deliver(step, response)
            except grpc.RpcError as err:
                if not self.options.continue_on_error or self._stopping.is_set():
                    raise
                self._report(step, err.code().name, err.details() or "", traceback.format_exc())

    def _run_stream_in(self, step: Step) -> None:
        """One long call streaming the queue in; a call that ends early is followed by another (platform style).

        A call starts only once an input is there, so an upstream that produced nothing causes no call at all.
        """
        while (first := self._next_input(step)) is not None:

            def requests(head: bytes = first) -> Iterator[bytes]:
                yield head
                while (item := self._next_input(step)) is not None:
                    yield item

            try:
                for response in self._call(step, requests()):
                    self._deliver(step, response)
            except grpc.RpcError as err:
                if not self.options.continue_on_error or self._stopping.is_set():
                    raise
                self._report(step, err.code().name, err.details() or "", traceback.format_exc())

    # -- calls -------------------------------------------------------------------------------------------

    def _callable(self, step: Step) -> Callable[..., object]:
        channel, rpc = self._grpc[step.node], step.rpc
        factories: dict[tuple[bool, bool], Callable[[str], Callable[..., object]]] = {
            (False, False): channel.unary_unary,
            (False, True): channel.unary_stream,
            (True, False): channel.stream_unary,
            (True, True): channel.stream_stream,
        }
        # No serializers: messages pass through as the bytes the previous component produced.
        return factories[(rpc.input_stream, rpc.output_stream)](rpc.method)

    def _call(self, step: Step, request: bytes | Iterator[bytes]) -> Iterator[bytes]:
        """One rpc call, yielding its response(s); UNAVAILABLE before any response is retried (unary input),
        unless one of our components answered it: it has retried on its side already."""
        method = self._callable(step)
        if step.rpc.input_stream and isinstance(request, bytes):
            request = iter([request])
        attempt = 0
        while True:
            with self._count_lock:
                self.calls[step.key] += 1
            self._emit("RPC.call", step.node, rpc=step.rpc.name)
            produced = False
            try:
                reply = method(request, timeout=self.options.call_timeout, metadata=self._metadata)
                if step.rpc.output_stream:
                    for response in reply:  # type: ignore[attr-defined]
                        produced = True
                        yield response
                else:
                    produced = True
                    yield reply  # type: ignore[misc]
                self._emit("RPC.finished", step.node, rpc=step.rpc.name)
                return
            except grpc.RpcError as err:
                retry = (err.code() is grpc.StatusCode.UNAVAILABLE and not produced and not _answered(err)
                         and isinstance(request, bytes) and attempt < self.options.retries)
                if not retry or self._stopping.wait(self.options.retry_backoff * (attempt + 1)):
                    raise
                attempt += 1
                with self._count_lock:
                    self.calls[step.key] -= 1


def _answered(err: grpc.RpcError) -> bool:
    """Whether one of our components answered the failed call itself (``ERROR_KEY`` in its trailing metadata)."""
    trailing = getattr(err, "trailing_metadata", None)
    return callable(trailing) and any(key == ERROR_KEY for key, _ in trailing() or ())
