"""Stay inside an S3 archive's quotas: at most N requests at once and M in any minute, counted, per endpoint.

CDSE's archive allows a user 4 concurrent connections and 2000 requests a minute and answers 503 ``SlowDown``
beyond; every request to an endpoint (each retry too) goes through that endpoint's one ``RequestLimiter``, so
analyzers sharing a process share the quota, as they share the account.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

logger = logging.getLogger(__name__)

WINDOW_S = 60.0


@dataclass
class QuotaCounts:
    """What went to one endpoint: requests sent, retries after throttling, seconds waited, peak concurrency."""

    requests: int = 0
    throttled: int = 0
    waited_s: float = 0.0
    peak_concurrent: int = 0


class RequestLimiter:
    """At most ``concurrency`` requests at once and ``per_minute`` in any 60 s (0 = no limit), counted.

    ``clock`` and ``sleep`` are the time source and the wait (``time.monotonic``/``time.sleep``; a test gives
    its own to check the window without waiting a minute).
    """

    def __init__(self, name: str, concurrency: int = 0, per_minute: int = 0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.name = name
        self.concurrency = concurrency
        self.per_minute = per_minute
        self._slots = threading.BoundedSemaphore(concurrency) if concurrency > 0 else None
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()
        self._in_flight = 0
        self.counts = QuotaCounts()

    @contextmanager
    def request(self) -> Iterator[None]:
        """Hold one request slot while the request (and the reading of its answer) runs."""
        if self._slots is not None:
            self._slots.acquire()
        try:
            self._wait_for_window()
            with self._lock:
                self._in_flight += 1
                self.counts.peak_concurrent = max(self.counts.peak_concurrent, self._in_flight)
            try:
                yield
            finally:
                with self._lock:
                    self._in_flight -= 1
        finally:
            if self._slots is not None:
                self._slots.release()

    def _wait_for_window(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and self._sent[0] <= now - WINDOW_S:
                    self._sent.popleft()
                if not self.per_minute or len(self._sent) < self.per_minute:
                    self._sent.append(now)
                    self.counts.requests += 1
                    return
                wait = self._sent[0] + WINDOW_S - now
                self.counts.waited_s += wait
            logger.warning("%s: %d requests in the last minute (the quota); waiting %.1f s", self.name,
                           self.per_minute, wait)
            self._sleep(wait)

    def backoff(self, attempt: int, base_s: float, cap_s: float = 20.0) -> None:
        """Wait before retry ``attempt`` (1, 2, ...) after a throttled answer: full jitter, exponential, capped."""
        delay = random.uniform(0.0, min(cap_s, base_s * 2 ** attempt))
        with self._lock:
            self.counts.throttled += 1
            self.counts.waited_s += delay
            throttled = self.counts.throttled
        logger.info("%s: throttled (%d so far); retry %d in %.2f s", self.name, throttled, attempt, delay)
        self._sleep(delay)

    def snapshot(self) -> QuotaCounts:
        with self._lock:
            return QuotaCounts(**vars(self.counts))


_LIMITERS: dict[tuple[str, int, int], RequestLimiter] = {}
_REGISTRY_LOCK = threading.Lock()


def limiter_for(endpoint: str, concurrency: int, per_minute: int) -> RequestLimiter:
    """The process's one limiter for ``endpoint`` with these limits."""
    key = (endpoint, concurrency, per_minute)
    with _REGISTRY_LOCK:
        limiter = _LIMITERS.get(key)
        if limiter is None:
            limiter = _LIMITERS[key] = RequestLimiter(endpoint, concurrency, per_minute)
        return limiter
