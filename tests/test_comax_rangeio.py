"""The range reader: which holes it reads through (from the measured cost of a request), what it counts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from components.comax.rangeio import LinkEstimate, RangeFile

KIB = 1024
BLOCK = 64 * KIB


class MemoryObject:
    """An object in memory that remembers the ranges asked for; its link estimate is set by the test."""

    def __init__(self, size: int, head_bytes: int = 4 * BLOCK):
        self.data = (bytes(range(251)) * (size // 251 + 1))[:size]
        self.size = size
        self.head = self.data[:head_bytes]
        self.link = LinkEstimate()
        self.ranges: list[tuple[int, int]] = []
        self._lock = threading.Lock()

    def fetch(self, start: int, end: int) -> bytes:
        with self._lock:
            self.ranges.append((start, end))
        return self.data[start:end]


@pytest.fixture()
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(4) as executor:
        yield executor


def test_estimate_uses_time_to_first_byte_until_a_batch_ran_side_by_side() -> None:
    link = LinkEstimate()
    assert link.hole_bytes(256 * KIB, 10**9) == 256 * KIB
    link.record(0.050, 0.010, 1_000_000)  # 50 ms to first byte, 100 MB/s
    assert link.hole_bytes(256 * KIB, 10**9) == pytest.approx(5_000_000, rel=1e-6)
    assert link.hole_bytes(256 * KIB, 1_000_000) == 1_000_000
    with link.batch():  # a server that queues: each further request came 40 ms later
        for first_byte in (0.050, 0.090, 0.130):
            link.record(first_byte, 0.010, 1_000_000)
    assert link.extra_request_s == pytest.approx(0.040)
    assert link.hole_bytes(0, 10**9) == pytest.approx(0.040 * 4_000_000 / 0.040, rel=1e-6)
    with link.batch():  # a server serving in parallel: no request later than another
        link.record(0.050, 0.010, 1_000_000)
        link.record(0.050, 0.010, 1_000_000)
    assert link.hole_bytes(0, 10**9) == 0


def _merged_requests(extra_request_s: float | None, pool: ThreadPoolExecutor) -> MemoryObject:
    obj = MemoryObject(64 * 1024 * KIB)
    obj.link.record(0.050, 0.010, 1_000_000)  # 50 ms to first byte, 100 MB/s: holes up to 5 MB pay
    if extra_request_s is not None:
        with obj.link.batch():
            obj.link.record(0.050, 0.010, 0)
            obj.link.record(0.050 + extra_request_s, 0.010, 0)
    reader = RangeFile(obj, pool, block_size=BLOCK)
    # three wanted ranges 1 MiB apart
    reader.prefetch([(8 * 1024 * KIB, 8 * 1024 * KIB + 100), (9 * 1024 * KIB, 9 * 1024 * KIB + 100),
                     (10 * 1024 * KIB + 5, 10 * 1024 * KIB + BLOCK + 5)])
    assert reader.requests == 1 + len(obj.ranges)
    assert reader.bytes_fetched == len(obj.head) + sum(end - start for start, end in obj.ranges)
    reader.seek(10 * 1024 * KIB)
    assert reader.read(BLOCK) == obj.data[10 * 1024 * KIB:10 * 1024 * KIB + BLOCK]
    return obj


def test_holes_are_read_through_where_requests_cost_more(pool: ThreadPoolExecutor) -> None:
    # before any batch: a request costs its 50 ms to first byte, a 1 MiB hole 10 ms: one GET
    assert _merged_requests(None, pool).ranges == [(8 * 1024 * KIB, 10 * 1024 * KIB + 2 * BLOCK)]
    # a queueing server (each further request 40 ms later): still one GET
    assert len(_merged_requests(0.040, pool).ranges) == 1
    # a parallel server (2 ms): three concurrent GETs of the wanted blocks only
    assert sorted(_merged_requests(0.002, pool).ranges) == [
        (8 * 1024 * KIB, 8 * 1024 * KIB + BLOCK), (9 * 1024 * KIB, 9 * 1024 * KIB + BLOCK),
        (10 * 1024 * KIB, 10 * 1024 * KIB + 2 * BLOCK)]


def test_holes_stay_small_beside_a_small_object(pool: ThreadPoolExecutor) -> None:
    obj = MemoryObject(8 * 1024 * KIB)  # 1/32 of it is 256 KiB
    obj.link.record(0.050, 0.010, 1_000_000)
    reader = RangeFile(obj, pool, block_size=BLOCK)
    reader.prefetch([(1024 * KIB, 1024 * KIB + 1), (2048 * KIB, 2048 * KIB + 1),
                     (2048 * KIB + 4 * BLOCK, 2048 * KIB + 4 * BLOCK + 1)])
    assert sorted(obj.ranges) == [(1024 * KIB, 1024 * KIB + BLOCK), (2048 * KIB, 2048 * KIB + 5 * BLOCK)]


def test_a_failed_request_is_raised_and_kept(pool: ThreadPoolExecutor) -> None:
    obj = MemoryObject(4 * 1024 * KIB)

    def broken(start: int, end: int) -> bytes:
        raise ConnectionError(f"lost at {start}")

    obj.fetch = broken  # type: ignore[method-assign]
    reader = RangeFile(obj, pool, block_size=BLOCK)
    with pytest.raises(ConnectionError):
        reader.prefetch([(1024 * KIB, 1024 * KIB + 1), (3 * 1024 * KIB, 3 * 1024 * KIB + 1)])
    assert isinstance(reader.failure, ConnectionError)
