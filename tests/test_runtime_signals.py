"""A served component stops cleanly on SIGTERM: health goes NOT_SERVING, then the process exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

SCRIPT = textwrap.dedent(
    """
    import logging, sys
    from components.common.server import Component, serve
    from components.common.settings import ComponentSettings

    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    settings = ComponentSettings(host="127.0.0.1", port=int(sys.argv[1]), web_host="127.0.0.1", web_port=0,
                                 grace_seconds=1)
    serve(Component(name="empty", services=[]), settings)
    """
)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_sigterm_stops_the_server_gracefully(tmp_path: Path) -> None:
    script = tmp_path / "serve_empty.py"
    script.write_text(SCRIPT)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, str(script), str(port)], env=env, stderr=subprocess.PIPE, text=True)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=20, wait_for_ready=True)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "signal SIGTERM: shutting down" in err
    assert err.index("shutting down") < err.index("empty stopped")


def test_container_entry_point_reports_bad_settings_in_one_line() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "COMAX_QA_MIN": "abc"}
    proc = subprocess.run([sys.executable, "-m", "components.comax"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "comax: invalid setting qa_min (COMAX_QA_MIN)" in proc.stderr
