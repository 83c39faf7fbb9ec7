"""Orchestration events and their subscribers (what ``observe`` streams).

A subscription follows one run: it ends after that run's final event (``run.finished`` or ``run.failed``).
A subscriber that arrives after a run has ended gets that final event and ends, so a client that waits for
the stream to end never hangs; unless an ``initialize`` comes within ``late_grace`` seconds (the platform's
client observes first and initializes right after), in which case it follows the new run instead.
A slow subscriber never slows the run: past ``backlog`` pending events, ordinary events are dropped for it,
but never an ``exception`` or the final event; the subscriber then gets an ``events.dropped`` event (detail
``count``) before the next event it does get, and the orchestrator's log says how many it missed.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from components.common.errors import InvalidInput

logger = logging.getLogger(__name__)

FINISHED = "run.finished"
FAILED = "run.failed"
FINAL_EVENTS = frozenset({FINISHED, FAILED})
EXCEPTION = "exception"
DROPPED = "events.dropped"


@dataclass(frozen=True)
class Event:
    """One event: the run label, the platform's event name, the node it concerns, string details."""

    run: str
    name: str
    component: str
    detail: dict[str, str] = field(default_factory=dict)

    @property
    def final(self) -> bool:
        return self.name in FINAL_EVENTS


def _compile(pattern: str, what: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern or ".*")
    except re.error as err:
        raise InvalidInput(f"{what} {pattern!r} is not a valid regular expression: {err}") from err


class Subscription:
    """The events one observer asked for (``re.search`` on name and component), until the run's final event."""

    def __init__(self, name_regex: str, component_regex: str, backlog: int):
        self._name = _compile(name_regex, "name_regex")
        self._component = _compile(component_regex, "component_regex")
        self._backlog = backlog
        self._pending: deque[Event] = deque()
        self._cond = threading.Condition()
        self._ended = False
        self._unreported = 0
        self.dropped = 0
        self.stale: Event | None = None

    def matches(self, event: Event) -> bool:
        return bool(self._name.search(event.name) and self._component.search(event.component))

    def deliver(self, event: Event) -> None:
        with self._cond:
            if self._ended:
                return
            if event.final:
                self._report_dropped(event.run)
                if self.matches(event):
                    self._pending.append(event)
                self._ended = True
                if self.dropped:
                    logger.warning("a slow observer missed %d of this run's events", self.dropped)
            elif not self.matches(event):
                return
            elif len(self._pending) >= self._backlog and event.name != EXCEPTION:
                if not self.dropped:
                    logger.warning("an observer is %d events behind: dropping its ordinary events", self._backlog)
                self.dropped += 1
                self._unreported += 1
                return
            else:
                self._report_dropped(event.run)
                self._pending.append(event)
            self._cond.notify_all()

    def _report_dropped(self, run: str) -> None:
        """Tell the observer, in its stream, how many events it missed since the last such notice."""
        if self._unreported:
            self._pending.append(Event(run, DROPPED, "orchestrator", {"count": str(self._unreported)}))
            self._unreported = 0

    def close(self) -> None:
        """End the subscription now (the observer went away, or the orchestrator stops)."""
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def __iter__(self) -> Iterator[Event]:
        while True:
            with self._cond:
                while not self._pending and not self._ended:
                    self._cond.wait()
                if not self._pending:
                    return
                event = self._pending.popleft()
            yield event


class EventBus:
    """Fan events out to subscriptions; remembers the last run's final event for late observers."""

    def __init__(self, backlog: int = 10_000, late_grace: float = 1.0):
        self._backlog = backlog
        self._late_grace = late_grace
        self._lock = threading.Lock()
        self._subscriptions: list[Subscription] = []
        self._final: Event | None = None

    def subscribe(self, name_regex: str = ".*", component_regex: str = ".*") -> Subscription:
        """A new subscription; after a finished run it gets that run's final event unless a ``reset`` comes first."""
        subscription = Subscription(name_regex, component_regex, self._backlog)
        with self._lock:
            self._subscriptions.append(subscription)
            subscription.stale = self._final
        if subscription.stale is not None:
            timer = threading.Timer(self._late_grace, self._deliver_stale, args=(subscription,))
            timer.daemon = True
            timer.start()
        return subscription

    def _deliver_stale(self, subscription: Subscription) -> None:
        with self._lock:
            final, subscription.stale = subscription.stale, None
            if final is None:
                return
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)
        subscription.deliver(final)

    def unsubscribe(self, subscription: Subscription) -> None:
        subscription.close()
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

    @property
    def has_subscribers(self) -> bool:
        return bool(self._subscriptions)

    def publish(self, event: Event) -> None:
        with self._lock:
            targets = list(self._subscriptions)
            if event.final:
                self._final = event
                self._subscriptions.clear()
        for subscription in targets:
            subscription.deliver(event)

    def reset(self) -> None:
        """Forget the last final event: observers (late ones included) now wait for the next run."""
        with self._lock:
            self._final = None
            for subscription in self._subscriptions:
                subscription.stale = None

    def close(self) -> None:
        """End every subscription (the orchestrator is shutting down)."""
        with self._lock:
            targets, self._subscriptions = list(self._subscriptions), []
        for subscription in targets:
            subscription.close()
