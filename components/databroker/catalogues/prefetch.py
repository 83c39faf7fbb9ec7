"""Fetch a catalogue's next page on a worker thread while the caller maps the current one.

The worker is never more than one page ahead, so memory stays flat, and it starts only when the first
page is wanted, so the search stays lazy. It goes straight on to the next request after handing over a
page (rather than waiting to be asked) because the caller then maps that page holding the GIL: a worker
woken at that moment could not even send its request before the mapping is done, and nothing would overlap.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_END = object()


class PageAhead(Generic[T]):
    """Pull ``pages`` on a daemon thread, at most one page ahead of ``take``.

    Every ``take`` lets the worker fetch one page more, and one extra is allowed from the start: the
    page ahead. After each page, ``go_on(page)`` (called on the worker) says whether that page ahead is
    worth fetching (not after an empty page, nor once a limit is covered); if not, the next page is
    fetched only when taken. ``close()`` stops the worker (a fetch in flight finishes and is dropped).
    """

    def __init__(self, pages: Iterator[T], name: str, go_on: Callable[[T], bool]):
        self._pages = pages
        self._name = name
        self._go_on = go_on
        self._allowed = threading.Semaphore(1)
        self._ready: queue.SimpleQueue[tuple[bool, object]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._done = False

    def take(self) -> T | None:
        """The next page (waiting for it), or ``None`` once there are no more; re-raises a fetch's error."""
        if self._done:
            return None
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"{self._name}-pages", daemon=True)
            self._thread.start()
        self._allowed.release()
        ok, value = self._ready.get()
        if not ok:
            self._done = True
            assert isinstance(value, BaseException)
            raise value
        if value is _END:
            self._done = True
            return None
        return value  # type: ignore[return-value]

    def close(self) -> None:
        """Stop the worker; safe to call more than once."""
        self._done = True
        self._stop.set()
        self._allowed.release()

    def _next_allowed(self) -> bool:
        self._allowed.acquire()
        return not self._stop.is_set()

    def _run(self) -> None:
        try:
            while self._next_allowed():
                try:
                    page: object = next(self._pages, _END)
                    go_on = page is not _END and self._go_on(page)  # type: ignore[arg-type]
                except BaseException as err:  # handed over: take() re-raises it in the caller
                    self._ready.put((False, err))
                    return
                self._ready.put((True, page))
                # Without the page ahead, give up its allowance: the next fetch waits for a take.
                if page is _END or (not go_on and not self._next_allowed()):
                    return
        finally:
            close = getattr(self._pages, "close", None)
            if close is not None:
                close()
