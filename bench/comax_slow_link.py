"""Benchmark 2: benchmark 1 through a link with 50 ms round trip and 100 Mbit/s.

Bandwidth: the S3 server (moto, a separate process) runs in a network namespace behind a veth pair whose two ends
are shaped with ``tc tbf`` at 100 Mbit/s (this kernel lacks ``netem``). Round trip: a small TCP proxy on loopback
forwards to it and delays every chunk by 25 ms each way (and 50 ms per new connection, like a TCP handshake).
Both are set up and removed by this script (root needed). If the namespace cannot be made, the proxy also limits
the rate, and the output says so.

    sudo .venv/bin/python bench/comax_slow_link.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
from comax_common import BUCKET, full_orbit_product
from comax_s3 import run

ONE_WAY_S = 0.025
RATE_BPS = 100e6
NS = f"comaxbench{os.getpid()}"
HOST_IF, NS_IF = f"cmxh{os.getpid() % 10000}", f"cmxn{os.getpid() % 10000}"
HOST_IP, NS_IP = "10.213.7.1", "10.213.7.2"
PORT = 5071


class DelayProxy:
    """TCP proxy on loopback adding a fixed one-way delay per direction, optionally a shared rate limit."""

    def __init__(self, host: str, port: int, one_way: float, rate_bps: float | None = None):
        self.upstream = (host, port)
        self.delay = one_way
        self.rate = rate_bps
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._next_free = {"up": 0.0, "down": 0.0}

    def start(self) -> int:
        self._thread.start()
        self._ready.wait(10)
        return self.port

    def stop(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(cancel_all(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self.loop.run_forever()
        server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.sleep(2 * self.delay)  # the handshake's round trip
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except (OSError, asyncio.CancelledError):
            writer.close()
            return
        try:
            await asyncio.gather(self._pipe(reader, up_writer, "up"), self._pipe(up_reader, writer, "down"),
                                 return_exceptions=True)
        except asyncio.CancelledError:
            writer.close()
            up_writer.close()

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, direction: str) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def pump() -> None:
            while True:
                data = await src.read(65536)
                await queue.put((self.loop.time(), data))
                if not data:
                    return

        async def deliver() -> None:
            while True:
                stamp, data = await queue.get()
                wait = stamp + self.delay - self.loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    dst.close()
                    return
                if self.rate:
                    start = max(self.loop.time(), self._next_free[direction])
                    self._next_free[direction] = start + len(data) * 8 / self.rate
                    await asyncio.sleep(self._next_free[direction] - self.loop.time())
                dst.write(data)
                await dst.drain()

        await asyncio.gather(pump(), deliver())


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def make_namespace() -> bool:
    try:
        sh("ip", "netns", "add", NS)
        sh("ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", NS_IF)
        sh("ip", "link", "set", NS_IF, "netns", NS)
        sh("ip", "addr", "add", f"{HOST_IP}/24", "dev", HOST_IF)
        sh("ip", "link", "set", HOST_IF, "up")
        sh("ip", "netns", "exec", NS, "ip", "addr", "add", f"{NS_IP}/24", "dev", NS_IF)
        sh("ip", "netns", "exec", NS, "ip", "link", "set", NS_IF, "up")
        sh("ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up")
        return True
    except (OSError, subprocess.CalledProcessError) as err:
        print(f"network namespace not available ({err}); the proxy limits the rate instead")
        remove_namespace()
        return False


def shape(namespace: bool) -> None:
    """100 Mbit/s both ways on the veth pair (after the upload, which need not be slow)."""
    tbf = ["root", "tbf", "rate", "100mbit", "burst", "64kb", "latency", "200ms"]
    sh("ip", "netns", "exec", NS, "tc", "qdisc", "add", "dev", NS_IF, *tbf)
    sh("tc", "qdisc", "add", "dev", HOST_IF, *tbf)


def remove_namespace() -> None:
    subprocess.run(["ip", "link", "del", HOST_IF], capture_output=True)
    subprocess.run(["ip", "netns", "del", NS], capture_output=True)


def wait_port(host: str, port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{host}:{port} did not open")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    print(f"machine: nproc={os.cpu_count()}, Python {platform.python_version()}")
    path = full_orbit_product()
    namespace = make_namespace()
    host = NS_IP if namespace else "127.0.0.1"
    command = [sys.executable, "-m", "moto.server", "-H", host, "-p", str(PORT)]
    if namespace:
        command = ["ip", "netns", "exec", NS, *command]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proxy = None
    try:
        wait_port(host, PORT)
        client = boto3.client("s3", endpoint_url=f"http://{host}:{PORT}", aws_access_key_id="bench",
                              aws_secret_access_key="bench", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.upload_file(str(path), BUCKET, path.name)
        if namespace:
            shape(namespace)
        proxy = DelayProxy(host, PORT, ONE_WAY_S, None if namespace else RATE_BPS)
        port = proxy.start()
        how = "tbf on a veth pair + delaying proxy" if namespace else "delaying and rate-limiting proxy"
        run(f"http://127.0.0.1:{port}", path.name, path.stat().st_size, args.rounds,
            f"50 ms RTT, 100 Mbit/s ({how})")
    finally:
        if proxy is not None:
            proxy.stop()
        server.terminate()
        server.wait(10)
        if namespace:
            remove_namespace()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
