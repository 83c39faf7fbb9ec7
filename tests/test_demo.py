"""``ai4cop demo``, the README's main job, end to end on a fresh cache (no credentials, no network).

The demo runs once for the whole module (``--serve``, so its page and API stay up for the checks), then is
stopped with SIGTERM as a user's Ctrl-C or a container runtime would.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from components.runner.demo import DEFAULT_END, DEFAULT_START, SampleSpec
from tests.orchestrator_helpers import ai4cop, cli_env

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]


@dataclass
class Demo:
    cache: Path
    process: subprocess.Popen[str]
    printed: str  # what it printed before the page's address
    url: str
    seconds: float  # until the answer was printed, sample generation included


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    cache = tmp_path_factory.mktemp("fresh-cache")
    started = time.monotonic()
    proc = subprocess.Popen(ai4cop("demo", "--serve"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=cli_env(cache))
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        while True:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "the demo ended without serving its page"
            if line.startswith("comax web page: "):
                break
            lines.append(line)
        yield Demo(cache, proc, "".join(lines), line.split(": ", 1)[1].split()[0], time.monotonic() - started)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)


def test_demo_generates_data_once_and_prints_the_maximum(demo: Demo) -> None:
    assert demo.printed.startswith("Maximum CO column: ")
    assert "where: latitude " in demo.printed and "when:  2024-03-0" in demo.printed
    assert "over 6 product(s)" in demo.printed
    products = list((demo.cache / "ai4cop" / "demo" / "s5p-co" / SampleSpec().tag).glob("S5P_*.nc"))
    assert len(products) == 6


def test_demo_result_has_the_comax_fields(demo: Demo) -> None:
    result = requests.get(demo.url + "api/result", timeout=10).json()
    assert list(result) == ["max_mol_m2", "max_molecules_cm2", "latitude", "longitude", "time", "product",
                            "valid_pixels", "bytes_read", "requests", "products_analyzed", "aoi_wkt", "start", "end",
                            "products"]
    assert result["products_analyzed"] == 6 and len(result["products"]) == 6
    assert (result["start"], result["end"]) == (DEFAULT_START, DEFAULT_END)
    assert result["max_mol_m2"] == max(p["max_mol_m2"] for p in result["products"])
    assert f"{result['max_mol_m2']:.5f} mol/m2" in demo.printed


def test_demo_serve_keeps_the_page_up_until_sigterm(demo: Demo) -> None:
    page = requests.get(demo.url, timeout=10)
    assert page.status_code == 200 and "<html" in page.text.lower()
    demo.process.send_signal(signal.SIGTERM)
    assert demo.process.wait(30) == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(demo.url, timeout=2)
