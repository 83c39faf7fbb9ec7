"""Catalogue credentials reach the configured catalogue only, never a host a next link or redirect names."""

from __future__ import annotations

from typing import Any

from components.databroker.catalogues import CatalogueConfig, open_catalogue
from components.databroker.http import HttpPolicy, origin_of
from components.databroker.query import build_query
from tests.databroker_helpers import (
    Request,
    as_json,
    odata_page,
    odata_product,
    resto_catalogue,
    serve,
    stac_api,
    stac_item,
)

FAST = HttpPolicy(timeout=2.0, retries=1, backoff=0.01, backoff_cap=0.05)
QUERY = build_query(aoi="10,40,20,50", start="2024-01-01", end="2024-01-08")
BEARER = ["Bearer tok123"]
BASIC = ["Basic dTpodW50ZXIy"]  # u:hunter2


def test_cdse_token_is_not_sent_to_the_host_of_a_next_link() -> None:
    def catalogue_side(request: Request) -> Any:
        return odata_page(other.url, [odata_product(0), odata_product(1)], 2, request.params)

    def other_side(request: Request) -> Any:
        return odata_page(other.url, [odata_product(2)], None, request.params)

    with serve(other_side) as other, serve(catalogue_side) as configured:
        config = CatalogueConfig(name="cdse", url=configured.url + "/odata/v1", policy=FAST, token="tok123")
        products = list(open_catalogue(config).search(QUERY))
    assert len(products) == 3
    assert [r.authorization for r in configured.requests] == [BEARER]
    assert [r.authorization for r in other.requests] == [[]]


def test_opensearch_basic_auth_follows_next_links_on_the_same_origin_only() -> None:
    calls: list[int] = []

    def catalogue_side(request: Request) -> Any:
        calls.append(1)
        if len(calls) == 1:  # the first page: the next link stays on the catalogue
            return resto(request)
        reply = resto(request)  # the second: its next link names another host
        return reply[0], reply[1], reply[2].replace(configured.url.encode(), other.url.encode())

    with serve(lambda r: resto(r)) as other, serve(catalogue_side) as configured:
        resto = resto_catalogue(250, lambda: configured.url)
        config = CatalogueConfig(name="opensearch", url=configured.url + "/resto/api/collections/S5P/search.json",
                                 policy=FAST, username="u", password="hunter2")
        products = list(open_catalogue(config).search(QUERY))
    assert len(products) == 250
    assert [r.authorization for r in configured.requests] == [BASIC, BASIC]
    assert [r.params["page"] for r in other.requests] == ["3"] and other.requests[0].authorization == []


def test_stac_token_is_not_sent_to_the_host_of_a_next_link() -> None:
    def catalogue_side(request: Request) -> Any:
        if request.path != "/search":
            return stac_api(0, lambda: configured.url)(request)
        return as_json({"type": "FeatureCollection", "features": [stac_item(0)],
                        "links": [{"rel": "next", "href": other.url + "/search?token=1",
                                   "type": "application/geo+json"}]})

    def other_side(request: Request) -> Any:
        return as_json({"type": "FeatureCollection", "features": [stac_item(1)], "links": []})

    with serve(other_side) as other, serve(catalogue_side) as configured:
        config = CatalogueConfig(name="stac", url=configured.url, policy=FAST, token="tok123")
        products = list(open_catalogue(config).search(QUERY))
    assert len(products) == 2
    assert configured.requests and all(r.authorization == BEARER for r in configured.requests)
    assert [r.authorization for r in other.requests] == [[]]


def test_a_redirect_to_another_host_drops_the_credentials() -> None:
    def catalogue_side(request: Request) -> Any:
        return 302, {"Location": other.url + "/odata/v1/Products"}, b""

    def other_side(request: Request) -> Any:
        return odata_page(other.url, [odata_product(0)], None, request.params)

    with serve(other_side) as other, serve(catalogue_side) as configured:
        config = CatalogueConfig(name="cdse", url=configured.url, policy=FAST, token="tok123")
        assert len(list(open_catalogue(config).search(QUERY))) == 1
    assert [r.authorization for r in configured.requests] == [BEARER]
    assert [r.authorization for r in other.requests] == [[]]


def test_origins_and_masked_credentials() -> None:
    assert origin_of("https://Catalogue.example/odata/v1") == origin_of("https://catalogue.example:443/x?y=1")
    assert origin_of("http://catalogue.example/") != origin_of("https://catalogue.example/")
    assert origin_of("https://catalogue.example.evil.org/") != origin_of("https://catalogue.example/")
    assert origin_of("http://127.0.0.1:8080/") != origin_of("http://127.0.0.1:8081/")
    assert origin_of("http://host:notaport/") == ("", "", 0)
    config = CatalogueConfig(name="cdse", token="tok123", username="u", password="hunter2")
    credentials = config.credentials("https://catalogue.example")
    assert credentials is not None and credentials.headers == {"Authorization": "Bearer tok123"}
    assert "tok123" not in repr(credentials) and "hunter2" not in repr(config) and "tok123" not in repr(config)
    assert CatalogueConfig(name="cdse").credentials("https://catalogue.example") is None
