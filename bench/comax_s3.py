"""Benchmark 1: the max over a ~500 km AOI from one full-orbit product on loopback S3 servers (moto, s3rver).

Partial reads (ranged GETs of the needed chunks only) against the baseline "download the whole object, open
it with netCDF4, mask the full arrays", in the same run, in turns; bytes fetched, requests and median wall time. moto
answers every ranged GET by reading the whole object (under a lock per object, so concurrent GETs queue), so its
per-request cost grows with the object: the script prints that cost. s3rver (an S3 API server in Node.js storing
objects as files) answers a ranged GET by reading only that range from its file, as S3 and CREODIAS/CDSE eodata do;
when it is installed the same comparison runs against it (the bench starts and stops it). The same comparison
against a loopback HTTP server that seeks is printed as well.

    npm install --prefix /tmp/ai4cop-bench-s3rver s3rver@3.7.1   # optional, needs node
    .venv/bin/python bench/comax_s3.py [--rounds 7] [--s3rver PATH_TO_BIN]
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import requests
from comax_common import AOI, BUCKET, baseline_from_bytes, full_orbit_product, interleaved, timed
from moto.server import ThreadedMotoServer

from components.comax.analysis import Query
from components.comax.product import read_pixels
from components.comax.report import analyze_product
from components.comax.sources import SourceConfig, Sources

S3RVER_PREFIX = Path("/tmp/ai4cop-bench-s3rver")
# s3rver's own account (its docs: access key S3RVER, secret S3RVER); it checks signatures against it
S3RVER_KEY = "S3RVER"


def run(endpoint: str, key: str, size: int, rounds: int, label: str, credential: str = "bench",
        probe: str = "bytes=0-0") -> None:
    """Time ours and the baseline against an S3 endpoint holding the product at ``key``; ``probe`` is the
    1-byte range used to measure the cost of one request."""
    config = SourceConfig(s3_endpoint=endpoint, s3_access_key=credential, s3_secret_key=credential,
                          s3_region="us-east-1")
    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=credential,
                          aws_secret_access_key=credential, region_name="us-east-1")
    def one_byte(name: str) -> bytes:
        data = bytes(client.get_object(Bucket=BUCKET, Key=name, Range=probe)["Body"].read())
        assert len(data) == 1, (probe, len(data))
        return data

    client.put_object(Bucket=BUCKET, Key="small-object", Body=b"x" * 1024)
    floor, _ = timed(lambda: one_byte(key), rounds)
    small, _ = timed(lambda: one_byte("small-object"), rounds)
    with ThreadPoolExecutor(4) as pool:
        together, _ = timed(lambda: list(pool.map(one_byte, [key] * 4)), rounds)
    print(f"[{label}] cost of one request: a 1-byte ranged GET of this object takes {floor * 1000:.0f} ms, "
          f"of a 1 KiB object {small * 1000:.0f} ms; 4 concurrent 1-byte GETs of this object {together * 1000:.0f} ms")
    compare(f"s3://{BUCKET}/{key}", lambda: client.get_object(Bucket=BUCKET, Key=key)["Body"].read(), config,
            size, rounds, label)


def compare(href: str, download: Callable[[], bytes], config: SourceConfig, size: int, rounds: int,
            label: str) -> None:
    """Partial reads of ``href`` against downloading it whole with ``download`` and masking full arrays."""
    query = Query.build(AOI)
    # one client for both, as a server keeps it; every open starts with an empty block cache
    sources = Sources(config)
    analyze_product(sources, href, query)

    def baseline():  # type: ignore[no-untyped-def]
        data = download()
        return baseline_from_bytes(data), len(data)

    import netCDF4  # noqa: F401  (imported before timing, as the partial reads' libraries are by the warm-up)

    (ours_s, result), (base_s, ((base_max, base_count), base_bytes)) = interleaved(
        [lambda: analyze_product(sources, href, query), baseline], rounds)
    t_ours, t_base = statistics.median(ours_s), statistics.median(base_s)
    # one more run, untimed, listing its requests (the head request is made on opening)
    trace = _Trace()
    rangeio_log = logging.getLogger("components.comax.rangeio")
    rangeio_log.addHandler(trace)
    rangeio_log.setLevel(logging.DEBUG)
    try:
        with sources.open(href) as opened:
            read_pixels(opened, query)
            requests, traced_bytes = opened.requests, opened.bytes_read
    finally:
        rangeio_log.removeHandler(trace)
        rangeio_log.setLevel(logging.NOTSET)
    sources.close()
    assert result.error is None, result.error
    assert abs(result.max_mol_m2 - base_max) < 1e-9 and result.valid_pixels == base_count, (result, base_max)
    print(f"[{label}] object {size / 1e6:.1f} MB, AOI {AOI}")
    print(f"  answer: max {result.max_mol_m2:.6g} mol m-2 over {result.valid_pixels} valid pixels (both agree)")
    # bytes of the last timed run; how ranges are merged depends on the request cost measured in each run
    print(f"  partial reads : {result.bytes_read / 1e6:7.2f} MB fetched ({result.bytes_read / size:6.2%}), "
          f"median {t_ours:.3f} s ({_spread(ours_s)})")
    print(f"  baseline      : {base_bytes / 1e6:7.2f} MB fetched (100.00%) in 1 request, median {t_base:.3f} s "
          f"({_spread(base_s)})")
    print(f"  speed-up {t_base / t_ours:.1f}x, bytes {result.bytes_read / size:.2%} of the object")
    print(f"  one more run, untimed: {requests} requests, {traced_bytes / 1e6:.2f} MB "
          f"({traced_bytes / size:.2%}); its requests after the head request:")
    for line in trace.lines:
        print(f"    {line}")


class _Trace(logging.Handler):
    """Keeps the messages of the range reader's debug log."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _spread(times: list[float]) -> str:
    return f"{len(times)} rounds, {min(times):.3f}-{max(times):.3f} s"


class _FileRanges(BaseHTTPRequestHandler):
    """Serves one file with single-range GETs read by seeking (no per-request cost proportional to size)."""

    path_on_disk = Path()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        size = self.path_on_disk.stat().st_size
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        first, last = (int(match.group(1)), min(int(match.group(2) or size - 1), size - 1)) if match else (0, size - 1)
        with self.path_on_disk.open("rb") as handle:
            handle.seek(first)
            body = handle.read(last - first + 1)
        self.send_response(206 if match else 200)
        if match:
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def run_http(path: Path, rounds: int) -> None:
    """The same comparison against a loopback HTTP server whose ranged GETs cost what they read."""
    handler = type("Handler", (_FileRanges,), {"path_on_disk": path})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/{path.name}"
    try:
        session = requests.Session()
        compare(url, lambda: session.get(url, timeout=60).content, SourceConfig(), path.stat().st_size, rounds,
                "loopback HTTP range server")
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def s3rver(binary: Path) -> Iterator[str]:
    """An s3rver process on a free loopback port with its own temporary folder, stopped on exit: its endpoint."""
    with tempfile.TemporaryDirectory(prefix="ai4cop-bench-s3rver-data-") as folder:
        log_path = Path(folder) / "s3rver.log"
        data = Path(folder) / "data"
        data.mkdir()
        with log_path.open("w") as log:
            process = subprocess.Popen([str(binary), "-d", str(data), "-a", "127.0.0.1", "-p", "0", "--silent"],
                                       stdout=log, stderr=subprocess.STDOUT)
        try:
            yield _s3rver_endpoint(process, log_path)
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _s3rver_endpoint(process: subprocess.Popen[bytes], log_path: Path) -> str:
    """Wait for s3rver's "S3rver listening on HOST:PORT" line (port 0 lets it pick a free one)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        match = re.search(r"listening on ([\d.]+):(\d+)", log_path.read_text())
        if match:
            return f"http://{match.group(1)}:{match.group(2)}"
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"s3rver did not start (exit code {process.poll()}): {log_path.read_text().strip()!r}")


def find_s3rver(given: Path | None) -> Path | None:
    """The s3rver executable: the one given, else the one installed in ``S3RVER_PREFIX``, else on PATH."""
    if given is not None:
        if not given.is_file():
            raise SystemExit(f"--s3rver {given}: no such file")
        return given
    local = S3RVER_PREFIX / "node_modules" / ".bin" / "s3rver"
    if local.is_file():
        return local
    found = shutil.which("s3rver")
    return Path(found) if found else None


def run_s3rver(binary: Path, path: Path, rounds: int) -> None:
    """The same comparison against s3rver, whose ranged GETs read only the range from the stored file."""
    versions = [subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
                for cmd in (["node", "--version"], [str(binary), "--version"])]
    print(f"s3rver {versions[1]} on node {versions[0]} ({binary})")
    with s3rver(binary) as endpoint:
        client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=S3RVER_KEY,
                              aws_secret_access_key=S3RVER_KEY, region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.upload_file(str(path), BUCKET, path.name)
        # s3rver 3.7.1 reads "bytes=0-0" as "from 0 to the end" (its end 0 is taken as absent): probe byte 1
        run(endpoint, path.name, path.stat().st_size, rounds, "loopback S3 (s3rver)", S3RVER_KEY, "bytes=1-1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--s3rver", type=Path, default=None,
                        help=f"s3rver executable (default: {S3RVER_PREFIX}/node_modules/.bin/s3rver, then PATH)")
    args = parser.parse_args()
    print(f"machine: nproc={os.cpu_count()}, Python {platform.python_version()}")
    binary = find_s3rver(args.s3rver)
    path = full_orbit_product()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="bench",
                              aws_secret_access_key="bench", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.upload_file(str(path), BUCKET, path.name)
        run(endpoint, path.name, path.stat().st_size, args.rounds, "loopback S3 (moto server)")
    finally:
        server.stop()
    if binary is None:
        print(f"s3rver not found, measuring moto only; to add it: npm install --prefix {S3RVER_PREFIX} s3rver@3.7.1 "
              "(or pass --s3rver PATH_TO_BIN)")
    else:
        run_s3rver(binary, path, args.rounds)
    run_http(path, args.rounds)


if __name__ == "__main__":
    main()
