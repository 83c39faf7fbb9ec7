"""Fixtures and helpers every test module may use."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest


def eventually(condition: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> None:
    """Wait until ``condition()`` is true (re-checked every 10 ms); fail naming ``what`` after ``timeout`` s.

    For state only visible by asking (a run's counters, a server's health): events a test controls are
    waited for with ``threading.Event`` instead.
    """
    waiter = threading.Event()
    for _ in range(max(1, int(timeout / 0.01))):
        if condition():
            return
        waiter.wait(0.01)
    assert condition(), f"{what} not reached within {timeout:g} s"


@pytest.fixture
def wait_until() -> Callable[..., None]:
    """``wait_until(condition, timeout=10, what=...)``: see ``eventually``."""
    return eventually


@pytest.fixture(autouse=True, scope="session")
def _own_data_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Components that keep data by default (the geostore's ``$XDG_DATA_HOME/ai4cop/geostore``) keep it in a
    session folder, not the user's home: a store there may be locked by a server the user runs."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data-home")))
        yield
