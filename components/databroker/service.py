"""The configured query as a source: one product per call, each exactly once, then ``Exhausted``."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from components.common.errors import Ai4copError, Exhausted
from components.databroker.catalogues import Catalogue
from components.databroker.query import ProductRecord, Query

logger = logging.getLogger(__name__)

HISTORY = 500
RERUN_AFTER = 5.0


@dataclass(frozen=True)
class Matches:
    """The first products a query matches, and whether more match."""

    query: Query
    products: list[ProductRecord]
    more: bool


class ProductSource:
    """Thread-safe cursor over a catalogue search.

    After a failure (catalogue down...) the next call searches again and skips what was already
    delivered, so a product is never repeated within a run; changing the query starts over, and so does a
    new run, so that every run gets the whole answer:

    - a call naming a run (``components.common.runs``: our orchestrator names each one) that is not the run
      being served starts the query over;
    - a call naming none (the platform's own orchestrator) starts it over once the query was exhausted and
      the previous call is at least ``rerun_after`` seconds old. An orchestrator stops calling a source that
      answered NOT_FOUND, so the next call belongs to the next run; the quiet period keeps a caller that
      ignores NOT_FOUND and calls again at once from looping over the query for ever.

    ``_lock`` guards the state and is never held across a network call, so ``status`` and ``restart``
    answer at once while the catalogue is slow. Advancing the search (a generator, which cannot be shared)
    takes the current query's own cursor lock: a call still fetching for a query that has since been
    replaced blocks nobody serving the new one, and drops what it fetched.
    """

    def __init__(self, open_catalogue: Callable[[], Catalogue], query: Query, history: int = HISTORY,
                 rerun_after: float = RERUN_AFTER, clock: Callable[[], float] = time.monotonic):
        self._open = open_catalogue
        self._lock = threading.Lock()
        self._history: deque[dict[str, Any]] = deque(maxlen=history)
        self._generation = 0
        self._rerun_after = rerun_after
        self._clock = clock
        self._run = ""
        self._last_call = clock()
        self._reset(query)

    def _reset(self, query: Query) -> None:
        self.query = query
        self._products: Iterator[ProductRecord] | None = None
        self._catalogue: Catalogue | None = None
        self._delivered: set[str] = set()
        self._exhausted = False
        self._error = ""
        self._history.clear()
        self._generation += 1
        self._cursor_lock = threading.Lock()

    @property
    def delivered(self) -> int:
        return len(self._delivered)

    def next(self, run: str = "") -> tuple[ProductRecord, Query]:
        """The next product of run ``run`` ('' = not named) and the query it answers; ``Exhausted`` once there
        are no more."""
        with self._lock:
            now = self._clock()
            if self._new_run(run, now):
                logger.info("new run %s: serving the query from its first product", run or "(not named)")
                self._close()
                self._reset(self.query)
                self._run = run
            self._last_call = now
        try:
            return self._next()
        finally:
            with self._lock:
                self._last_call = self._clock()

    def _next(self) -> tuple[ProductRecord, Query]:
        while True:
            with self._lock:
                generation, cursor_lock = self._generation, self._cursor_lock
            with cursor_lock:
                with self._lock:
                    if generation != self._generation:
                        continue
                    if self._exhausted:
                        raise Exhausted(f"no more products: all {self.delivered} of the query were delivered")
                    query, delivered, products = self.query, self._delivered, self._products
                try:
                    record = self._advance(generation, query, delivered, products)
                except _QueryChanged:
                    continue
                except Ai4copError as err:
                    with self._lock:
                        if generation != self._generation:
                            continue
                        self._error = str(err)
                        self._close()
                    raise
                with self._lock:
                    if generation != self._generation:
                        continue
                    if record is None:
                        self._exhausted = True
                        self._close()
                        raise Exhausted(f"no more products: all {self.delivered} of the query were delivered")
                    self._error = ""
                    delivered.add(record.id)
                    self._history.append(record.as_dict())
                    return record, query

    def _new_run(self, run: str, now: float) -> bool:
        if run:
            return run != self._run
        return self._exhausted and now - self._last_call >= self._rerun_after

    def _advance(self, generation: int, query: Query, delivered: set[str],
                 products: Iterator[ProductRecord] | None) -> ProductRecord | None:
        """The next undelivered product of ``products`` (a new search if ``None``); the state lock is not held."""
        if products is None:
            catalogue = self._open()
            products = catalogue.search(query)
            with self._lock:
                if generation != self._generation:
                    catalogue.close()
                    raise _QueryChanged
                self._catalogue, self._products = catalogue, products
        return next((record for record in products if record.id not in delivered), None)

    def restart(self, query: Query) -> None:
        """Serve ``query`` from its first product on."""
        with self._lock:
            self._close()
            self._reset(query)
        logger.info("source query changed: %s", query)

    def matches(self, limit: int) -> Matches:
        """The first ``limit`` products the current query matches, from a search of its own: nothing is
        delivered and the source's position is unchanged. Catalogue errors (a missing folder...) propagate."""
        with self._lock:
            query = self.query
        catalogue = self._open()
        try:
            found = list(itertools.islice(catalogue.search(query), limit + 1))
        finally:
            catalogue.close()
        return Matches(query, found[:limit], len(found) > limit)

    def status(self) -> dict[str, Any]:
        """Products delivered so far (the most recent ``HISTORY``), count, state, the run served, last error."""
        with self._lock:
            state = "exhausted" if self._exhausted else ("error" if self._error else "ready")
            return {"state": state, "delivered": self.delivered, "error": self._error, "run": self._run,
                    "products": list(self._history)}

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        self._products = None
        if self._catalogue is not None:
            self._catalogue.close()
            self._catalogue = None


class _QueryChanged(Exception):
    """The query changed while its search was being opened."""
