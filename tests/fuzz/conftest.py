"""The fuzz suite's world: every component served in its own process on loopback ports, with the data it reads
(a small S5P-shaped product on disk, in a loopback S3 server and behind a loopback HTTP server; catalogues on
loopback answering like CDSE, resto and STAC; a shared folder with GeoJSON and CSV files).

Nothing here leaves loopback: fields that name a server are drawn from these servers' addresses only.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import pytest

from components.comax.sample import write_product
from components.common.catalogue import CATALOGUE
from tests.comax_helpers import RangeHandler
from tests.databroker_helpers import odata_catalogue, resto_catalogue, serve, stac_api
from tests.fuzz.report import TALLY
from tests.geotriples_helpers import write_csv, write_geojson

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "fuzz"
PREFIXES = (*(entry.prefix for entry in CATALOGUE), "SHARED_FOLDER_PATH")


def memory_limit(name: str) -> int:
    """The component's Kubernetes memory limit in bytes (what ``ai4cop export`` writes): past it, a pod dies."""
    text = next(entry.limits[1] for entry in CATALOGUE if entry.name == name)
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    return int(text[:-2]) * units[text[-2:]]


class Served:
    """One component in its own process: its ports, a channel, and how to tell it is alive and how big."""

    def __init__(self, name: str, env: dict[str, str], log: Path):
        self.name = name
        self.log = log
        self._log_handle = log.open("w")
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.fuzz.serve_component", name], cwd=ROOT,
                                     env=env, stdout=subprocess.PIPE, stderr=self._log_handle, text=True)
        self.grpc_port = 0
        self.web_port = 0
        self.channel: grpc.Channel | None = None

    def wait_ready(self) -> None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name} did not start:\n{self.log_tail()}")
        ports = json.loads(line)
        self.grpc_port, self.web_port = ports["grpc"], ports["web"]
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.grpc_port}")

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss(self) -> int:
        """Resident memory of the server process, in bytes."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def log_tail(self, lines: int = 40) -> str:
        self._log_handle.flush()
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.channel is not None:
            self.channel.close()
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_handle.close()


class World:
    """What the servers read, and the loopback addresses a fuzzed request may name."""

    def __init__(self, root: Path):
        self.root = root
        self.products = root / "products"
        self.shared = root / "shared"
        self.results = root / "results"
        for folder in (self.products, self.shared, self.results):
            folder.mkdir()
        self.product = write_product(self.products, datetime(2024, 3, 1, 12, tzinfo=UTC), scanlines=24)
        write_geojson(self.shared)
        write_csv(self.shared)
        (self.shared / "empty.geojson").write_text("")
        (self.shared / "sub").mkdir()
        self.catalogues: dict[str, str] = {}
        self.s3 = ""
        self.http = ""
        self.closed = ""  # a loopback port nobody listens on


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    import boto3
    from moto.server import ThreadedMotoServer

    world = World(tmp_path_factory.mktemp("fuzz"))
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    world.s3 = f"http://{host}:{port}"
    s3 = boto3.client("s3", endpoint_url=world.s3, aws_access_key_id="test", aws_secret_access_key="test",
                      region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3.upload_file(str(world.product), BUCKET, world.product.name)
    files = ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, directory=str(world.products)))
    threading.Thread(target=files.serve_forever, daemon=True).start()
    world.http = f"http://127.0.0.1:{files.server_address[1]}"
    world.closed = f"http://127.0.0.1:{_closed_port()}"
    with serve(lambda r: cdse(r)) as c, serve(lambda r: resto(r)) as o, serve(lambda r: stac(r)) as s:
        cdse = odata_catalogue(12, lambda: c.url, page_items=5)
        resto = resto_catalogue(12, lambda: o.url)
        stac = stac_api(12, lambda: s.url)
        world.catalogues = {"cdse": c.url, "opensearch": o.url, "stac": s.url}
        yield world
    files.shutdown()
    files.server_close()
    moto.stop()


def _env(world: World) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(PREFIXES)}
    env.update({
        "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(world.root / "cache"),
        "DATABROKER_CATALOGUE": "cdse", "DATABROKER_URL": world.catalogues["cdse"],
        "DATABROKER_DIR": str(world.products), "DATABROKER_RETRIES": "0", "DATABROKER_TIMEOUT_SECONDS": "5",
        "COMAX_RESULTS_FOLDER": str(world.results), "COMAX_DATA_FOLDER": str(world.products),
        "COMAX_S3_ENDPOINT": world.s3, "COMAX_S3_ACCESS_KEY": "test", "COMAX_S3_SECRET_KEY": "test",
        "COMAX_S3_REGION": "us-east-1", "COMAX_HTTP_TIMEOUT": "5",
        "GEOTRIPLES_SHARED_FOLDER": str(world.shared),
        "ORCHESTRATOR_STARTUP_TIMEOUT": "2", "ORCHESTRATOR_RETRIES": "0",
    })
    return env


@pytest.fixture(scope="session")
def fleet(world: World) -> Iterator[dict[str, Served]]:
    """Every component of the catalogue, served; started together (each imports its libraries at once)."""
    env = _env(world)
    served = {entry.name: Served(entry.name, env, world.root / f"{entry.name}.log") for entry in CATALOGUE}
    try:
        for server in served.values():
            server.wait_ready()
        yield served
    finally:
        for server in served.values():
            server.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TALLY.rows or TALLY.notes:
        terminalreporter.write_sep("-", "fuzz: cases per rpc and endpoint")
        for line in TALLY.lines():
            terminalreporter.write_line(line)
