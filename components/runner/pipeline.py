"""A blueprint run on this machine: its nodes as local processes with their settings, and a run to the end.

Used by ``ai4cop up``, ``ai4cop run`` and ``ai4cop demo``. Node settings: the demo's embedded defaults
(local sample catalogue, default AOI and period), overridden by the environment (``DATABROKER_AOI``...),
overridden per node by a config file ``{"<node>": {"VAR": "value"}}``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.common.contract import component_proto
from components.common.errors import InvalidInput
from components.common.registry import component_for_image
from components.orchestrator.blueprint import dump_dockerinfo, parse_blueprint
from components.orchestrator.engine import Run, RunOptions
from components.orchestrator.service import Configuration, Orchestrator, load_pipeline
from components.runner.local import ORCHESTRATOR, LocalDeployment, components_of

logger = logging.getLogger(__name__)

NodeEnv = dict[str, dict[str, str]]


def read_text(path: Path) -> str:
    """A text file's content; ``InvalidInput`` naming it when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as err:
        raise InvalidInput(f"cannot read {path}: {err.strerror}") from err


def node_protos(blueprint_text: str, folder: Path | None) -> dict[str, str]:
    """``<node>.proto`` texts from ``folder``, else our packaged proto of each node's component."""
    protos = {}
    for name, node in parse_blueprint(blueprint_text).nodes.items():
        if folder is not None:
            path = folder / f"{name}.proto"
            if path.exists():
                protos[path.name] = read_text(path)
            continue
        try:
            protos[f"{name}.proto"] = component_proto(component_for_image(node.image))
        except InvalidInput as err:
            logger.warning("node %s: %s; give its proto with --protos DIR", name, err)
    return protos


def load_config(path: Path | None) -> NodeEnv:
    """Per-node settings from a JSON file ``{"<node>": {"VAR": "value"}}`` (``InvalidInput`` when malformed)."""
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise InvalidInput(f"config {path}: {err}") from err
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise InvalidInput(f"config {path}: expected {{\"<node>\": {{\"VAR\": \"value\"}}}}")
    return {str(node): {str(k): str(v) for k, v in env.items()} for node, env in data.items()}


def node_environments(components: dict[str, str], defaults: dict[str, dict[str, str]], config: NodeEnv,
                      environ: dict[str, str] | None = None) -> NodeEnv:
    """Each node's extra environment: component defaults unless set in ``environ``, then the node's config."""
    environ = dict(os.environ) if environ is None else environ
    unknown = set(config) - set(components)
    if unknown:
        raise InvalidInput(f"config names unknown node(s): {', '.join(sorted(unknown))}")
    result: NodeEnv = {}
    for node, component in components.items():
        env = {k: v for k, v in defaults.get(component, {}).items() if k not in environ}
        env.update(config.get(node, {}))
        result[node] = env
    return result


@dataclass
class LocalPipeline:
    """A blueprint whose nodes (and optionally an orchestrator) run as local processes."""

    components: dict[str, str]
    deployment: LocalDeployment

    @classmethod
    def prepare(cls, blueprint_text: str, log_dir: Path) -> LocalPipeline:
        """The pipeline of a blueprint whose nodes are all our components; ``InvalidInput`` listing its
        problems (as ``ai4cop blueprint check`` would) before anything is started."""
        pipeline = cls(components_of(parse_blueprint(blueprint_text)), LocalDeployment(log_dir))
        error = load_pipeline(blueprint_text, None, pipeline.protofiles()).error
        if error is not None:
            raise InvalidInput(error)
        return pipeline

    def start(self, environments: NodeEnv, *, orchestrator: bool = False, timeout: float = 60.0) -> None:
        """Start every node (and the orchestrator) and wait until all are healthy."""
        for node, component in self.components.items():
            self.deployment.start(node, component, environments.get(node))
        if orchestrator:
            self.deployment.start(ORCHESTRATOR, ORCHESTRATOR)
        self.deployment.wait_healthy(timeout)

    def protofiles(self) -> dict[str, str]:
        return {f"{node}.proto": component_proto(component) for node, component in self.components.items()}

    def dockerinfo(self) -> str:
        return dump_dockerinfo(self.deployment.endpoints())

    def stop(self) -> None:
        self.deployment.stop()


@dataclass
class Outcome:
    """A finished run: the run itself and the decoded last output of each result step."""

    run: Run
    results: dict[str, dict[str, Any]]


def run_to_end(blueprint_text: str, dockerinfo_text: str, protofiles: dict[str, str], *,
               options: RunOptions | None = None, on_progress: Callable[[Run], None] | None = None,
               interval: float = 0.5) -> Outcome:
    """Initialize and run a pipeline in this process until it ends; ``InvalidInput`` listing its problems."""
    orchestrator = Orchestrator(options)
    status = orchestrator.initialize(Configuration(blueprint_text, dockerinfo_text, protofiles))
    if not status.success:
        raise InvalidInput(status.message)
    orchestrator.run("")
    run = orchestrator.current_run
    assert run is not None
    try:
        while not run.wait(interval):
            if on_progress is not None:
                on_progress(run)
    except BaseException:
        run.stop("interrupted")
        run.wait(10)
        raise
    if on_progress is not None:
        on_progress(run)
    results = {}
    for step in run.plan.last_steps():
        data = run.results.get(step.key)
        if data is not None:
            proto = run.plan.protos[step.node]
            results[step.label] = proto.decode(step.rpc.output_type, data)
    return Outcome(run, results)


class Progress:
    """``found N, done M, R/s`` from the run counters: found = source outputs, done = result-step outputs; and,
    after ``patience`` seconds, the nodes the run is still waiting for."""

    def __init__(self, write: Callable[[str], None], patience: float = 1.0):
        self._write = write
        self._patience = patience
        self._last = ""
        self._lock = threading.Lock()

    def __call__(self, run: Run) -> None:
        found = sum(run.outputs[s.key] for s in run.plan.sources)
        done = sum(run.outputs[s.key] for s in run.plan.steps.values() if not s.outputs)
        elapsed = max(1e-6, (run.ended_at or time.monotonic()) - run.started_at)
        line = f"products found {found}, done {done}, {done / elapsed:.1f}/s"
        waiting = run.waiting() if elapsed >= self._patience and not run.ended else {}
        if waiting:
            nodes = ", ".join(f"{node} at {target}" for node, target in sorted(waiting.items()))
            line += f"; waiting for {nodes} to answer (up to {run.options.startup_timeout:g} s)"
        with self._lock:
            if line != self._last:
                self._last = line
                self._write(line)
