"""The pages every component serves work offline: no asset from another host, and the asset routes answer."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient

from components.comax.analysis import ProductResult, Summary
from components.comax.outlines import outlines
from components.comax.page import render_page
from components.comax.sample import generate_products
from components.comax.ticks import time_labels, time_ticks, value_label, value_ticks
from components.common.catalogue import CATALOGUE
from components.common.registry import app_module
from components.common.web import DOCS_STATIC, create_web_app

EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
CSS_URL = re.compile(r"""(?:url\(|@import)\s*['"]?\s*(?:[a-z][a-z0-9+.-]*:)?//""", re.IGNORECASE)


class _Links(HTMLParser):
    """Every ``src``/``href`` of a page, and its inline ``<style>`` text."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [value or "" for name, value in attrs if name in ("src", "href")]
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def local_links(html: str) -> list[str]:
    """The page's links, asserting that none leads to another host (``http://``, ``https://``, ``//``)."""
    parser = _Links()
    parser.feed(html)
    external = [link for link in parser.links if EXTERNAL.match(link)]
    assert not external, f"links to other hosts: {external}"
    assert not any(CSS_URL.search(style) for style in parser.styles)
    return parser.links


@pytest.fixture(params=[entry.name for entry in CATALOGUE])
def client(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """Each catalogue component's web app, built as ``ai4cop serve`` builds it (default settings)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("SHARED_FOLDER_PATH", str(tmp_path / "shared"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    module = app_module(request.param)
    component = module.build(module.Settings(host="127.0.0.1", port=0, web_port=0))
    try:
        yield TestClient(create_web_app(component.name, component.web_app))
    finally:
        for hook in component.on_stop:
            hook()


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs_load_every_asset_from_the_component(client: TestClient, page: str) -> None:
    answer = client.get(page)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assets = [link for link in local_links(answer.text) if link.startswith(DOCS_STATIC + "/")]
    kinds = {link.rsplit(".", 1)[-1] for link in assets}
    assert kinds == ({"js", "css", "png"} if page == "/docs" else {"js", "png"})
    for link in assets:
        asset = client.get(link)
        assert asset.status_code == 200 and len(asset.content) > 1000, link
        expected = {"js": "javascript", "css": "text/css", "png": "image/png"}[link.rsplit(".", 1)[-1]]
        assert expected in asset.headers["content-type"], (link, asset.headers["content-type"])
    assert client.get("/openapi.json").json()["info"]["title"].startswith("ai4cop ")


def test_swagger_oauth_redirect_and_missing_assets(client: TestClient) -> None:
    assert client.get("/docs/oauth2-redirect").status_code == 200
    # ReDoc's bundle links its footer logo to its CDN: the page forbids images from elsewhere
    assert client.get("/redoc").headers["content-security-policy"] == "img-src 'self' data: blob:"
    assert client.get(f"{DOCS_STATIC}/no-such-file.js").status_code == 404


def test_the_component_pages_link_only_to_themselves(client: TestClient) -> None:
    page = client.get("/")
    if page.status_code == 404:  # geotriples and the orchestrator have no page of their own
        return
    assert page.status_code == 200
    local_links(page.text)


def test_the_check_itself_catches_cdn_links() -> None:
    for html in ('<script src="https://cdn.jsdelivr.net/npm/x.js"></script>', '<link href="//cdn.example/x.css">',
                 "<style>@import 'http://fonts.example/x.css';</style>"):
        with pytest.raises(AssertionError):
            local_links(html)
    assert local_links('<a href="/docs">API</a><svg xmlns="http://www.w3.org/2000/svg"></svg>') == ["/docs"]


def _europe() -> Summary:
    times = ["2024-03-01T12:40:01Z", "2024-03-02T12:39:10Z", "2024-03-03T14:21:50Z"]
    products = [ProductResult(f"p{i}.nc", max_mol_m2=0.03 + 0.02 * i, max_molecules_cm2=1e18, latitude=40 + i,
                              longitude=5 + 3 * i, time=time, valid_pixels=10) for i, time in enumerate(times)]
    return Summary("POLYGON ((-10 35, 30 35, 30 60, -10 60, -10 35))", "2024-03-01T00:00:00Z",
                   "2024-03-04T00:00:00Z", products)


def test_comax_map_draws_country_outlines_clipped_to_the_view() -> None:
    page = render_page(_europe())
    (land,) = re.findall(r'<path class="land" d="([^"]+)"', page)
    coords = [float(v) for v in re.findall(r"-?\d+\.?\d*", land)]
    size = re.search(r'<svg [^>]*width="(\d+)" height="(\d+)"', page)
    assert size is not None
    width, height = (float(v) for v in size.groups())
    assert coords and all(-0.5 <= x <= width + 0.5 for x in coords[0::2])  # the size is rounded
    assert all(-0.5 <= y <= height + 0.5 for y in coords[1::2])
    local_links(page)


def test_outlines_come_from_the_package_and_only_inside_the_box() -> None:
    europe = outlines(5, 45, 15, 55)
    assert len(europe) > 5 and all(shapely.box(5, 45, 15, 55).buffer(1e-9).contains(p) for p in europe)
    assert any(p.contains(shapely.Point(2.35, 48.85)) for p in outlines(-5, 42, 10, 52))  # Paris is on land
    assert outlines(-20, -40, -10, -30) == []  # the South Atlantic: no land


def test_comax_chart_has_several_value_and_time_ticks() -> None:
    page = render_page(_europe())
    chart = page[page.index("over time"):]
    labels = re.findall(r'text-anchor="(?:end|middle)"[^>]*>([^<]+)</text>', chart)
    values = [label for label in labels if re.fullmatch(r"0\.\d+", label)]
    clock = [label for label in labels if re.fullmatch(r"\d\d:\d\d", label)]
    assert len(values) >= 4 and len(clock) >= 4 and "2024-03-02" in labels


def _at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.mark.parametrize(("low", "high", "first", "step"), [
    ("2024-03-01T12:40", "2024-03-01T14:20", "2024-03-01T13:00", 1800),
    ("2024-03-01T10:00", "2024-03-03T16:00", "2024-03-01T12:00", 12 * 3600),
    ("2024-03-01T00:00", "2024-04-02T00:00", "2024-03-04T00:00", 7 * 86400),  # weeks start on Mondays
])
def test_time_ticks_are_round_utc_times(low: str, high: str, first: str, step: int) -> None:
    ticks = time_ticks(_at(low), _at(high), 4)
    assert ticks[0] == _at(first) and {b - a for a, b in itertools.pairwise(ticks)} == {step}
    assert 3 <= len(ticks) <= 8


def test_month_ticks_and_their_labels() -> None:
    ticks = time_ticks(_at("2023-11-15T00:00"), _at("2024-06-20T00:00"), 6)
    stamps = [datetime.fromtimestamp(t, UTC) for t in ticks]
    assert all(s.day == 1 and s.hour == 0 for s in stamps) and len(ticks) >= 5
    labels: list[Any] = time_labels(ticks)
    assert labels[0] == ("Dec", "2023") and ("Jan", "2024") in labels and labels[-1][1] == ""


def test_value_ticks_are_round_and_labelled_to_their_spacing() -> None:
    ticks = value_ticks(0.025, 0.095, 5)
    assert ticks == [0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09]
    assert [value_label(v, ticks) for v in ticks[:2]] == ["0.03", "0.04"]
    assert value_ticks(3, 970, 5) == [200, 400, 600, 800] and value_ticks(1.0, 1.0) == [1.0]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("s5p")
    generate_products(root, datetime(2024, 1, 1, tzinfo=UTC), days=2, per_day=2, scanlines=120)
    return root


def _databroker(folder: Path, cache: Path) -> Any:
    module = app_module("databroker")
    settings = module.Settings(host="127.0.0.1", port=0, dir=folder, cache_dir=cache, start="2024-01-01",
                               end="2024-01-03")
    return module.build(settings)


def test_databroker_search_lists_matches_without_delivering(folder: Path, tmp_path: Path) -> None:
    component = _databroker(folder, tmp_path)
    client = TestClient(create_web_app("databroker", component.web_app))
    found = client.get("/api/search").json()
    assert len(found["products"]) == 4 and found["more"] is False
    assert found["products"][0]["query_start"] == "2024-01-01T00:00:00Z"
    first_two = client.get("/api/search", params={"limit": 2}).json()
    assert [p["name"] for p in first_two["products"]] == [p["name"] for p in found["products"][:2]]
    assert first_two["more"] is True
    assert client.get("/api/products").json()["delivered"] == 0
    client.put("/api/query", json={"start": "2024-01-02"})
    assert len(client.get("/api/search").json()["products"]) == 2
    bad = client.get("/api/search", params={"limit": 0})
    assert bad.status_code == 422 and "limit" in bad.json()["detail"]


def test_databroker_search_says_when_the_folder_is_missing(tmp_path: Path) -> None:
    component = _databroker(tmp_path / "missing", tmp_path)
    client = TestClient(create_web_app("databroker", component.web_app))
    answer = client.get("/api/search")
    assert answer.status_code == 422 and answer.json()["error"] == "InvalidInput"
    assert str(tmp_path / "missing") in answer.json()["detail"] and "does not exist" in answer.json()["detail"]
    page = client.get("/").text
    assert 'type="submit">Search<' in page and "api/search" in page
