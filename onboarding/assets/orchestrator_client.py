#!/usr/bin/env python3
"""Run the solution's pipeline through its orchestrator (compatible with the platform's orchestrator_client.py).

    python3 orchestrator_client/orchestrator_client.py --endpoint=HOST:PORT --basepath=./

Opens the ``observe`` event stream first, then calls ``initialize`` with the blueprint, the dockerinfo and
every ``microservice/<container>.proto``, then ``run``, prints each event, and returns when the stream ends.
Exit status: 0 when the run ended without an ``exception`` event, 1 otherwise, 2 when it could not start.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import grpc


def load_api(basepath: Path) -> tuple[Any, Any]:
    """The orchestrator's (messages, services) modules, compiled at run time from ``protobuf/orchestrator.proto``."""
    proto_dir = str((basepath / "protobuf").resolve())
    sys.path.insert(0, proto_dir)
    try:
        return grpc.protos_and_services("orchestrator.proto")
    finally:
        sys.path.remove(proto_dir)


def configuration(basepath: Path, queuesize: int, iterations: int, messages: Any) -> Any:
    """The ``OrchestrationConfiguration`` of the solution in ``basepath``."""
    protofiles = {path.name: path.read_text(encoding="utf-8")
                  for path in sorted((basepath / "microservice").glob("*.proto"))}
    return messages.OrchestrationConfiguration(
        blueprint=(basepath / "blueprint.json").read_text(encoding="utf-8"),
        dockerinfo=(basepath / "dockerinfo.json").read_text(encoding="utf-8"),
        protofiles=protofiles, queuesize=queuesize, iterations=iterations,
    )


def format_event(event: Any) -> str:
    detail = dict(event.detail)
    if event.name == "exception":
        return (f"[{event.run}] EXCEPTION in {event.component} {detail.get('method', '')}:\n"
                f"{detail.get('traceback', json.dumps(detail))}")
    return f"[{event.run}] {event.name} {event.component} {json.dumps(detail, sort_keys=True)}"


def run_pipeline(endpoint: str, basepath: Path, queuesize: int = 0, iterations: int = 0,
                 connect_timeout: float = 60.0, timeout: float | None = None,
                 emit: Callable[[str], None] = print) -> int:
    """Observe, initialize, run, and wait for the event stream to end; the exit status (see the module doc)."""
    messages, services = load_api(basepath)
    lock = threading.Lock()

    def say(line: str) -> None:
        # the observer thread and this one both write: whole lines only, never interleaved
        with lock:
            emit(line)

    with grpc.insecure_channel(endpoint) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=connect_timeout)
        except grpc.FutureTimeoutError:
            say(f"orchestrator at {endpoint} not reachable within {connect_timeout:.0f} s")
            return 2
        stub = services.OrchestratorStub(channel)
        events = stub.observe(messages.OrchestrationObservationConfiguration(name_regex=".*", component_regex=".*"),
                              timeout=timeout)
        exceptions = 0
        received = threading.Event()

        def consume() -> None:
            nonlocal exceptions
            try:
                for event in events:
                    received.set()
                    exceptions += event.name == "exception"
                    say(format_event(event))
            except grpc.RpcError as err:
                if err.code() != grpc.StatusCode.CANCELLED:
                    exceptions += 1
                    say(f"event stream failed: {err.code().name}: {err.details()}")
            finally:
                received.set()

        reader = threading.Thread(target=consume, name="observe", daemon=True)
        reader.start()
        status = stub.initialize(configuration(basepath, queuesize, iterations, messages), timeout=connect_timeout)
        say(f"initialize: success={status.success} code={status.code} message={status.message!r}")
        if not status.success:
            events.cancel()
            return 2
        status = stub.run(messages.RunLabel(label=""), timeout=connect_timeout)
        say(f"run: success={status.success} code={status.code} message={status.message!r}")
        if not status.success:
            events.cancel()
            return 2
        reader.join(timeout)
        if reader.is_alive():
            events.cancel()
            say("timed out waiting for the run to end")
            return 1
    return 1 if exceptions else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().splitlines()[0])
    parser.add_argument("-e", "--endpoint", required=True, help="orchestrator HOST:PORT")
    parser.add_argument("-b", "--basepath", type=Path, default=Path("."), help="the unpacked solution (default: .)")
    parser.add_argument("--queuesize", type=int, default=0, help="queue bound per rpc (0: orchestrator default)")
    parser.add_argument("--iterations", type=int, default=0, help="stop after N source items (0: until exhausted)")
    parser.add_argument("--timeout", type=float, help="give up waiting for the run after this many seconds")
    args = parser.parse_args(argv)
    return run_pipeline(args.endpoint, args.basepath, args.queuesize, args.iterations, timeout=args.timeout)


if __name__ == "__main__":
    sys.exit(main())
