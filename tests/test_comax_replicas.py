"""Replicas of the analyzer sharing one results folder (as pods sharing a ReadWriteMany volume): every reply and
every ``GET /api/result`` covers the products all of them analysed; deleting on one forgets on all."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from components.comax.results_folder import SUBFOLDER

pytest_plugins = ["comax_helpers"]


@pytest.fixture
def replicas(serve_comax: Callable[..., Any], s3_server: str, tmp_path: Path) -> tuple[Any, Any]:
    return serve_comax(tmp_path, s3_server), serve_comax(tmp_path, s3_server)


def test_two_replicas_report_the_same_correct_aggregate(replicas: tuple[Any, Any], products: Any) -> None:
    one, two = replicas
    window = products.window
    expected, pixels, _, _ = products.brute_force(products.main, products.aoi, *window)
    second_max, second_pixels, _, _ = products.brute_force(products.second, products.aoi, *window)
    a = one.analyze(f"s3://{products.bucket}/Sentinel-5P/{products.second.name}", window=window)
    assert a.products_analyzed == 1 and a.valid_pixels == second_pixels
    b = two.analyze(str(products.main), window=window)
    assert b.products_analyzed == 2 and b.max_mol_m2 == pytest.approx(expected)
    assert b.valid_pixels == pixels + second_pixels
    c = one.analyze(f"s3://{products.bucket}/Sentinel-5P/junk.nc", window=window)
    assert c.error.startswith("UnreadableData")
    assert (c.products_analyzed, c.max_mol_m2, c.product) == (3, b.max_mol_m2, products.main.name)
    assert expected == pytest.approx(products.known_max) and (second_max or 0) < expected
    results = [served.http.get("/api/result").json() for served in (one, two)]
    assert results[0] == results[1]
    assert results[0]["products_analyzed"] == 3 and results[0]["valid_pixels"] == pixels + second_pixels
    assert results[0]["max_mol_m2"] == pytest.approx(expected)
    assert one.http.get("/api/products").json() == two.http.get("/api/products").json()
    assert one.http.get("/api/questions").json() == two.http.get("/api/questions").json()
    assert one.http.delete("/api/result").json() == {"reset": True}
    assert two.http.get("/api/result").json()["products_analyzed"] == 0
    assert two.analyze(str(products.main), window=window).products_analyzed == 1


def test_concurrent_calls_on_both_replicas_all_count(replicas: tuple[Any, Any], products: Any) -> None:
    hrefs = [f"missing-{i:02d}.nc" for i in range(40)]

    def call(i: int) -> Any:
        return replicas[i % 2].analyze(hrefs[i])

    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(call, range(len(hrefs))))
    assert all(r.error.startswith("NotFound") for r in replies)
    assert max(r.products_analyzed for r in replies) == len(hrefs)
    for served in replicas:
        listed = served.http.get("/api/products").json()
        assert sorted(p["product"] for p in listed) == hrefs


def test_a_corrupt_result_file_is_skipped(replicas: tuple[Any, Any], products: Any, tmp_path: Path) -> None:
    one, two = replicas
    one.analyze(str(products.main), window=products.window)
    (question,) = one.http.get("/api/questions").json()
    folder = tmp_path / SUBFOLDER / question["id"]
    (folder / "0000000000000000.json").write_text("{not json")
    (folder / "1111111111111111.json").write_text(json.dumps({"recorded": 1, "result": {"unknown": 1}}))
    result = two.http.get("/api/result").json()
    assert result["products_analyzed"] == 1 and result["max_mol_m2"] == pytest.approx(products.known_max)
    assert two.analyze(str(products.second), window=products.window).products_analyzed == 2
