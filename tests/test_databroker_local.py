"""The local catalogue on generated Sentinel-5P L2 CO product files."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import shapely
from shapely import affinity

from components.comax.sample import generate_products, write_product
from components.common.errors import InvalidInput
from components.databroker.catalogues.local import LocalCatalogue
from components.databroker.query import build_query

START = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("s5p")
    generate_products(root, START, days=2, per_day=2, scanlines=120)
    (root / "nested").mkdir()
    write_product(root / "nested", START.replace(hour=12), orbit=32390, scanlines=120, mode="NRTI")
    (root / "broken.nc").write_bytes(b"not an HDF5 file")
    return root


def local(folder: Path, cache: Path) -> LocalCatalogue:
    return LocalCatalogue(folder, cache_dir=cache)


def test_indexes_time_coverage_and_footprint_from_the_files(folder: Path, tmp_path: Path) -> None:
    records = local(folder, tmp_path).index()
    assert len(records) == 5  # the broken file is skipped, not fatal
    first = min(records, key=lambda r: r.start)
    assert first.start == START and first.name.startswith("S5P_OFFL_L2__CO_____20240101T000000")
    assert first.href == (folder / first.name).as_uri() and first.size_bytes == (folder / first.name).stat().st_size
    assert first.product_type == "L2__CO____" and first.collection == "SENTINEL-5P"
    footprint = shapely.from_wkt(first.footprint_wkt)
    assert footprint.is_valid and footprint.geom_type in ("Polygon", "MultiPolygon")
    minx, miny, maxx, maxy = footprint.bounds
    assert minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90


def test_answers_time_window_aoi_and_mode_queries(folder: Path, tmp_path: Path) -> None:
    catalogue = local(folder, tmp_path)
    day1 = list(catalogue.search(build_query(start="2024-01-01", end="2024-01-02")))
    assert len(day1) == 3 and [r.start for r in day1] == sorted(r.start for r in day1)
    nrti = list(catalogue.search(build_query(start="2024-01-01", end="2024-01-03", processing_mode="NRTI")))
    assert [r.id for r in nrti] == [r.id for r in day1 if "_NRTI_" in r.name] and nrti[0].id.startswith("nested/")
    footprint = shapely.from_wkt(day1[0].footprint_wkt)
    inside = footprint.representative_point()
    aoi = shapely.box(inside.x - 0.1, inside.y - 0.1, inside.x + 0.1, inside.y + 0.1).wkt
    hits = list(catalogue.search(build_query(aoi=aoi, start="2024-01-01", end="2024-01-02")))
    assert day1[0].id in [r.id for r in hits]
    everywhere_else = [r for r in day1 if not shapely.from_wkt(r.footprint_wkt).intersects(shapely.from_wkt(aoi))]
    assert not {r.id for r in everywhere_else} & {r.id for r in hits}
    assert list(catalogue.search(build_query(start="2023-01-01", end="2023-02-01"))) == []
    assert list(catalogue.search(build_query(start="2024-01-01", end="2024-01-03", product_type="L2__NO2___"))) == []


def test_index_is_cached_and_refreshed_when_a_file_changes(folder: Path, tmp_path: Path) -> None:
    catalogue = local(folder, tmp_path)
    catalogue.index()
    index = json.loads(catalogue.index_path.read_text())
    assert len(index["entries"]) == 6 and "error" in index["entries"]["broken.nc"]
    # A cached entry is used as is: poison one and see it come back unchanged.
    name = next(key for key in index["entries"] if key.startswith("S5P_"))
    index["entries"][name]["product_type"] = "CACHED"
    catalogue.index_path.write_text(json.dumps(index))
    assert any(r.product_type == "CACHED" for r in catalogue.index())
    # A changed file (size/mtime) is read again.
    path = folder / name
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert not any(r.product_type == "CACHED" for r in catalogue.index())


def test_missing_folder_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        list(local(tmp_path / "nope", tmp_path).search(build_query()))


def test_symlink_out_of_the_folder_is_not_followed(folder: Path, tmp_path: Path) -> None:
    inner = tmp_path / "data"
    inner.mkdir()
    outside = next(folder.glob("S5P_*.nc"))
    (inner / "escape.nc").symlink_to(outside)
    assert local(inner, tmp_path / "cache").index() == []


def test_an_aoi_written_beyond_180_finds_the_products_under_it(folder: Path, tmp_path: Path) -> None:
    catalogue = local(folder, tmp_path)
    day1 = list(catalogue.search(build_query(start="2024-01-01", end="2024-01-02")))
    inside = shapely.from_wkt(day1[0].footprint_wkt).representative_point()
    shift = 360 if inside.x < 0 else -360  # the same place, written with longitudes beyond +-180
    near = shapely.box(inside.x - 0.1, inside.y - 0.1, inside.x + 0.1, inside.y + 0.1)
    beyond = affinity.translate(near, xoff=shift)
    assert not -180 <= beyond.centroid.x <= 180
    found = list(catalogue.search(build_query(aoi=beyond.wkt, start="2024-01-01", end="2024-01-02")))
    assert day1[0].id in {r.id for r in found}
    assert {r.id for r in found} == {r.id for r in catalogue.search(build_query(aoi=near.wkt, start="2024-01-01",
                                                                                 end="2024-01-02"))}



def _small_product(folder: Path, name: str, west: float, east: float) -> None:
    """A minimal S5P L2 CO file (the attributes and geolocation the index reads) over ``west..east``, -5..5."""
    import h5py
    import numpy as np

    lon, lat = np.meshgrid(np.linspace(west, east, 8), np.linspace(-5, 5, 20))
    with h5py.File(folder / name, "w") as h5:
        h5.attrs.update(time_coverage_start="2024-01-01T03:00:00Z", time_coverage_end="2024-01-01T03:10:00Z",
                        platform="S5P")
        h5["PRODUCT/latitude"] = lat[np.newaxis]
        h5["PRODUCT/longitude"] = lon[np.newaxis]
        h5.create_group("METADATA/GRANULE_DESCRIPTION").attrs["ProductShortName"] = "L2__CO____"


def test_aois_across_the_antimeridian_find_the_products_on_either_side(tmp_path: Path) -> None:
    folder = tmp_path / "pacific"
    folder.mkdir()
    east_of_180 = "S5P_OFFL_L2__CO_____20240101T030000_20240101T031000_32400_03_020400_20240105T000000.nc"
    west_of_180 = "S5P_OFFL_L2__CO_____20240101T030000_20240101T031000_32401_03_020400_20240105T000000.nc"
    _small_product(folder, east_of_180, -178, -172)
    _small_product(folder, west_of_180, 172, 178)
    catalogue = local(folder, tmp_path / "cache")

    def found(aoi: str) -> set[str]:
        return {r.name for r in catalogue.search(build_query(aoi=aoi, start="2024-01-01", end="2024-01-02"))}

    assert found("170,-10,-170,10") == {east_of_180, west_of_180}
    assert found("POLYGON((185 -10,190 -10,190 10,185 10,185 -10))") == {east_of_180}
    assert found("POLYGON((-190 -10,-185 -10,-185 10,-190 10,-190 -10))") == {west_of_180}
    assert found("175,-10,-179,10") == {west_of_180}
    assert found("-170,-10,170,10") == set()
