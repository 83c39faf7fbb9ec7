"""Real Sentinel-5P files as the oracle: attributes as netCDF-C writes them, the real metadata-only product in
``shared/data/s5p`` (global attributes, METADATA group, orbit footprint), and the sample generator's layout."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
import shapely

from components.comax.analysis import Query
from components.comax.report import analyze_sources
from components.common.errors import UnreadableData
from components.common.ncattrs import attr_float, attr_int, attr_text
from components.databroker.catalogues.footprint import footprint_of_ring, parse_pos_list, read_facts
from components.databroker.catalogues.local import LocalCatalogue
from components.databroker.query import build_query
from onboarding.cli import main

pytest_plugins = ["comax_helpers"]

S5P = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "s5p"
REAL = S5P / "S5P_OFFL_L2__CO_____20200303T013547_20200303T031717_12367_01_010302_20200306T032410.nc"
NRTI_JSON = S5P / "S5P_NRTI_L2__CO_____20210326T030109_20210326T030609_17872_01_010400_20210326T033105.json"
# the EOP footprint ring of the real product, and its nadir equator crossing (METADATA/GRANULE_DESCRIPTION)
EXTERIOR = ("METADATA/EOP_METADATA/om:featureOfInterest/eop:multiExtentOf/gml:surfaceMembers/gml:exterior")

needs_real = pytest.mark.skipif(not REAL.is_file(), reason="shared/data/s5p is not next to the repository")


def scalar_attributes(path: Path) -> None:
    """Rewrite every 1-element number attribute as a 0-d scalar, as a product written through h5py has them."""
    def rewrite(obj: Any) -> None:
        for name, value in list(obj.attrs.items()):
            if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "iuf":
                del obj.attrs[name]
                obj.attrs[name] = value.reshape(())

    with h5py.File(path, "r+") as h5:
        rewrite(h5)
        h5.visititems(lambda _, obj: rewrite(obj))


def test_sample_attributes_are_laid_out_as_netcdf_c_writes_them(products: Any) -> None:
    with h5py.File(products.main) as h5:
        assert b"netcdf=" in h5.attrs["_NCProperties"]
        assert h5.attrs["orbit"].shape == (1,)
        co = h5["PRODUCT/carbonmonoxide_total_column"]
        assert co.attrs["multiplication_factor_to_convert_to_molecules_percm2"].shape == (1,)
        assert isinstance(co.attrs["units"], np.bytes_)
        assert co.fletcher32 and co.compression == "gzip" and co.shuffle
        assert h5["PRODUCT/qa_value"].attrs["scale_factor"].shape == (1,)
    if REAL.is_file():
        with h5py.File(REAL) as real, h5py.File(products.main) as sample:
            for name in ("orbit", "time_coverage_start", "processor_version", "platform"):
                assert type(sample.attrs[name]) is type(real.attrs[name]), name
                assert np.shape(sample.attrs[name]) == np.shape(real.attrs[name]), name


def test_the_reader_answers_alike_on_products_written_both_ways(products: Any, tmp_path: Path) -> None:
    scalars = tmp_path / products.main.name
    shutil.copyfile(products.main, scalars)
    scalar_attributes(scalars)
    with h5py.File(scalars) as h5:
        assert h5.attrs["orbit"].shape == ()
    start, end = products.window
    query = Query.build(products.aoi, start.isoformat(), end.isoformat())
    as_netcdf_c, as_h5py = analyze_sources([str(products.main), str(scalars)], query).products
    assert as_netcdf_c.error is None and as_h5py.error is None
    assert as_netcdf_c.max_mol_m2 == as_h5py.max_mol_m2 == pytest.approx(products.known_max)
    assert as_netcdf_c.max_molecules_cm2 == as_h5py.max_molecules_cm2
    assert as_netcdf_c.valid_pixels == as_h5py.valid_pixels > 0


def test_attribute_readers_take_either_form() -> None:
    attrs = {"one": np.array([2.5], np.float32), "scalar": np.float64(2.5), "orbit": np.array([12367], np.int32),
             "text": np.bytes_(b"1.3.2"), "nc_string": np.array(["KNMI"], dtype=object), "two": np.array([1, 2]),
             "empty": np.array([], np.float32)}
    assert attr_float(attrs, "one", 0) == attr_float(attrs, "scalar", 0) == 2.5
    assert attr_int(attrs, "orbit", 0) == 12367 and attr_int(attrs, "missing", 7) == 7
    assert attr_text(attrs, "text") == "1.3.2" and attr_text(attrs, "nc_string") == "KNMI"
    assert attr_float(attrs, "empty", 1.0) == 1.0
    with pytest.raises(UnreadableData, match="'two' holds 2 values"):
        attr_float(attrs, "two", 0)
    with pytest.raises(UnreadableData, match="'text' is not a number"):
        attr_float({"text": np.bytes_(b"abc")}, "text", 0)


@needs_real
def test_the_real_metadata_only_product_is_reported_as_such() -> None:
    result = analyze_sources([str(REAL)], Query.build("160,-10,175,10")).products[0]
    assert result.error is not None and result.error.startswith("UnreadableData: not an S5P L2 CO product")
    assert "PRODUCT lacks latitude, longitude, carbonmonoxide_total_column" in result.error
    assert "0-dimensional" not in result.error


@needs_real
def test_facts_of_the_real_product_come_from_its_metadata() -> None:
    facts = read_facts(REAL)
    assert (facts.start.isoformat(), facts.end.isoformat()) == ("2020-03-03T01:57:22+00:00",
                                                                "2020-03-03T02:55:45+00:00")
    assert (facts.product_type, facts.platform, facts.orbit, facts.processor_version, facts.processing_mode) == (
        "L2__CO____", "S5P", 12367, "1.3.2", "OFFL")
    with h5py.File(REAL) as h5:
        crossing = attr_float(h5["METADATA/GRANULE_DESCRIPTION"].attrs, "LongitudeOfDaysideNadirEquatorCrossing", 0)
        ring_lat, ring_lon = parse_pos_list(attr_text(h5[EXTERIOR].attrs, "gml:posList"))
    footprint = shapely.from_wkt(facts.footprint_wkt)
    # the nadir track crosses the equator inside; the swath (about 2600 km wide) misses the other side of the Earth
    assert footprint.contains(shapely.Point(crossing, 0.0))
    assert footprint.contains(shapely.Point(crossing + 5.0, 0.0)) and footprint.contains(shapely.Point(172, 30))
    for outside in [(0.0, 0.0), (crossing - 20.0, 0.0), (-160.0, 0.0), (100.0, 40.0)]:
        assert not footprint.contains(shapely.Point(*outside)), outside
    # a day-side pass over both polar caps (geospatial_lat_min/max: -89.94/89.94)
    assert footprint.contains(shapely.Point(0.0, -89.5)) and footprint.contains(shapely.Point(0.0, 89.5))
    # every corner of the ring lies on the footprint's border (up to the simplification)
    corners = shapely.points(ring_lon, ring_lat)
    assert np.all(shapely.distance(footprint.boundary, corners) < 0.2)


def test_a_small_granule_footprint_from_the_real_nrti_metadata() -> None:
    if not NRTI_JSON.is_file():
        pytest.skip("shared/data/s5p is not next to the repository")
    data = json.loads(NRTI_JSON.read_text())
    exterior = data["METADATA"]["EOP_METADATA"]["om:featureOfInterest"]["eop:multiExtentOf"]["gml:surfaceMembers"][
        "gml:exterior"]
    footprint = footprint_of_ring(*parse_pos_list(exterior["gml:posList"]))
    west, south, east, north = footprint.bounds
    assert footprint.geom_type == "Polygon"
    assert south == pytest.approx(data["geospatial_lat_min"], abs=0.2)
    assert north == pytest.approx(data["geospatial_lat_max"], abs=0.2)
    # this file's geospatial_lon_min/max are the first and last longitudes (165.9, 130.7), not ordered
    assert (west, east) == (pytest.approx(130.7311, abs=0.2), pytest.approx(165.94235, abs=0.2))


@pytest.mark.parametrize("text", ["", "1 2 3", "10 20 30 40 50 60 70 80 90", "a b c d e f g h", "95 0 1 1 2 2 95 0"])
def test_unusable_pos_lists_are_unreadable_data(text: str) -> None:
    with pytest.raises(UnreadableData, match="posList"):
        parse_pos_list(text)


@needs_real
def test_the_local_catalogue_indexes_the_real_product(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "s5p"
    folder.mkdir()
    shutil.copyfile(REAL, folder / REAL.name)
    catalogue = LocalCatalogue(folder, cache_dir=tmp_path / "cache")
    window = {"start": "2020-03-03T00:00:00Z", "end": "2020-03-04T00:00:00Z"}
    found = list(catalogue.search(build_query(aoi="160,-5,175,5", **window)))
    assert [record.name for record in found] == [REAL.name]
    assert not list(catalogue.search(build_query(aoi="0,-5,10,5", **window)))
    assert not list(catalogue.search(build_query(aoi="160,-5,175,5", processing_mode="NRTI", **window)))
    entry = json.loads(catalogue.index_path.read_text())["entries"][REAL.name]
    assert (entry["orbit"], entry["processor_version"], entry["processing_mode"]) == (12367, "1.3.2", "OFFL")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert main(["search", "--dir", str(folder), "--aoi", "160,-5,175,5", "--start", "2020-03-03",
                 "--end", "2020-03-04", "--json"]) == 0
    assert [p["name"] for p in json.loads(capsys.readouterr().out)] == [REAL.name]
