"""The orchestrator's control logic (initialize, run, status, stop, observe), free of any transport."""

from __future__ import annotations

import logging
import threading
import traceback
from dataclasses import dataclass, field, replace

import grpc

from components.common.errors import Ai4copError
from components.orchestrator.blueprint import Blueprint, Endpoint, parse_blueprint, parse_dockerinfo
from components.orchestrator.engine import Run, RunOptions
from components.orchestrator.events import FAILED, Event, EventBus, Subscription
from components.orchestrator.graph import Plan, build_plan, problems, proto_key, warnings
from components.orchestrator.protos import NodeProto, parse_protos

logger = logging.getLogger(__name__)

NOT_INITIALIZED = "not initialized"
INITIALIZED = "initialized"


@dataclass(frozen=True)
class Configuration:
    """What ``initialize`` receives: blueprint and dockerinfo JSON texts, protos by ``<node>.proto`` key."""

    blueprint: str
    dockerinfo: str
    protofiles: dict[str, str] = field(default_factory=dict)
    queuesize: int = 0
    iterations: int = 0


@dataclass(frozen=True)
class Status:
    """The platform's ``OrchestrationStatus``: code 0 on success, else a gRPC status number."""

    success: bool
    code: int
    message: str
    active_threads: int = 0


@dataclass(frozen=True)
class Pipeline:
    """A parsed pipeline and everything wrong with it (empty ``problems`` = it can run)."""

    blueprint: Blueprint | None
    endpoints: dict[str, Endpoint] | None
    protos: dict[str, NodeProto]
    problems: list[str]
    warnings: list[str] = field(default_factory=list)

    @property
    def error(self) -> str | None:
        """``invalid pipeline: <problems>``, the one message for them all; None when it can run."""
        return "invalid pipeline: " + "; ".join(self.problems) if self.problems else None


def _node_protos(blueprint: Blueprint, protofiles: dict[str, str]) -> dict[str, str]:
    """Proto text by ``<node>.proto`` key; a bare ``<node>`` key is accepted too."""
    found = {}
    for name in blueprint.nodes:
        text = protofiles.get(proto_key(name), protofiles.get(name))
        if text is not None:
            found[proto_key(name)] = text
    return found


def load_pipeline(blueprint_text: str, dockerinfo_text: str | None, protofiles: dict[str, str]) -> Pipeline:
    """Parse and validate a pipeline; never raises for bad input, it lists the problems instead."""
    try:
        blueprint = parse_blueprint(blueprint_text)
    except Ai4copError as err:
        return Pipeline(None, None, {}, [str(err)])
    endpoints: dict[str, Endpoint] | None = None
    found: list[str] = []
    if dockerinfo_text is not None:
        try:
            endpoints = parse_dockerinfo(dockerinfo_text)
        except Ai4copError as err:
            found.append(str(err))
    parsed, errors = parse_protos(_node_protos(blueprint, protofiles))
    protos = {key.removesuffix(".proto"): proto for key, proto in parsed.items()}
    found += problems(blueprint, endpoints, protos, errors)
    return Pipeline(blueprint, endpoints, protos, found, warnings(blueprint, protos))


class Orchestrator:
    """One pipeline at a time: ``initialize`` validates it, ``run`` starts it, ``observe`` follows it."""

    def __init__(self, options: RunOptions | None = None, bus: EventBus | None = None):
        self.options = options or RunOptions()
        self.bus = bus or EventBus()
        self._lock = threading.Lock()
        self._plan: Plan | None = None
        self._run_options = self.options
        self._init_error: str | None = None
        self._run: Run | None = None
        self._runs = 0

    @property
    def current_run(self) -> Run | None:
        return self._run

    def initialize(self, config: Configuration) -> Status:
        """Validate and keep the pipeline; problems go to the status message and an ``exception`` event."""
        with self._lock:
            if self._run is not None and not self._run.ended:
                return Status(False, grpc.StatusCode.FAILED_PRECONDITION.value[0],
                              "a run is in progress: stop it first", self._run.active_threads)
            self.bus.reset()
            pipeline = load_pipeline(config.blueprint, config.dockerinfo, dict(config.protofiles))
            if pipeline.error is not None:
                self._plan = None
                self._init_error = pipeline.error
                self.bus.publish(Event("", "exception", "orchestrator",
                                       {"method": "initialize", "traceback": "\n".join(pipeline.problems),
                                        "status": "INVALID_ARGUMENT", "message": self._init_error}))
                return Status(False, grpc.StatusCode.INVALID_ARGUMENT.value[0], self._init_error)
            assert pipeline.blueprint is not None and pipeline.endpoints is not None
            for warning in pipeline.warnings:
                logger.warning("%s", warning)
            self._plan = build_plan(pipeline.blueprint, pipeline.endpoints, pipeline.protos)
            self._init_error = None
            self._run = None
            self._run_options = replace(self.options, queuesize=config.queuesize or self.options.queuesize,
                                        iterations=max(0, config.iterations))
            self.bus.publish(Event("", "initialized", "orchestrator",
                                   {"nodes": str(len(pipeline.blueprint.nodes)),
                                    "rpcs": str(len(self._plan.steps))}))
            logger.info("initialized: %d nodes, %d rpcs", len(pipeline.blueprint.nodes), len(self._plan.steps))
            return Status(True, 0, INITIALIZED)

    def run(self, label: str = "") -> Status:
        """Start the initialized pipeline and return at once; observers follow it to its final event."""
        with self._lock:
            if self._plan is None:
                message = self._init_error or NOT_INITIALIZED
                self.bus.publish(Event(label, FAILED, "orchestrator", {"reason": message}))
                return Status(False, grpc.StatusCode.FAILED_PRECONDITION.value[0], message)
            if self._run is not None and not self._run.ended:
                return Status(False, grpc.StatusCode.FAILED_PRECONDITION.value[0], "already running",
                              self._run.active_threads)
            self._runs += 1
            self.bus.reset()
            self._run = Run(self._plan, label or f"run-{self._runs}", self.bus, self._run_options)
            try:
                self._run.start()
            except Exception as err:
                logger.exception("cannot start the run")
                self._run.stop(f"cannot start: {err}")
                self.bus.publish(Event(label, "exception", "orchestrator",
                                       {"method": "run", "traceback": traceback.format_exc()}))
            return Status(True, 0, "running", self._run.active_threads)

    def status(self, label: str = "") -> Status:
        """The platform's status: ``not initialized``, ``initialized``, ``running``, ``finished`` or failed."""
        with self._lock:
            run, plan, init_error = self._run, self._plan, self._init_error
        if init_error is not None:
            return Status(False, grpc.StatusCode.INVALID_ARGUMENT.value[0], init_error)
        if plan is None:
            return Status(False, grpc.StatusCode.FAILED_PRECONDITION.value[0], NOT_INITIALIZED)
        if run is None:
            return Status(True, 0, INITIALIZED)
        if not run.ended:
            return Status(True, 0, "running", run.active_threads)
        if run.failure is None:
            return Status(True, 0, "finished")
        return Status(False, grpc.StatusCode.ABORTED.value[0], f"failed: {run.failure}")

    def stop(self, label: str = "") -> Status:
        """Abort the current run (if any) and wait briefly for its workers to leave."""
        run = self._run
        if run is None or run.ended:
            return Status(True, 0, "not running")
        run.stop()
        run.wait(10)
        return Status(True, 0, "stopped", run.active_threads)

    def observe(self, name_regex: str = ".*", component_regex: str = ".*") -> Subscription:
        return self.bus.subscribe(name_regex, component_regex)

    def close(self) -> None:
        """Stop any run and end every observer (the server is shutting down)."""
        self.stop()
        self.bus.close()
