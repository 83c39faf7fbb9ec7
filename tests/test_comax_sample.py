"""The synthetic S5P L2 CO products: real layout, readable by netCDF4 and h5py, deterministic, cached."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from components.comax.sample import Plant, generate_products, pixel_at, write_product
from onboarding.cli import main

pytest_plugins = ["comax_helpers"]

NAME = re.compile(r"S5P_OFFL_L2__CO_____\d{8}T\d{6}_\d{8}T\d{6}_\d{5}_03_020400_\d{8}T\d{6}\.nc")


def test_layout_and_attributes_read_with_netcdf4(products: Any) -> None:
    import netCDF4

    assert NAME.fullmatch(products.main.name)
    with netCDF4.Dataset(products.main) as nc:
        assert "SYNTHETIC" in nc.title and nc.synthetic == "true"
        assert nc.time_coverage_start == "2024-03-01T12:00:00Z"
        prod = nc["PRODUCT"]
        assert {k: len(v) for k, v in prod.dimensions.items()} == {
            "scanline": 300, "ground_pixel": 215, "time": 1, "corner": 4, "layer": 50}
        co = prod["carbonmonoxide_total_column"]
        assert co.dimensions == ("time", "scanline", "ground_pixel") and co.dtype == np.float32
        assert co.units == "mol m-2"
        assert co.multiplication_factor_to_convert_to_molecules_percm2 == pytest.approx(6.02214e19)
        assert co._FillValue == pytest.approx(9.96921e36)
        assert co.filters()["zlib"] and co.filters()["shuffle"]
        assert co.chunking()[1] < 300
        qa = prod["qa_value"]
        assert qa.dtype == np.uint8 and qa.scale_factor == pytest.approx(0.01)
        assert set(np.unique(np.round(qa[:].filled(0) * 100))) <= {0, 40, 50, 70, 100}  # 50: a planted trap
        assert prod["time"].units == "seconds since 2010-01-01 00:00:00"
        assert prod["delta_time"].units == "milliseconds since 2024-03-01 00:00:00"
        assert prod["time_utc"][0, 0].startswith("2024-03-01T12:00:00")
        bounds = nc["PRODUCT/SUPPORT_DATA/GEOLOCATIONS/latitude_bounds"]
        assert bounds.dimensions == ("time", "scanline", "ground_pixel", "corner")
        assert "column_averaging_kernel" in nc["PRODUCT/SUPPORT_DATA/DETAILED_RESULTS"].variables
        assert "surface_pressure" in nc["PRODUCT/SUPPORT_DATA/INPUT_DATA"].variables
        assert co[0].mask.any() and not co[0].mask.all()


def test_geolocation_is_a_day_side_pass_and_support_data_dominates(products: Any) -> None:
    with h5py.File(products.main) as h5:
        lat = h5["PRODUCT/latitude"][0]
        lat_b = h5["PRODUCT/SUPPORT_DATA/GEOLOCATIONS/latitude_bounds"][0]
        sizes: dict[str, int] = {}
        h5.visititems(lambda name, obj: sizes.__setitem__(name, obj.id.get_storage_size())
                      if isinstance(obj, h5py.Dataset) else None)
    centre = lat[:, 107]
    assert centre[0] < -60 and centre[-1] > 60 and np.all(np.diff(centre[50:250]) > 0)
    assert np.all(lat_b.min(axis=-1) <= lat) and np.all(lat_b.max(axis=-1) >= lat)
    support = sum(v for k, v in sizes.items() if k.startswith("PRODUCT/SUPPORT_DATA"))
    assert support > 0.7 * sum(sizes.values())


def test_plants_and_pixel_at(products: Any) -> None:
    pixel = products.known
    with h5py.File(products.main) as h5:
        assert h5["PRODUCT/carbonmonoxide_total_column"][0, pixel.scanline, pixel.ground_pixel] == np.float32(0.5)
        assert h5["PRODUCT/qa_value"][0, pixel.scanline, pixel.ground_pixel] == 100
    assert abs(pixel.latitude - 44.5) < 1 and abs(pixel.longitude - 11.0) < 1
    assert products.late.time > pixel.time


def test_generate_products_is_deterministic_and_caches(tmp_path, products) -> None:  # type: ignore[no-untyped-def]
    first = generate_products(tmp_path / "a", products.start, days=2, per_day=2, scanlines=60, seed=5)
    again = generate_products(tmp_path / "b", products.start, days=2, per_day=2, scanlines=60, seed=5)
    assert len(first) == 4 and all(NAME.fullmatch(p.name) for p in first)
    assert [p.name for p in first] == [p.name for p in again]
    with h5py.File(first[0]) as a, h5py.File(again[0]) as b:
        assert np.array_equal(a["PRODUCT/carbonmonoxide_total_column"][...],
                              b["PRODUCT/carbonmonoxide_total_column"][...])
    mtime = first[0].stat().st_mtime_ns
    generate_products(tmp_path / "a", products.start, days=2, per_day=2, scanlines=60, seed=5)
    assert first[0].stat().st_mtime_ns == mtime


def test_write_product_options(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write_product(tmp_path / "x.nc", datetime(2024, 3, 1, 12, tzinfo=UTC), scanlines=40, mode="NRTI",
                         support_data=False, plant=[Plant(45, 10, 0.2, time=datetime(2024, 3, 1, 12, 40, tzinfo=UTC))])
    with h5py.File(path) as h5:
        assert "DETAILED_RESULTS" not in h5["PRODUCT/SUPPORT_DATA"]
        assert "latitude_bounds" in h5["PRODUCT/SUPPORT_DATA/GEOLOCATIONS"]
        assert h5.attrs["processing_mode"] == b"NRTI"
    assert pixel_at(path, 45, 10, datetime(2024, 3, 1, 12, 40, tzinfo=UTC)).scanline > 0
    with pytest.raises(ValueError, match="mode"):
        write_product(tmp_path, datetime(2024, 3, 1, tzinfo=UTC), mode="XXXX")


def test_sample_cli(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["sample", "s5p-co", str(tmp_path), "--scanlines", "30", "--days", "2"]) == 0
    lines = capsys.readouterr().out.split()
    assert len(lines) == 2 and all(NAME.search(line) for line in lines)
    assert main(["sample", "s5p-co", str(tmp_path), "--days", "0"]) == 2
    assert "error" in capsys.readouterr().err


def test_modules_stay_small() -> None:
    # the house limit (STYLE.md 12): a module past ~400 lines holds two ideas
    folder = Path(__file__).resolve().parent.parent / "components" / "comax"
    sizes = {path.name: len(path.read_text().splitlines()) for path in folder.glob("*.py")}
    assert {"sample.py", "sample_fields.py", "sample_layout.py"} <= set(sizes)
    assert max(sizes.values()) <= 400, sizes
