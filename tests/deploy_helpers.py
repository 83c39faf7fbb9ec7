"""Start a built image and probe it: with docker (``docker run -p``) or without a daemon (buildah).

Without a daemon, ``buildah from`` + ``buildah run``: the container's command runs inside ``unshare --net`` (its
own loopback, so port 8061 is free whatever else runs on the machine), and the health probe enters the same
namespace with ``nsenter``. Both container classes offer ``config``, ``start``, ``health``, ``run``, ``close``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from onboarding.images import buildah_command

PROBE = """
import sys, grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
with grpc.insecure_channel(sys.argv[1]) as channel:
    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=3)
    print(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))
"""


def _run(*args: str, timeout: float = 300) -> str:
    proc = subprocess.run([*buildah_command(), *args], capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"buildah {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


class BuildahContainer:
    """A working container of ``ref`` whose image command runs in its own network namespace."""

    def __init__(self, ref: str, log: Path):
        self.ref = ref
        self.config = json.loads(_run("inspect", "--type", "image", ref))["OCIv1"]["config"]
        self.name = _run("from", "--pull-never", ref)
        self.log = log
        self._holder = subprocess.Popen(["unshare", "--net", "--", "sleep", "3600"])
        self.netns = f"/proc/{self._holder.pid}/ns/net"
        self._server: subprocess.Popen[bytes] | None = None

    def in_netns(self, *cmd: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["nsenter", f"--net={self.netns}", *cmd], capture_output=True, text=True,
                              timeout=timeout, check=False)

    def start(self, env: dict[str, str] | None = None) -> list[str]:
        """Run the image's entry command (ENTRYPOINT + CMD) in the background; return it."""
        # The holder has its own namespace only once ``unshare`` has run; before that it shares ours.
        own = os.readlink("/proc/self/ns/net")
        for _ in range(200):
            if os.readlink(self.netns) != own:
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("unshare --net did not create a network namespace")
        self.in_netns("ip", "link", "set", "lo", "up")
        command = [*(self.config.get("Entrypoint") or []), *(self.config.get("Cmd") or [])]
        env_args = [arg for key, value in (env or {}).items() for arg in ("--env", f"{key}={value}")]
        with self.log.open("wb") as out:
            self._server = subprocess.Popen(
                ["nsenter", f"--net={self.netns}", *buildah_command(), "run", "--isolation", "chroot",
                 *env_args, self.name, "--", *command],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        return command

    def health(self, target: str = "127.0.0.1:8061", timeout: float = 90) -> str:
        """Poll grpc.health.v1 from the host's Python inside the namespace until SERVING (or time out)."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self._server is not None and self._server.poll() is not None:
                return f"exited {self._server.returncode}: {self.log.read_text(errors='replace')[-2000:]}"
            proc = self.in_netns(sys.executable, "-c", PROBE, target, timeout=30)
            last = proc.stdout.strip() or (proc.stderr.strip().splitlines() or [""])[-1]
            if proc.returncode == 0 and last == "SERVING":
                return last
            time.sleep(1)
        return f"timeout, last: {last}; log: {self.log.read_text(errors='replace')[-2000:]}"

    def run(self, *cmd: str) -> str:
        """Run a command in the container (as its user) and return its output."""
        return _run("run", "--isolation", "chroot", self.name, "--", *cmd, timeout=120)

    def close(self) -> None:
        if self._server is not None and self._server.poll() is None:
            os.killpg(self._server.pid, signal.SIGTERM)
            try:
                self._server.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self._server.pid, signal.SIGKILL)
                self._server.wait(5)
        self._holder.kill()
        self._holder.wait(5)
        subprocess.run([*buildah_command(), "rm", self.name], capture_output=True, check=False, timeout=300)


def _docker(*args: str, timeout: float = 300) -> str:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


class DockerContainer:
    """A container of ``ref`` run by the docker daemon, its 8061 published on a free loopback port."""

    def __init__(self, ref: str, log: Path):
        self.ref = ref
        self.config = json.loads(_docker("image", "inspect", ref))[0]["Config"]
        self.log = log
        self.id = ""
        self.target = ""

    def start(self, env: dict[str, str] | None = None) -> list[str]:
        """Run the image's entry command (ENTRYPOINT + CMD) detached; return it."""
        env_args = [arg for key, value in (env or {}).items() for arg in ("--env", f"{key}={value}")]
        self.id = _docker("run", "--detach", "--publish", "127.0.0.1::8061", *env_args, self.ref)
        host_port = _docker("port", self.id, "8061/tcp").splitlines()[0].rsplit(":", 1)[1]
        self.target = f"127.0.0.1:{host_port}"
        return [*(self.config.get("Entrypoint") or []), *(self.config.get("Cmd") or [])]

    def health(self, timeout: float = 90) -> str:
        """Poll grpc.health.v1 on the published port until SERVING (or time out)."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if _docker("inspect", "--format", "{{.State.Running}}", self.id) != "true":
                return f"exited: {_docker('logs', self.id)[-2000:]}"
            proc = subprocess.run([sys.executable, "-c", PROBE, self.target], capture_output=True, text=True,
                                  timeout=30, check=False)
            last = proc.stdout.strip() or (proc.stderr.strip().splitlines() or [""])[-1]
            if proc.returncode == 0 and last == "SERVING":
                return last
            time.sleep(1)
        return f"timeout, last: {last}; log: {_docker('logs', self.id)[-2000:]}"

    def run(self, *cmd: str) -> str:
        """Run a command in a new container of the image (as its user) and return its output."""
        return _docker("run", "--rm", self.ref, *cmd, timeout=120)

    def close(self) -> None:
        if self.id:
            self.log.write_text(subprocess.run(["docker", "logs", self.id], capture_output=True, text=True,
                                               check=False, timeout=60).stdout)
            subprocess.run(["docker", "rm", "--force", self.id], capture_output=True, check=False, timeout=120)


class FakeKubeApi:
    """An HTTP server on loopback answering like a Kubernetes API server: ``routes`` maps ``(method, path)`` to
    ``(status, body)``; anything else is a 404 ``Status``. ``kubeconfig(path)`` writes a config pointing at it."""

    def __init__(self, routes: dict[tuple[str, str], tuple[int, dict[str, object]]]):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.routes = routes
        self.requests: list[tuple[str, str]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                path = self.path.split("?", 1)[0]
                api.requests.append((self.command, path))
                status, body = api.routes.get((self.command, path), (404, status_body(404, "NotFound",
                                                                                          f"{path} not found")))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = _answer

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        import threading

        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def kubeconfig(self, path: Path) -> Path:
        config = {"apiVersion": "v1", "kind": "Config", "current-context": "test",
                  "clusters": [{"name": "test", "cluster": {"server": self.url}}],
                  "users": [{"name": "test", "user": {"token": "test-token"}}],
                  "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}]}
        path.write_text(json.dumps(config))
        return path

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def status_body(code: int, reason: str, message: str) -> dict[str, object]:
    """The body of a Kubernetes API error (a ``Status`` object)."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}
