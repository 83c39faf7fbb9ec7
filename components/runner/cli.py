"""``ai4cop up``, ``ai4cop run`` and ``ai4cop demo``: the local runner's commands."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    up = subparsers.add_parser("up", help="start every node of a blueprint and an orchestrator locally")
    up.add_argument("blueprint", type=Path)
    up.add_argument("--basepath", type=Path, required=True,
                    help="write blueprint.json, dockerinfo.json and microservice/*.proto here")
    up.add_argument("--config", type=Path, help='per-node settings: {"<node>": {"VAR": "value"}}')
    up.set_defaults(func=_up)

    run = subparsers.add_parser("run", help="run a blueprint to the end (local nodes, or existing ones)")
    run.add_argument("blueprint", type=Path)
    run.add_argument("--dockerinfo", type=Path, help="use the nodes already running at these addresses")
    run.add_argument("--protos", type=Path, help="folder of <node>.proto files (default: our components' protos)")
    run.add_argument("--config", type=Path, help='per-node settings: {"<node>": {"VAR": "value"}}')
    run.add_argument("--json", action="store_true", help="print the final result of the last node as JSON")
    run.set_defaults(func=_run)

    demo = subparsers.add_parser("demo", help="the main job: max CO over sample Sentinel-5P data, end to end")
    demo.add_argument("--json", action="store_true", help="print the analyzer's aggregate (ai4cop comax --json)")
    demo.add_argument("--serve", action="store_true", help="keep the comax web page up and print its address")
    demo.set_defaults(func=_demo)
    for command in (up, run, demo):
        # the CO pipeline's sample data and analyzer (a missing module in a node names its own extra)
        command.set_defaults(extra="comax")


def _interrupt_on_sigterm() -> None:
    """SIGTERM acts like Ctrl-C (KeyboardInterrupt), so every ``finally`` stops what was started."""

    def handler(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _wait_for_signal(deployment: Any) -> None:
    """Block until SIGTERM or SIGINT, saying once on stderr when a node's process exits meanwhile."""
    reported: set[str] = set()
    try:
        while True:
            for node in deployment.dead():
                if node.name not in reported:
                    reported.add(node.name)
                    print(f"ai4cop: node {node.name} exited with code {node.process.returncode}: "
                          f"{node.last_line()}", file=sys.stderr, flush=True)
            time.sleep(1.0)
    except KeyboardInterrupt:
        return


def _environments(pipeline: Any, config: Path | None) -> dict[str, dict[str, str]]:
    """Node settings: the demo defaults (sample data generated when first needed) < environment < config."""
    from components.runner.demo import ensure_sample_data, node_defaults, sample_folder
    from components.runner.pipeline import load_config, node_environments

    configured = load_config(config)
    defaults: dict[str, dict[str, str]] = {}
    if "databroker" in pipeline.components.values():
        folder = ensure_sample_data() if _reads_samples(pipeline.components, configured) else sample_folder()
        defaults = node_defaults(folder)
    return node_environments(pipeline.components, defaults, configured)


def _reads_samples(components: dict[str, str], configured: dict[str, dict[str, str]]) -> bool:
    """Whether a broker searches the local sample folder (no provider, no other catalogue, no folder of its own):
    real-data runs need no sample products generated first."""
    import os

    for node, component in components.items():
        env = {**os.environ, **configured.get(node, {})}
        if (component == "databroker" and not env.get("DATABROKER_PROVIDER") and not env.get("DATABROKER_DIR")
                and env.get("DATABROKER_CATALOGUE", "local") in ("", "local")):
            return True
    return False


def _up(args: argparse.Namespace) -> int:
    from components.common.errors import InvalidInput
    from components.runner.local import CLIENT, ORCHESTRATOR, write_basepath
    from components.runner.pipeline import LocalPipeline, read_text

    _interrupt_on_sigterm()
    if args.basepath.exists() and not args.basepath.is_dir():
        raise InvalidInput(f"--basepath {args.basepath} is a file, not a folder")
    text = read_text(args.blueprint)
    pipeline = LocalPipeline.prepare(text, args.basepath / "logs")
    envs = _environments(pipeline, args.config)
    try:
        pipeline.start(envs, orchestrator=True)
        endpoints = pipeline.deployment.endpoints()
        write_basepath(args.basepath, text, endpoints,
                       {k.removesuffix(".proto"): v for k, v in pipeline.protofiles().items()})
        for name, node in pipeline.deployment.nodes.items():
            if name != ORCHESTRATOR:
                print(f"{name}: {node.endpoint.target} (gRPC), {node.web_url} (web)", flush=True)
        orchestrator = endpoints[ORCHESTRATOR].target
        print(f"orchestrator: {orchestrator}", flush=True)
        base = args.basepath
        print(f"wrote {base}/blueprint.json, dockerinfo.json, microservice/, {CLIENT.parent}/\n"
              f"run the pipeline (as often as you like): python3 {base / CLIENT} --endpoint={orchestrator} "
              f"--basepath={base}\n"
              f"  or: ai4cop run {args.blueprint} --dockerinfo {base / 'dockerinfo.json'}\n"
              "Ctrl-C stops everything", flush=True)
        _wait_for_signal(pipeline.deployment)
    finally:
        pipeline.stop()
    return 0


def _progress_writer() -> Any:
    from components.runner.pipeline import Progress

    tty = sys.stderr.isatty()

    def write(line: str) -> None:
        sys.stderr.write(f"\r{line}\x1b[K" if tty else f"{line}\n")
        sys.stderr.flush()

    return Progress(write), tty


def _report_failure(command: str, outcome: Any, logs: dict[str, str]) -> int:
    failure = outcome.run.failure
    print(f"ai4cop {command}: error: {failure}", file=sys.stderr)
    tail = logs.get(failure.node)
    if tail:
        print(f"--- last lines of {failure.node}'s log ---\n{tail}", file=sys.stderr)
    return 1


def _run(args: argparse.Namespace) -> int:
    from components.orchestrator.settings import Settings as OrchestratorSettings
    from components.runner.pipeline import LocalPipeline, node_protos, read_text, run_to_end

    _interrupt_on_sigterm()
    options = OrchestratorSettings().run_options()
    text = read_text(args.blueprint)
    progress, tty = _progress_writer()
    if args.dockerinfo is not None:
        outcome = run_to_end(text, read_text(args.dockerinfo), node_protos(text, args.protos), options=options,
                             on_progress=progress)
        logs: dict[str, str] = {}
    else:
        with tempfile.TemporaryDirectory(prefix="ai4cop-run-") as tmp:
            pipeline = LocalPipeline.prepare(text, Path(tmp))
            envs = _environments(pipeline, args.config)
            try:
                pipeline.start(envs)
                outcome = run_to_end(text, pipeline.dockerinfo(), pipeline.protofiles(), options=options,
                                     on_progress=progress)
                logs = {n: p.log_tail() for n, p in pipeline.deployment.nodes.items()}
            finally:
                pipeline.stop()
    if tty:
        sys.stderr.write("\n")
    if outcome.run.failure is not None:
        return _report_failure("run", outcome, logs)
    if args.json:
        results = outcome.results
        print(json.dumps(next(iter(results.values())) if len(results) == 1 else results, indent=2))
    else:
        from components.runner.answer import format_answer

        print(format_answer(outcome.run, outcome.results))
    print(f"run finished in {outcome.run.ended_at - outcome.run.started_at:.1f} s", file=sys.stderr)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from components.runner.demo import (
        RESULT_STEP,
        blueprint_text,
        ensure_sample_data,
        format_result,
        node_defaults,
    )
    from components.runner.pipeline import LocalPipeline, node_environments, run_to_end

    _interrupt_on_sigterm()
    folder = ensure_sample_data()
    text = blueprint_text()
    with tempfile.TemporaryDirectory(prefix="ai4cop-demo-") as tmp:
        pipeline = LocalPipeline.prepare(text, Path(tmp) / "logs")
        envs = node_environments(pipeline.components, node_defaults(folder, Path(tmp) / "results"), {})
        try:
            pipeline.start(envs)
            outcome = run_to_end(text, pipeline.dockerinfo(), pipeline.protofiles())
            if outcome.run.failure is not None:
                return _report_failure("demo", outcome,
                                       {n: p.log_tail() for n, p in pipeline.deployment.nodes.items()})
            comax = pipeline.deployment.nodes[RESULT_STEP.split(".")[0]]
            result = _get_json(f"http://127.0.0.1:{comax.web_port}/api/result")
            print(json.dumps(result, indent=2) if args.json else format_result(result), flush=True)
            if args.serve:
                print(f"comax web page: http://127.0.0.1:{comax.web_port}/  (Ctrl-C stops)", flush=True)
                _wait_for_signal(pipeline.deployment)
        finally:
            pipeline.stop()
    return 0


def _get_json(url: str) -> Any:
    import requests

    from components.common.errors import UpstreamError

    try:
        response = requests.get(url, timeout=10)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as err:
        raise UpstreamError(f"cannot read the analyzer's result at {url}: {err}") from err
