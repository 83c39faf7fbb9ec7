"""``ai4cop comax``: text and JSON output, unreadable sources reported, exit codes, one-line errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.common.aoi import isoformat
from onboarding.cli import main

pytest_plugins = ["comax_helpers"]


def test_json_output(products: Any, capsys: pytest.CaptureFixture[str]) -> None:
    start, end = (isoformat(t) for t in products.window)
    code = main(["comax", str(products.main), str(products.junk), "--aoi", products.aoi, "--start", start,
                 "--end", end, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["max_mol_m2"] == pytest.approx(products.known_max)
    assert set(out) >= {"max_mol_m2", "max_molecules_cm2", "latitude", "longitude", "time", "product",
                        "valid_pixels", "bytes_read", "products"}
    good, bad = out["products"]
    assert good["valid_pixels"] == out["valid_pixels"] and bad["error"].startswith("UnreadableData")


def test_text_output_and_options(products: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["comax", str(products.main), "--aoi", products.aoi, "--qa-min", "0.3", "--pixel", "footprint"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("max CO 0.95 mol m-2") and products.main.name in out


def test_no_readable_source_exits_non_zero(products: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["comax", str(products.junk), "missing.nc", "--aoi", products.aoi]) == 1
    captured = capsys.readouterr()
    assert "error: NotFound" in captured.out and "Traceback" not in captured.err


def test_bad_aoi_is_one_line(products: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["comax", str(products.main), "--aoi", "POLYGON ((0 0, 1 1))"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ai4cop comax: error: AOI") and err.count("\n") == 1


def test_every_source_failing_says_so(products: Any, tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["comax", str(products.junk), str(tmp_path), "--aoi", products.aoi]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "no source could be read (2 tried)"
    assert out[2] == (f"  {tmp_path.name}: error: InvalidInput: {tmp_path}: is a folder; give the product files "
                      f"in it (e.g. {tmp_path}/*.nc)")


def test_no_valid_pixel_is_null_in_json(products: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["comax", str(products.main), "--aoi", "0,0,1,1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["valid_pixels"] == 0 and out["bytes_read"] > 0
    fields = ("max_mol_m2", "max_molecules_cm2", "latitude", "longitude", "time", "product")
    assert [out[k] for k in fields] == [None] * 6
    assert [out["products"][0][k] for k in fields[:5]] == [None] * 5
    assert main(["comax", str(products.main), "--aoi", "0,0,1,1"]) == 0
    assert capsys.readouterr().out.startswith("no valid pixel in the AOI (0 valid pixels)")
