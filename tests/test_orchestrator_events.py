"""Event delivery to observers: a slow observer loses ordinary events only, is told how many, and it is logged."""

from __future__ import annotations

import logging

import pytest

from components.orchestrator.events import Event, EventBus


def _event(name: str, i: int = 0) -> Event:
    return Event("run-1", name, "comax1", {"i": str(i)})


def test_a_slow_observer_never_loses_exceptions_or_the_final_event(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus(backlog=3)
    subscription = bus.subscribe()
    with caplog.at_level(logging.WARNING, logger="components.orchestrator.events"):
        for i in range(5):
            bus.publish(_event("RPC.call", i))
        bus.publish(_event("exception", 5))
        bus.publish(_event("RPC.call", 6))
        bus.publish(Event("run-1", "run.failed", "comax1", {}))
    got = [(e.name, e.detail) for e in subscription]
    assert got == [("RPC.call", {"i": "0"}), ("RPC.call", {"i": "1"}), ("RPC.call", {"i": "2"}),
                   ("events.dropped", {"count": "2"}), ("exception", {"i": "5"}),
                   ("events.dropped", {"count": "1"}), ("run.failed", {})]
    assert subscription.dropped == 3
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["an observer is 3 events behind: dropping its ordinary events",
                        "a slow observer missed 3 of this run's events"]


def test_an_observer_that_keeps_up_gets_everything_and_no_notice() -> None:
    bus = EventBus(backlog=2)
    subscription = bus.subscribe()
    seen = []
    for i in range(10):
        bus.publish(_event("RPC.call", i))
        seen.append(next(iter(subscription)).detail["i"])
    bus.publish(Event("run-1", "run.finished", "orchestrator", {}))
    assert seen == [str(i) for i in range(10)]
    assert [e.name for e in subscription] == ["run.finished"] and subscription.dropped == 0
