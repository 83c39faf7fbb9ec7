"""A bounded queue between rpc workers with back-pressure, several producers, and an end."""

from __future__ import annotations

import threading
from collections import deque


class Closed(Exception):
    """The run was aborted while a worker waited on a queue."""


class Channel:
    """Bounded FIFO of serialized messages fed by ``producers`` workers.

    ``put`` blocks while the queue is full (back-pressure); ``get`` returns None once every producer is done
    and the queue is drained. ``abort`` wakes everyone up: blocked calls then raise ``Closed``.
    """

    def __init__(self, name: str, capacity: int, producers: int):
        self.name = name
        self.capacity = max(1, capacity)
        self._items: deque[bytes] = deque()
        self._producers = producers
        self._aborted = False
        self._cond = threading.Condition()

    def put(self, item: bytes) -> None:
        with self._cond:
            while len(self._items) >= self.capacity and not self._aborted:
                self._cond.wait()
            if self._aborted:
                raise Closed(self.name)
            self._items.append(item)
            self._cond.notify_all()

    def get(self) -> bytes | None:
        with self._cond:
            while not self._items and self._producers > 0 and not self._aborted:
                self._cond.wait()
            if self._aborted:
                raise Closed(self.name)
            if not self._items:
                return None
            item = self._items.popleft()
            self._cond.notify_all()
            return item

    def producer_done(self) -> None:
        with self._cond:
            self._producers -= 1
            self._cond.notify_all()

    def abort(self) -> None:
        with self._cond:
            self._aborted = True
            self._cond.notify_all()

    def __len__(self) -> int:
        return len(self._items)
