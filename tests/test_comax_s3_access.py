"""S3 as the real archives serve it, on a loopback S3 server (moto server mode): CDSE's product folders, public
buckets read unsigned (the S5P archive on AWS), the region 'default', the provider presets, the archive's quotas
(concurrency, requests per minute) and 503 SlowDown answers, and ``ai4cop comax`` reading the COMAX_S3_* settings.

A loopback proxy in front of the S3 server records every request (and its signature) and answers 503 SlowDown
when told to: it sees what an archive would see.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from components.comax.analysis import Query
from components.comax.quota import RequestLimiter
from components.comax.report import analyze_product, analyze_sources
from components.comax.settings import Settings
from components.comax.sources import SourceConfig, Sources
from components.common.aoi import isoformat
from onboarding.cli import main

pytest_plugins = ["comax_helpers"]

PUBLIC = "meeo-s5p"
EODATA = "eodata"
SLOW_DOWN = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
             b"<Message>Please reduce your request rate.</Message></Error>")


class S3Proxy:
    """Forwards to the S3 server; records (method, path, Authorization) of each request; the requests whose
    index is in ``slow_down`` get 503 SlowDown instead."""

    def __init__(self, target: str):
        self.target = urlparse(target)
        self.requests: list[tuple[str, str, str]] = []
        self.slow_down: set[int] = set()
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with proxy.lock:
                    index = len(proxy.requests)
                    proxy.requests.append((self.command, self.path, self.headers.get("Authorization", "")))
                    throttled = index in proxy.slow_down
                if throttled:
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(SLOW_DOWN)))
                    self.end_headers()
                    self.wfile.write(SLOW_DOWN)
                    return
                upstream = http.client.HTTPConnection(proxy.target.hostname, proxy.target.port, timeout=30)
                upstream.request(self.command, self.path, headers=dict(self.headers))
                answer = upstream.getresponse()
                body = answer.read()
                upstream.close()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_HEAD = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def archives(products: Any, s3_server: str) -> dict[str, str]:
    """The layouts of the real archives: CDSE's ``eodata`` with product folders, and the public AWS bucket."""
    import boto3

    client = boto3.client("s3", endpoint_url=s3_server, aws_access_key_id="test", aws_secret_access_key="test",
                          region_name="us-east-1")
    name = products.main.name
    day = "2024/03/01"
    folder = f"Sentinel-5P/TROPOMI/L2__CO____/{day}/{name.removesuffix('.nc')}"
    client.create_bucket(Bucket=EODATA)
    client.upload_file(str(products.main), EODATA, f"{folder}/{name}")
    client.upload_file(str(products.main), EODATA, f"direct/{name}")
    client.upload_file(str(products.main), EODATA, "other-name/product.nc")
    client.upload_file(str(products.main), EODATA, "two/a.nc")
    client.upload_file(str(products.main), EODATA, "two/b.nc")
    client.create_bucket(Bucket=PUBLIC)
    public_key = f"OFFL/L2__CO____/{day}/{name}"
    client.upload_file(str(products.main), PUBLIC, public_key)
    client.put_bucket_policy(Bucket=PUBLIC, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": [f"arn:aws:s3:::{PUBLIC}", f"arn:aws:s3:::{PUBLIC}/*"]}]}))
    return {"folder": f"s3://{EODATA}/{folder}", "direct": f"s3://{EODATA}/direct/{name}",
            "public": f"s3://{PUBLIC}/{public_key}", "private": f"s3://{products.bucket}/Sentinel-5P/{name}"}


@pytest.fixture()
def proxy(s3_server: str) -> Iterator[S3Proxy]:
    served = S3Proxy(s3_server)
    yield served
    served.stop()


@pytest.fixture()
def no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials anywhere boto3 looks (environment, files, instance metadata)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def _query(products: Any) -> Query:
    start, end = products.window
    return Query.build(products.aoi, isoformat(start), isoformat(end))


def _signed(url: str, **extra: Any) -> SourceConfig:
    return SourceConfig(s3_endpoint=url, s3_access_key="test", s3_secret_key="test", s3_region="us-east-1",
                        **extra)


def test_a_cdse_product_folder_is_read_like_its_file(products: Any, archives: dict[str, str], proxy: S3Proxy) -> None:
    local, folder, direct = analyze_sources([str(products.main), archives["folder"], archives["direct"]],
                                            _query(products), _signed(proxy.url)).products
    for remote in (folder, direct):
        assert remote.error is None
        assert (remote.max_mol_m2, remote.valid_pixels, remote.time) == (local.max_mol_m2, local.valid_pixels,
                                                                        local.time)
    assert folder.product == products.main.name and folder.href == archives["folder"]
    lists = [path for method, path, _ in proxy.requests if "list-type=2" in path]
    assert len(lists) == 1 and "prefix=Sentinel-5P" in lists[0]


@pytest.mark.parametrize(("href", "error"), [
    ("s3://eodata/other-name", None),
    ("s3://eodata/two", "InvalidInput: s3://eodata/two/ holds 2 product files"),
    ("s3://eodata/Sentinel-5P/TROPOMI/L2__CO____/2024/03/01/S5P_MISSING", "NotFound"),
])
def test_product_folders_holding_one_other_several_or_no_file(products: Any, archives: dict[str, str],
                                                              s3_server: str, href: str, error: str | None) -> None:
    result = analyze_sources([href], _query(products), _signed(s3_server)).products[0]
    if error is None:
        assert result.error is None and result.max_mol_m2 == pytest.approx(products.known_max)
    else:
        assert result.error is not None and result.error.startswith(error), result.error


def test_public_bucket_read_unsigned_without_any_credentials(products: Any, archives: dict[str, str],
                                                              proxy: S3Proxy, no_aws_credentials: None) -> None:
    config = SourceConfig(s3_endpoint=proxy.url, s3_region="eu-central-1")
    public, private = analyze_sources([archives["public"], archives["private"]], _query(products), config).products
    assert public.error is None and public.max_mol_m2 == pytest.approx(products.known_max)
    assert private.error is not None and private.error.startswith("PermissionDenied")
    assert "the request was unsigned: set COMAX_S3_ACCESS_KEY and COMAX_S3_SECRET_KEY" in private.error
    assert proxy.requests and not any(auth for _, _, auth in proxy.requests)


def test_anonymous_setting_leaves_configured_keys_unused(products: Any, archives: dict[str, str],
                                                         proxy: S3Proxy) -> None:
    result = analyze_sources([archives["public"]], _query(products), _signed(proxy.url, s3_anonymous=True))
    assert result.products[0].error is None
    assert not any(auth for _, _, auth in proxy.requests)


def test_cdse_preset_signs_for_region_default_and_caps_connections(products: Any, archives: dict[str, str],
                                                                    proxy: S3Proxy) -> None:
    settings = Settings(provider="cdse", s3_endpoint=proxy.url, s3_access_key="test", s3_secret_key="test",
                        max_requests=16)
    config = settings.source_config()
    assert (config.s3_endpoint, config.s3_region) == (proxy.url, "default")
    assert (config.s3_max_connections, config.s3_requests_per_minute) == (4, 2000)
    sources = Sources(config)
    try:
        result = analyze_product(sources, archives["folder"], _query(products))
        counts = sources.quota_counts()
    finally:
        sources.close()
    assert result.error is None and result.max_mol_m2 == pytest.approx(products.known_max)
    assert counts is not None and 1 <= counts.peak_concurrent <= 4
    assert counts.requests == len(proxy.requests) and counts.throttled == 0
    assert result.requests == len(proxy.requests) - 1  # the folder listing is not a read of the product
    assert all("/default/s3/aws4_request" in auth for _, _, auth in proxy.requests)


def test_slow_down_is_retried_with_backoff_and_counted(products: Any, archives: dict[str, str],
                                                       proxy: S3Proxy) -> None:
    proxy.slow_down = {0, 1, 4}
    sources = Sources(_signed(proxy.url, s3_max_connections=2, s3_backoff_s=0.01))
    try:
        result = analyze_product(sources, archives["direct"], _query(products))
        counts = sources.quota_counts()
    finally:
        sources.close()
    assert result.error is None and result.max_mol_m2 == pytest.approx(products.known_max)
    assert counts is not None and counts.throttled == 3 and counts.requests == len(proxy.requests)
    assert counts.peak_concurrent <= 2


def test_slow_down_past_the_retries_is_unavailable(products: Any, archives: dict[str, str],
                                                   proxy: S3Proxy) -> None:
    proxy.slow_down = set(range(3))
    result = analyze_sources([archives["direct"]], _query(products),
                             _signed(proxy.url, s3_retries=2, s3_backoff_s=0.01)).products[0]
    assert result.error is not None and result.error.startswith("Unavailable"), result.error
    assert "SlowDown" in result.error and len(proxy.requests) == 3


def test_requests_per_minute_wait_for_the_window() -> None:
    now = [1000.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limiter = RequestLimiter("eodata", concurrency=4, per_minute=3, clock=lambda: now[0], sleep=sleep)
    for step in (0.0, 10.0, 10.0, 5.0, 0.0):
        now[0] += step
        with limiter.request():
            pass
    # the 4th request came 25 s after the 1st: it waits 35 s; the 5th waits for the 2nd to leave the window
    assert waits == [35.0, 10.0]
    counts = limiter.snapshot()
    assert (counts.requests, counts.waited_s, counts.peak_concurrent) == (5, 45.0, 1)


def test_the_cli_reads_comax_s3_settings(products: Any, archives: dict[str, str], proxy: S3Proxy,
                                         monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                         no_aws_credentials: None) -> None:
    start, end = products.window
    args = ["comax", archives["folder"], "--aoi", products.aoi, "--start", isoformat(start),
            "--end", isoformat(end), "--provider", "cdse", "--json"]
    monkeypatch.setenv("COMAX_S3_ENDPOINT", proxy.url)
    monkeypatch.setenv("COMAX_S3_ACCESS_KEY", "test")
    monkeypatch.setenv("COMAX_S3_SECRET_KEY", "test")
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["max_mol_m2"] == pytest.approx(products.known_max) and data["requests"] > 0
    assert proxy.requests and all("/default/s3/aws4_request" in auth for _, _, auth in proxy.requests)
    monkeypatch.setenv("COMAX_PROVIDER", "nowhere")
    assert main([*args[:-3], "--json"]) == 2
    assert "invalid setting provider (COMAX_PROVIDER): unknown provider 'nowhere'" in \
        capsys.readouterr().err
