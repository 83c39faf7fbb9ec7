"""Re-running a pipeline on nodes that stay up: each run gets the whole answer again.

Our orchestrator names every run in the calls' metadata; the broker starts its query over for a new run (or,
for calls naming none, as the platform's orchestrator makes them, once exhausted and after a quiet period), and
the analyzer keeps results per run. Real gRPC servers on port 0, a loopback OData catalogue.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from components.common.contract import contract_pb2
from components.common.errors import Exhausted
from components.common.runs import RUN_KEY, new_run_id
from components.databroker.catalogues import open_catalogue
from components.databroker.service import ProductSource
from tests.databroker_helpers import odata_catalogue, serve
from tests.test_databroker_app import running, settings_for, stop

pytest_plugins = ["comax_helpers"]


@pytest.fixture()
def odata() -> Iterator[Any]:
    with serve(lambda r: handler(r)) as server:
        handler = odata_catalogue(4, lambda: server.url, page_items=3)
        yield server


def _names(stub: Any, run: str | None) -> list[str]:
    """Every product ``next_product`` gives until NOT_FOUND, in calls naming ``run`` (None: naming none)."""
    metadata = ((RUN_KEY, run),) if run is not None else None
    names = []
    while True:
        try:
            names.append(stub.next_product(contract_pb2.Empty(), timeout=10, metadata=metadata).name)
        except grpc.RpcError as err:
            assert err.code() is grpc.StatusCode.NOT_FOUND, err.details()
            return names


def test_run_ids_are_unique_readable_and_metadata_safe() -> None:
    first, second = new_run_id("my run #1 é"), new_run_id("my run #1 é")
    assert first != second and first.startswith("my-run-1.")
    assert all(c.isalnum() or c in "._-" for c in first)
    assert new_run_id("").startswith("run.")


def test_the_broker_starts_over_for_each_named_run(odata: Any) -> None:
    component, server, channel, stub = running(settings_for(odata.url))
    try:
        first = _names(stub, "run-1.a")
        assert len(first) == 4
        assert _names(stub, "run-1.a") == []  # the same run: still exhausted
        assert _names(stub, "run-2.b") == first  # a new run: the whole query again, in the same order
    finally:
        stop(component, server, channel)


def test_the_broker_starts_over_for_an_unnamed_run_after_a_quiet_period(odata: Any) -> None:
    component, server, channel, stub = running(settings_for(odata.url, rerun_after_seconds=0))
    try:
        first = _names(stub, None)
        assert len(first) == 4 and _names(stub, None) == first
    finally:
        stop(component, server, channel)
    component, server, channel, stub = running(settings_for(odata.url, rerun_after_seconds=3600))
    try:
        assert len(_names(stub, None)) == 4 and _names(stub, None) == []  # a caller ignoring NOT_FOUND
    finally:
        stop(component, server, channel)


def test_the_quiet_period_counts_from_the_last_call(odata: Any) -> None:
    now = [0.0]
    settings = settings_for(odata.url)
    source = ProductSource(functools.partial(open_catalogue, settings.catalogue_config()), settings.query(),
                           rerun_after=5.0, clock=lambda: now[0])

    def drain() -> int:
        count = 0
        while True:
            try:
                source.next()
            except Exhausted:
                return count
            count += 1

    try:
        assert drain() == 4
        for moment in (1.0, 4.0, 8.0):  # a caller polling every few seconds keeps the query exhausted
            now[0] = moment
            assert drain() == 0
        now[0] = 13.5
        assert drain() == 4
    finally:
        source.close()


def test_the_analyzer_keeps_results_per_run(serve_comax: Callable[..., Any], products: Any,
                                            tmp_path: Path) -> None:
    served = serve_comax(tmp_path / "results", keep_runs=2)
    window = products.window

    def analyze(path: Path, run: str | None) -> Any:
        return served.analyze(str(path), window=window, metadata=((RUN_KEY, run),) if run else None)

    assert analyze(products.second, "run-1.a").products_analyzed == 1
    assert analyze(products.main, "run-1.a").products_analyzed == 2
    again = analyze(products.main, "run-2.b")
    assert again.products_analyzed == 1 and again.product == products.main.name  # run 2's own aggregate
    assert analyze(products.main, None).products_analyzed == 1  # calls naming no run share one question
    questions = served.http.get("/api/questions").json()
    assert [(q["run"], q["products_analyzed"], q["current"]) for q in questions] == [
        ("", 1, True), ("run-2.b", 1, False), ("run-1.a", 2, False)]
    page = served.http.get("/", params={"question": questions[2]["id"]}).text
    assert "Runs and questions" in page and "run-2.b" in page and "in 2 products" in page
    analyze(products.main, "run-3.c")  # keep_runs=2: the oldest run's results make room
    assert [q["run"] for q in served.http.get("/api/questions").json()] == ["run-3.c", "", "run-2.b"]
