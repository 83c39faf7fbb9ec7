"""The same answers from a real S3 server on loopback (moto server mode) and over HTTP with Range; only part
of each object is fetched; unreadable, missing and denied objects are reported, not raised."""

from __future__ import annotations

from typing import Any

import pytest

from components.comax.analysis import Query
from components.comax.report import analyze_sources
from components.comax.sources import SourceConfig
from components.common.aoi import isoformat

pytest_plugins = ["comax_helpers"]


def _config(url: str) -> SourceConfig:
    return SourceConfig(s3_endpoint=url, s3_access_key="test", s3_secret_key="test", s3_region="us-east-1")


def _query(products: Any, pixel: str = "centre") -> Query:
    start, end = products.window
    return Query.build(products.aoi, isoformat(start), isoformat(end), pixel=pixel)


@pytest.mark.parametrize("pixel", ["centre", "footprint"])
def test_s3_and_http_give_the_local_answer(products: Any, s3_server: str, http_server: str,
                                           pixel: str) -> None:
    query = _query(products, pixel)
    name = products.main.name
    hrefs = [str(products.main), f"s3://{products.bucket}/Sentinel-5P/{name}", f"{http_server}/{name}"]
    results = analyze_sources(hrefs, query, _config(s3_server)).products
    local, s3, http = (r.to_dict() for r in results)
    for remote in (s3, http):
        assert remote["error"] is None
        for field in ("max_mol_m2", "latitude", "longitude", "time", "valid_pixels"):
            assert remote[field] == local[field]
        assert remote["bytes_read"] < 0.25 * products.main.stat().st_size
    assert local["max_mol_m2"] >= products.known_max


def test_antimeridian_over_s3(products: Any, s3_server: str) -> None:
    href = f"s3://{products.bucket}/Sentinel-5P/{products.antimeridian.name}"
    local, remote = analyze_sources([str(products.antimeridian), href], Query.build("170,-10,-170,10"),
                                    _config(s3_server)).products
    assert remote.error is None and remote.max_mol_m2 == local.max_mol_m2 == pytest.approx(0.65)
    assert remote.valid_pixels == local.valid_pixels


def test_footprints_across_the_antimeridian_locally_and_over_s3(products: Any, s3_server: str) -> None:
    href = f"s3://{products.bucket}/Sentinel-5P/{products.antimeridian.name}"
    aoi = "170,-10,-170,10"
    local, remote = analyze_sources([str(products.antimeridian), href], Query.build(aoi, pixel="footprint"),
                                    _config(s3_server)).products
    centre = analyze_sources([str(products.antimeridian)], Query.build(aoi)).products[0]
    expected, count = products.brute_force_footprints_360(products.antimeridian, (170.0, -10.0, 190.0, 10.0))
    assert remote.error is None and local.error is None
    assert local.max_mol_m2 == remote.max_mol_m2 == expected == pytest.approx(0.65)
    assert local.valid_pixels == remote.valid_pixels == count
    # footprints on the box's edges count too, so more pixels than by centres
    assert count > centre.valid_pixels > 0
    assert remote.bytes_read < 0.25 * products.antimeridian.stat().st_size


def test_http_server_ignoring_range_is_read_whole_once(products: Any, http_no_range_server: Any) -> None:
    url, handler = http_no_range_server
    query = _query(products)
    local, http = analyze_sources([str(products.main), f"{url}/{products.main.name}"], query).products
    assert http.error is None
    for field in ("max_mol_m2", "latitude", "longitude", "time", "valid_pixels"):
        assert getattr(http, field) == getattr(local, field)
    assert http.bytes_read == products.main.stat().st_size
    assert handler.gets == 1


@pytest.mark.parametrize(("key", "error"), [
    ("Sentinel-5P/truncated.nc", "UnreadableData"),
    ("Sentinel-5P/junk.nc", "UnreadableData"),
    ("Sentinel-5P/missing.nc", "NotFound"),
    ("empty.nc", "UnreadableData"),
    ("denied/{main}", "PermissionDenied"),
])
def test_s3_failures_are_reported_and_others_still_count(products: Any, s3_server: str, key: str,
                                                         error: str) -> None:
    bad = f"s3://{products.bucket}/" + key.format(main=products.main.name)
    good = f"s3://{products.bucket}/Sentinel-5P/{products.main.name}"
    summary = analyze_sources([bad, good], _query(products), _config(s3_server))
    first, second = summary.products
    assert first.error is not None and first.error.startswith(error), first.error
    assert second.error is None and summary.to_dict()["max_mol_m2"] == pytest.approx(products.known_max)


@pytest.mark.parametrize(("path", "error"), [
    ("truncated.nc", "UnreadableData"),
    ("junk.nc", "UnreadableData"),
    ("missing.nc", "NotFound"),
    ("denied/x.nc", "PermissionDenied"),
])
def test_http_failures(products: Any, http_server: str, path: str, error: str) -> None:
    result = analyze_sources([f"{http_server}/{path}"], _query(products)).products[0]
    assert result.error is not None and result.error.startswith(error), result.error


def test_unreachable_endpoint_and_bad_scheme(products: Any) -> None:
    config = SourceConfig(s3_endpoint="http://127.0.0.1:9", s3_access_key="a", s3_secret_key="b",
                          s3_region="us-east-1", http_timeout=2)
    s3, ftp, http = analyze_sources(["s3://b/k.nc", "ftp://x/y.nc", "http://127.0.0.1:9/x.nc"], _query(products),
                                    config).products
    assert s3.error is not None and s3.error.startswith("Unavailable")
    assert ftp.error is not None and ftp.error.startswith("InvalidInput")
    assert http.error is not None and http.error.startswith("Unavailable")
