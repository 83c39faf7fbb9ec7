"""A read-only file object over ranged GETs with a small block cache, for h5py to read remote objects.

h5py reads through any object with ``read``/``seek``/``tell``; each cache miss becomes one ranged request of a
few blocks (HDF5 metadata clusters, so read-ahead saves round trips). Data chunks whose byte ranges are known
are fetched up front with ``prefetch``: neighbouring ranges are merged into one request when the hole between
them costs less to transfer than one more request costs (like Arrow's read coalescing, whose hole limit is time
to first byte x throughput; here the cost of a request is measured on the object's own requests, see
``LinkEstimate``), and the remaining requests run concurrently. Every byte fetched is counted.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, wait
from contextlib import contextmanager
from typing import Protocol

logger = logging.getLogger(__name__)


class LinkEstimate:
    """What one more request costs on the link to one object, measured on the object's own requests.

    A hole between wanted ranges is worth reading through when transferring it takes less time than one more
    request adds. For requests made one after the other that is the time to first byte. Once a batch of
    requests has run side by side, it is how much later each further request of the batch got its first byte:
    about nothing on a server that serves requests in parallel, its time per request on one that queues them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.first_byte_s: float | None = None
        self.extra_request_s: float | None = None
        self._bytes = 0
        self._seconds = 0.0
        self._batch: list[float] | None = None

    def record(self, first_byte_s: float, transfer_s: float, size: int) -> None:
        """One request: seconds until its headers came, seconds to read its body of ``size`` bytes."""
        with self._lock:
            # the fastest request is the one least disturbed by connection set-up and queueing
            self.first_byte_s = first_byte_s if self.first_byte_s is None else min(self.first_byte_s, first_byte_s)
            self._bytes += size
            self._seconds += max(transfer_s, 1e-6)
            if self._batch is not None:
                self._batch.append(first_byte_s)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Requests recorded inside run side by side: learn from them what each further one adds."""
        with self._lock:
            self._batch = []
        try:
            yield
        finally:
            with self._lock:
                first_bytes, self._batch = self._batch or [], None
                if len(first_bytes) >= 2:
                    self.extra_request_s = (max(first_bytes) - min(first_bytes)) / (len(first_bytes) - 1)

    def hole_bytes(self, default: int, limit: int) -> int:
        """Bytes it pays to read through rather than make another request (``default`` before any estimate)."""
        with self._lock:
            cost = self.extra_request_s if self.extra_request_s is not None else self.first_byte_s
            if cost is None or self._bytes < 64 * 1024:
                return min(default, limit)
            return int(min(limit, cost * self._bytes / self._seconds))


class Fetcher(Protocol):
    """Reads byte ranges of one remote object whose first bytes (``head``) and size are already known."""

    size: int
    head: bytes
    link: LinkEstimate

    def fetch(self, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of the object."""


class RangeFile(io.RawIOBase):
    """A seekable, read-only view of a ``Fetcher`` with an LRU cache of aligned blocks.

    ``pool`` runs concurrent requests (shared by the caller, who owns it); ``max_gap_bytes`` bounds the holes
    read through when merging ranges and ``max_request_bytes`` the size of one merged request.
    """

    def __init__(self, fetcher: Fetcher, pool: Executor, block_size: int = 64 * 1024,
                 cache_bytes: int = 64 * 1024 * 1024, readahead_blocks: int = 4,
                 max_gap_bytes: int = 4 * 1024 * 1024, max_request_bytes: int = 32 * 1024 * 1024):
        super().__init__()
        self._fetcher = fetcher
        self._pool = pool
        self.size = fetcher.size
        self.block_size = block_size
        self._max_blocks = max(readahead_blocks, cache_bytes // block_size)
        self._readahead = readahead_blocks
        self._max_gap = max_gap_bytes
        self._max_run_blocks = max(1, max_request_bytes // block_size)
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._pos = 0
        self.bytes_fetched = len(fetcher.head)
        self.requests = 1
        self.failure: BaseException | None = None
        head = fetcher.head
        for first in range(0, len(head), block_size):
            if first + block_size <= len(head) or len(head) == self.size:
                self._blocks[first // block_size] = head[first:first + block_size]

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        end = min(self._pos + len(view), self.size)
        if end <= self._pos:
            return 0
        data = self._read(self._pos, end)
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def prefetch(self, ranges: Iterable[tuple[int, int]]) -> None:
        """Fetch the blocks covering byte ranges ``[start, end)``, merging neighbours, concurrently."""
        runs = self._plan(ranges)
        if len(runs) == 1:
            self._load(*runs[0])
            return
        with self._fetcher.link.batch():
            futures = [self._pool.submit(self._load, first, stop) for first, stop in runs]
            wait(futures)
        for future in futures:
            future.result()

    def _plan(self, ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        """Runs of blocks ``[first, stop)`` to request: the missing blocks, merged across small holes."""
        # the ranges may come from a generator that makes h5py read metadata through this file: not under the lock
        spans = {b for start, end in ranges for b in self._block_span(start, end)}
        with self._lock:
            wanted = sorted(spans - set(self._blocks))
        # holes also stay small beside the object, so that a partial read remains a small part of it
        hole = self._fetcher.link.hole_bytes(256 * 1024, min(self._max_gap, self.size // 32)) // self.block_size
        runs: list[tuple[int, int]] = []
        for block in wanted:
            if runs and block - runs[-1][1] <= hole and block + 1 - runs[-1][0] <= self._max_run_blocks:
                runs[-1] = (runs[-1][0], block + 1)
            else:
                runs.append((block, block + 1))
        if runs:
            logger.debug("prefetch %d blocks in %d requests (holes up to %d bytes read through)", len(wanted),
                         len(runs), hole * self.block_size)
        return runs

    def _block_span(self, start: int, end: int) -> range:
        return range(start // self.block_size, (min(end, self.size) - 1) // self.block_size + 1)

    def _read(self, start: int, end: int) -> bytes:
        parts = []
        for block in self._block_span(start, end):
            data = self._get(block)
            lo = max(start - block * self.block_size, 0)
            hi = min(end - block * self.block_size, len(data))
            parts.append(data[lo:hi])
        return b"".join(parts)

    def _get(self, block: int) -> bytes:
        with self._lock:
            data = self._blocks.get(block)
            if data is not None:
                self._blocks.move_to_end(block)
                return data
        last = (self.size - 1) // self.block_size + 1
        stop = block + 1
        while stop < min(block + self._readahead, last) and stop not in self._blocks:
            stop += 1
        return self._load(block, stop)[0]

    def _load(self, first: int, stop: int) -> list[bytes]:
        """Fetch blocks ``[first, stop)`` in one request and cache them."""
        start = first * self.block_size
        begin = time.perf_counter()
        try:
            data = self._fetcher.fetch(start, min(stop * self.block_size, self.size))
        except Exception as err:
            self.failure = err
            raise
        logger.debug("GET bytes %d-%d (%d bytes) in %.1f ms", start, start + len(data) - 1, len(data),
                     (time.perf_counter() - begin) * 1000)
        blocks = [data[i:i + self.block_size] for i in range(0, len(data), self.block_size)]
        with self._lock:
            self.bytes_fetched += len(data)
            self.requests += 1
            for offset, chunk in enumerate(blocks):
                self._blocks[first + offset] = chunk
                self._blocks.move_to_end(first + offset)
            while len(self._blocks) > self._max_blocks:
                self._blocks.popitem(last=False)
        if len(data) < min(stop * self.block_size, self.size) - start:
            self.failure = OSError(f"short read: got {len(data)} bytes at offset {start}")
            raise self.failure
        return blocks
