"""``ai4cop demo``, the README's main job, end to end on a fresh cache (no credentials, no network)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from components.runner.demo import DEFAULT_END, DEFAULT_START, SampleSpec
from tests.orchestrator_helpers import ai4cop, cli_env

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fresh-cache")


def test_demo_generates_data_once_and_prints_the_maximum(cache: Path) -> None:
    started = time.monotonic()
    proc = subprocess.run(ai4cop("demo"), capture_output=True, text=True, env=cli_env(cache), timeout=120)
    first = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Maximum CO column: ")
    assert "where: latitude " in proc.stdout and "when:  2024-03-0" in proc.stdout
    assert "over 6 product(s)" in proc.stdout
    products = list((cache / "ai4cop" / "demo" / "s5p-co" / SampleSpec().tag).glob("S5P_*.nc"))
    assert len(products) == 6
    assert first < 60


def test_demo_json_has_the_comax_fields(cache: Path) -> None:
    proc = subprocess.run(ai4cop("demo", "--json"), capture_output=True, text=True, env=cli_env(cache), timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert list(result) == ["max_mol_m2", "max_molecules_cm2", "latitude", "longitude", "time", "product",
                            "valid_pixels", "bytes_read", "products_analyzed", "aoi_wkt", "start", "end", "products"]
    assert result["products_analyzed"] == 6 and len(result["products"]) == 6
    assert (result["start"], result["end"]) == (DEFAULT_START, DEFAULT_END)
    assert result["max_mol_m2"] == max(p["max_mol_m2"] for p in result["products"])


def test_demo_serve_keeps_the_page_up_until_sigterm(cache: Path) -> None:
    proc = subprocess.Popen(ai4cop("demo", "--serve"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=cli_env(cache))
    try:
        assert proc.stdout is not None
        url = ""
        deadline = time.monotonic() + 90
        while not url and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            if line.startswith("comax web page: "):
                url = line.split(": ", 1)[1].split()[0]
        page = requests.get(url, timeout=10)
        assert page.status_code == 200 and "<html" in page.text.lower()
        assert requests.get(url + "api/result", timeout=10).json()["products_analyzed"] == 6
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
    assert code == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=2)
