"""Open a product from a local path, ``s3://bucket/key`` or ``https://`` URL as an h5py file.

Remote objects are read with ranged GETs through ``RangeFile``; the first request fetches the head of the object
(HDF5 superblock and root metadata) and learns the object's size at the same time. Local files are opened
directly. Failures become domain errors saying what went wrong.
S3 specifics (product folders, unsigned access, the endpoint's quota and retries) are in ``s3.py``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import h5py

from components.comax.quota import QuotaCounts, RequestLimiter, limiter_for
from components.comax.rangeio import LinkEstimate, RangeFile
from components.comax.s3 import S3Fetcher, make_s3_client
from components.common.errors import (
    Ai4copError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unavailable,
    UnreadableData,
    UpstreamError,
)

logger = logging.getLogger(__name__)

_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


@dataclass(frozen=True)
class SourceConfig:
    """How to reach sources. S3 values left empty fall back to the standard AWS environment and files."""

    s3_endpoint: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_region: str | None = None
    # unsigned requests (public buckets); also used when no credentials are configured anywhere
    s3_anonymous: bool = False
    # the archive's per-user limits: requests at once and per minute (0 = none)
    s3_max_connections: int = 0
    s3_requests_per_minute: int = 0
    # retries of a throttled or failed S3 request, after 2^n x backoff seconds at most (full jitter)
    s3_retries: int = 4
    s3_backoff_s: float = 0.5
    http_timeout: float = 30.0
    block_size: int = 64 * 1024
    cache_bytes: int = 64 * 1024 * 1024
    # HDF5 metadata clusters near the start of a netCDF-4 file: the first request takes 512 KiB of it
    readahead_blocks: int = 8
    # holes between wanted ranges are read through when cheaper than a request, up to this many bytes
    max_gap_bytes: int = 4 * 1024 * 1024
    # concurrent ranged GETs (and pooled connections) per client
    max_requests: int = 16
    data_folder: Path | None = None
    restrict_local: bool = False


class OpenProduct:
    """An open product: the h5py file, a way to prefetch byte ranges, and the bytes read so far; ``file_name``
    is the name of the file read when the href named its folder (else empty)."""

    def __init__(self, h5: h5py.File, remote: RangeFile | None, file_name: str = ""):
        self.h5 = h5
        self._remote = remote
        self._local_bytes = 0
        self.file_name = file_name

    def prefetch(self, ranges: Iterable[tuple[int, int]]) -> None:
        """Make the byte ranges local before h5py reads them (counted as read for local files)."""
        if self._remote is not None:
            self._remote.prefetch(ranges)
        else:
            self._local_bytes += sum(end - start for start, end in ranges)

    @property
    def requests(self) -> int:
        """Requests made so far (0 for local files)."""
        return self._remote.requests if self._remote is not None else 0

    @property
    def failure(self) -> BaseException | None:
        """The error behind a failed remote read (h5py reports it only as a generic OSError)."""
        return self._remote.failure if self._remote is not None else None

    @property
    def bytes_read(self) -> int:
        return self._remote.bytes_fetched if self._remote is not None else self._local_bytes


class Sources:
    """Opens hrefs; holds one S3 client, one HTTP session and the pool of concurrent requests, made on first use."""

    def __init__(self, config: SourceConfig):
        self.config = config
        self._lock = threading.Lock()
        self._s3: Any = None
        self._http: Any = None
        self._pool: ThreadPoolExecutor | None = None
        self._limiter: RequestLimiter | None = None

    @contextmanager
    def open(self, href: str) -> Iterator[OpenProduct]:
        """Open ``href``; raises NotFound, PermissionDenied, Unavailable, UpstreamError or UnreadableData."""
        parsed = urlparse(href)
        remote: RangeFile | None = None
        file_name = ""
        if parsed.scheme == "s3":
            fetcher = self._s3_fetcher(parsed.netloc, parsed.path.lstrip("/"), href)
            if fetcher.key != parsed.path.lstrip("/"):
                file_name = fetcher.key.rsplit("/", 1)[-1]
            remote = self._range_file(fetcher)
            target: Any = remote
        elif parsed.scheme in ("http", "https"):
            remote = self._range_file(HttpFetcher(self._session(), href, self.config.http_timeout,
                                                  self._head_bytes))
            target = remote
        elif parsed.scheme in ("", "file") or re.fullmatch(r"[A-Za-z]", parsed.scheme):
            target = str(self._local_path(unquote(parsed.path) if parsed.scheme == "file" else href))
        else:
            raise InvalidInput(f"unsupported source {href!r}: use a path, file://, s3:// or https://")
        try:
            h5 = h5py.File(target, "r")
        except OSError as err:
            _reraise_fetch_failure(remote)
            raise UnreadableData(f"{href}: not a netCDF-4/HDF5 file ({err})") from err
        try:
            yield OpenProduct(h5, remote, file_name)
        finally:
            h5.close()

    def _range_file(self, fetcher: Any) -> RangeFile:
        cfg = self.config
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=cfg.max_requests, thread_name_prefix="comax-get")
            pool = self._pool
        return RangeFile(fetcher, pool, cfg.block_size, cfg.cache_bytes, cfg.readahead_blocks, cfg.max_gap_bytes)

    def _local_path(self, text: str) -> Path:
        path = Path(text).expanduser()
        if self.config.restrict_local:
            folder = self.config.data_folder
            if folder is None:
                raise PermissionDenied("local files are not served: set COMAX_DATA_FOLDER to the data folder")
            path = (folder / path) if not path.is_absolute() else path
            if not path.resolve().is_relative_to(folder.resolve()):
                raise PermissionDenied(f"{text}: local files must lie inside the data folder {folder}")
        if path.is_dir():
            raise InvalidInput(f"{text}: is a folder; give the product files in it (e.g. {text.rstrip('/')}/*.nc)")
        if not path.is_file():
            raise NotFound(f"{text}: no such file")
        return path

    def _session(self) -> Any:
        with self._lock:
            if self._http is None:
                import requests
                from requests.adapters import HTTPAdapter
                from urllib3.util.retry import Retry

                session = requests.Session()
                retry = Retry(total=3, backoff_factor=0.3, status_forcelist=(429, 500, 502, 503, 504),
                              allowed_methods=("GET", "HEAD"))
                adapter = HTTPAdapter(max_retries=retry, pool_maxsize=self.config.max_requests)
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                self._http = session
            return self._http

    def _s3_fetcher(self, bucket: str, key: str, href: str) -> S3Fetcher:
        if not bucket or not key:
            raise InvalidInput(f"{href!r} is not s3://bucket/key")
        cfg = self.config
        with self._lock:
            if self._s3 is None:
                self._s3 = make_s3_client(cfg)
                self._limiter = limiter_for(self._s3.meta.endpoint_url, cfg.s3_max_connections,
                                            cfg.s3_requests_per_minute)
            limiter = self._limiter
        return S3Fetcher(self._s3, bucket, key, self._head_bytes, limiter, cfg.s3_retries, cfg.s3_backoff_s)

    def quota_counts(self) -> QuotaCounts | None:
        """The S3 endpoint's request counts (shared by every ``Sources`` of the process); None before S3 use."""
        return self._limiter.snapshot() if self._limiter is not None else None

    @property
    def _head_bytes(self) -> int:
        return self.config.block_size * self.config.readahead_blocks

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def _reraise_fetch_failure(remote: RangeFile | None) -> None:
    # h5py turns an exception raised inside a read into a generic OSError; surface the real cause.
    if remote is not None and remote.failure is not None:
        raise remote.failure


class HttpFetcher:
    """Ranged GETs of one URL; a server that ignores ``Range`` is read whole once and served from memory."""

    def __init__(self, session: Any, url: str, timeout: float, head_bytes: int):
        self._session = session
        self.url = url
        self._timeout = timeout
        self.size = 0
        self.link = LinkEstimate()
        response = self._get(0, head_bytes)
        self.head = response.content
        if response.status_code == 200:
            self.size = len(self.head)
            self._whole: bytes | None = self.head
        else:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if not match or match.group(3) == "*":
                raise UpstreamError(f"{url}: ranged GET answered without a usable Content-Range")
            self.size = int(match.group(3))
            self._whole = None

    def fetch(self, start: int, end: int) -> bytes:
        if self._whole is not None:
            return self._whole[start:end]
        return bytes(self._get(start, end).content)

    def _get(self, start: int, end: int) -> Any:
        import requests

        sent = time.perf_counter()
        try:
            response = self._session.get(self.url, headers={"Range": f"bytes={start}-{end - 1}"},
                                         timeout=self._timeout)
        except requests.RequestException as err:
            raise Unavailable(f"{self.url}: unreachable: {err}") from err
        # ``elapsed`` runs until the headers were parsed; the rest of the time read the body
        first_byte = response.elapsed.total_seconds()
        self.link.record(first_byte, time.perf_counter() - sent - first_byte, len(response.content))
        if response.status_code in (200, 206):
            return response
        if response.status_code == 404:
            raise NotFound(f"{self.url}: not found (HTTP 404)")
        if response.status_code in (401, 403):
            raise PermissionDenied(f"{self.url}: access denied (HTTP {response.status_code})")
        if response.status_code == 416:
            raise UnreadableData(f"{self.url}: empty object")
        error: Ai4copError = (Unavailable if response.status_code >= 500 else UpstreamError)(
            f"{self.url}: HTTP {response.status_code}: {response.text[:200]}")
        raise error
