"""A read-only file object over ranged GETs with a small block cache, for h5py to read remote objects.

h5py reads through any object with ``read``/``seek``/``tell``; each cache miss becomes one ranged request of a
few blocks (HDF5 metadata clusters, so read-ahead saves round trips). Data chunks whose byte ranges are known
are fetched up front, concurrently, with ``prefetch``. Every byte fetched is counted.
"""

from __future__ import annotations

import io
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

logger = logging.getLogger(__name__)


class Fetcher(Protocol):
    """Reads byte ranges of one remote object whose first bytes (``head``) and size are already known."""

    size: int
    head: bytes

    def fetch(self, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of the object."""


class RangeFile(io.RawIOBase):
    """A seekable, read-only view of a ``Fetcher`` with an LRU cache of aligned blocks."""

    def __init__(self, fetcher: Fetcher, block_size: int = 64 * 1024, cache_bytes: int = 64 * 1024 * 1024,
                 readahead_blocks: int = 4, concurrency: int = 8, gap_bytes: int = 256 * 1024):
        super().__init__()
        self._fetcher = fetcher
        self.size = fetcher.size
        self.block_size = block_size
        self._max_blocks = max(readahead_blocks, cache_bytes // block_size)
        self._readahead = readahead_blocks
        self._concurrency = concurrency
        self._gap_blocks = gap_bytes // block_size
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
        """Fetch the blocks covering byte ranges ``[start, end)`` concurrently, merging neighbours."""
        wanted = sorted({b for start, end in ranges for b in self._block_span(start, end)} - set(self._blocks))
        if not wanted:
            return
        runs: list[tuple[int, int]] = []
        for block in wanted:
            # a small gap is cheaper to read through than to pay another request for
            if runs and block - runs[-1][1] <= self._gap_blocks:
                runs[-1] = (runs[-1][0], block + 1)
            else:
                runs.append((block, block + 1))
        with ThreadPoolExecutor(max_workers=min(self._concurrency, len(runs))) as pool:
            list(pool.map(lambda run: self._load(*run), runs))

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
        try:
            data = self._fetcher.fetch(start, min(stop * self.block_size, self.size))
        except Exception as err:
            self.failure = err
            raise
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
