"""Known answers on local products with planted traps, checked against an independent brute force."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely

from components.comax.analysis import Pixels, Query, in_aoi_centres, maximum
from components.comax.report import analyze_sources
from components.common.aoi import isoformat
from components.common.errors import InvalidInput

pytest_plugins = ["comax_helpers"]


def _window(products: Any) -> tuple[str, str]:
    start, end = products.window
    return isoformat(start), isoformat(end)


def test_traps_are_avoided_and_answer_matches_brute_force(products: Any) -> None:
    start, end = _window(products)
    query = Query.build(products.aoi, start, end)
    result = analyze_sources([str(products.main)], query).products[0]
    assert result.error is None
    assert result.max_mol_m2 == pytest.approx(products.known_max)
    assert result.max_molecules_cm2 == pytest.approx(products.known_max * 6.02214e19, rel=1e-6)
    assert result.latitude == pytest.approx(products.known.latitude)
    assert result.longitude == pytest.approx(products.known.longitude)
    assert result.time == isoformat(products.known.time)
    expected, count, _, _ = products.brute_force(products.main, products.aoi, *products.window)
    assert expected == pytest.approx(products.known_max) and result.valid_pixels == count > 10
    assert 0 < result.bytes_read < products.main.stat().st_size * 0.3


def test_without_window_the_late_trap_wins(products: Any) -> None:
    result = analyze_sources([str(products.main)], Query.build(products.aoi)).products[0]
    assert result.max_mol_m2 == pytest.approx(0.95)
    assert result.valid_pixels == products.brute_force(products.main, products.aoi)[1]


def test_qa_threshold_is_strict_and_configurable(products: Any) -> None:
    start, end = _window(products)
    low = analyze_sources([str(products.main)], Query.build(products.aoi, start, end, qa_min=0.3)).products[0]
    assert low.max_mol_m2 == pytest.approx(0.85)  # the qa=0.5 and qa=0.4 traps now count; 0.85 > 0.8
    assert low.valid_pixels == products.brute_force(products.main, products.aoi, *products.window, qa_min=0.3)[1]


def test_aggregate_over_products(products: Any) -> None:
    summary = analyze_sources([str(products.second), str(products.main)], Query.build(products.aoi)).to_dict()
    assert summary["max_mol_m2"] == pytest.approx(0.95)
    assert summary["product"] == products.main.name
    assert summary["valid_pixels"] == sum(p["valid_pixels"] for p in summary["products"])
    assert summary["products"][0]["max_mol_m2"] == pytest.approx(0.3)


def test_aoi_that_misses_the_product_gives_zero_pixels_not_an_error(products: Any) -> None:
    result = analyze_sources([str(products.main)], Query.build("-120,30,-110,40")).products[0]
    assert result.error is None and result.valid_pixels == 0 and result.max_mol_m2 is None


def test_window_outside_the_product(products: Any) -> None:
    query = Query.build(products.aoi, "2020-01-01", "2020-01-02")
    result = analyze_sources([str(products.main)], query).products[0]
    assert result.valid_pixels == 0 and result.bytes_read < 50_000


@pytest.mark.parametrize("aoi", ["170,-10,-170,10", "POLYGON ((170 -10, 190 -10, 190 10, 170 10, 170 -10))"])
def test_antimeridian_aoi(products: Any, aoi: str) -> None:
    query = Query.build(aoi)
    result = analyze_sources([str(products.antimeridian)], query).products[0]
    expected, count, _, lon = products.brute_force(products.antimeridian, query.aoi_wkt)
    assert result.max_mol_m2 == pytest.approx(0.65) == pytest.approx(expected)
    assert result.valid_pixels == count > 100
    assert result.longitude == pytest.approx(lon) and result.longitude < -179


def test_footprint_mode_counts_more_pixels(products: Any) -> None:
    start, end = _window(products)
    centre = analyze_sources([str(products.main)], Query.build(products.aoi, start, end)).products[0]
    foot = analyze_sources([str(products.main)], Query.build(products.aoi, start, end, pixel="footprint")).products[0]
    assert foot.valid_pixels > centre.valid_pixels
    assert foot.max_mol_m2 is not None and foot.max_mol_m2 >= products.known_max


def test_footprint_selection_against_per_pixel_polygons() -> None:
    query = Query.build("POLYGON ((0 0, 2 0, 2 2, 0 2, 0 0))", pixel="footprint")
    lon = np.array([[-0.3, 1.0, 2.6], [179.95, -179.95, 3.0]])
    lat = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    lon_b = lon[..., None] + np.array([-0.4, 0.4, 0.4, -0.4])
    lon_b = (lon_b + 180) % 360 - 180
    lat_b = lat[..., None] + np.array([-0.4, -0.4, 0.4, 0.4])
    from components.comax.analysis import in_aoi_footprints

    mask = in_aoi_footprints(query, lat_b, lon_b, lon)
    assert mask.tolist() == [[True, True, False], [False, False, False]]
    anti = Query.build("179.5,0,-179.5,2", pixel="footprint")
    assert in_aoi_footprints(anti, lat_b, lon_b, lon).tolist() == [[False, False, False], [True, True, False]]


def test_centre_selection_matches_shapely_per_point() -> None:
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(-20, 40, (50, 40)), rng.uniform(30, 60, (50, 40))
    query = Query.build("POLYGON ((0 40, 20 35, 25 50, 5 55, 0 40))")
    expected = np.array([[query.aoi.contains(shapely.Point(x, y)) for x, y in zip(rx, ry, strict=True)]
                         for rx, ry in zip(lon, lat, strict=True)])
    assert np.array_equal(in_aoi_centres(query, lat, lon), expected)


def test_empty_pixels() -> None:
    assert maximum(Query.build(BOX), Pixels.empty(), "p").valid_pixels == 0


BOX = "POLYGON ((8 42, 14 42, 14 47, 8 47, 8 42))"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"aoi": "POLYGON ((0 0, 1 1))"}, "AOI"),
    ({"aoi": BOX, "start": "2024-03-02", "end": "2024-03-01"}, "before"),
    ({"aoi": BOX, "qa_min": 1.5}, "qa_min"),
    ({"aoi": BOX, "pixel": "corner"}, "pixel"),
])
def test_bad_queries(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Query.build(**kwargs)
