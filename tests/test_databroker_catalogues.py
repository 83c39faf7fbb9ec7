"""Remote catalogue backends against real loopback HTTP servers shaped like CDSE OData, resto and STAC."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from components.common.errors import InvalidInput, PermissionDenied, Unavailable
from components.databroker.catalogues import CatalogueConfig, open_catalogue
from components.databroker.catalogues.common import wkt_of_geojson, wkts_of_geojson
from components.databroker.http import HttpPolicy
from components.databroker.query import build_query
from tests.databroker_helpers import (
    NGINX_404,
    Request,
    as_json,
    odata_catalogue,
    odata_page,
    odata_product,
    repeating_next_link,
    resto_catalogue,
    resto_feature,
    serve,
    stac_api,
)

FAST = HttpPolicy(timeout=2.0, retries=3, backoff=0.01, backoff_cap=0.05)
QUERY = build_query(aoi="10,40,20,50", start="2024-01-01", end="2024-01-08")


def catalogue(name: str, url: str, policy: HttpPolicy = FAST) -> Any:
    return open_catalogue(CatalogueConfig(name=name, url=url, policy=policy))


def test_cdse_pages_through_next_links_and_maps_products() -> None:
    with serve(lambda r: handler(r)) as server:
        handler = odata_catalogue(250, lambda: server.url)
        products = list(catalogue("cdse", server.url + "/odata/v1").search(QUERY))
    assert len(products) == 250
    assert len({p.id for p in products}) == 250
    first = products[0]
    assert first.href.startswith("s3://eodata/Sentinel-5P/TROPOMI/L2__CO____/2024/01/01/S5P_OFFL_L2__CO_____")
    assert first.name.endswith(".nc") and first.size_bytes == 455000000
    assert first.checksum == "MD5:" + "0" * 32
    assert first.footprint_wkt.startswith("POLYGON ((-180 -80")
    assert first.start.isoformat() == "2024-01-01T00:00:00+00:00"
    assert len(server.requests) == 3
    params = server.requests[0].params
    assert server.requests[0].path == "/odata/v1/Products"
    assert params["$top"] == "100" and params["$orderby"] == "ContentDate/Start asc"
    assert params["$filter"] == (
        "Collection/Name eq 'SENTINEL-5P' and Attributes/OData.CSC.StringAttribute/any(att:att/Name eq "
        "'productType' and att/OData.CSC.StringAttribute/Value eq 'L2__CO____') and ContentDate/Start lt "
        "2024-01-08T00:00:00.000Z and ContentDate/End gt 2024-01-01T00:00:00.000Z and "
        "OData.CSC.Intersects(area=geography'SRID=4326;POLYGON ((20 40, 20 50, 10 50, 10 40, 20 40))')"
    )


def test_cdse_limit_stops_paging_and_sets_top() -> None:
    with serve(lambda r: handler(r)) as server:
        handler = odata_catalogue(250, lambda: server.url)
        products = list(catalogue("cdse", server.url).search(QUERY.with_limit(30)))
    assert len(products) == 30
    assert len(server.requests) == 1 and server.requests[0].params["$top"] == "30"


def test_duplicates_across_pages_are_listed_once_and_a_repeated_page_ends_paging() -> None:
    pages = {0: [0, 1, 2], 3: [2, 3, 4], 6: [3, 4]}

    def handle(request: Request) -> Any:
        skip = int(request.params.get("$skip", 0))
        return odata_page(server.url, [odata_product(i) for i in pages[skip]], skip + 3, request.params)

    with serve(handle) as server:
        names = [p.name for p in catalogue("cdse", server.url).search(QUERY)]
    assert len(names) == len(set(names)) == 5
    assert len(server.requests) == 3


def test_an_empty_page_ends_paging() -> None:
    def handle(request: Request) -> Any:
        skip = int(request.params.get("$skip", 0))
        items = [odata_product(i) for i in range(skip, skip + 2)] if skip < 4 else []
        return odata_page(server.url, items, skip + 2, request.params)

    with serve(handle) as server:
        assert len(list(catalogue("cdse", server.url).search(QUERY))) == 4
    assert len(server.requests) == 3


def test_processing_mode_is_queried_and_checked_on_the_name() -> None:
    def handle(request: Request) -> Any:
        return odata_page(server.url, [odata_product(0, "OFFL"), odata_product(1, "NRTI")], None, request.params)

    with serve(handle) as server:
        query = build_query(start="2024-01-01", end="2024-01-02", processing_mode="nrti")
        names = [p.name for p in catalogue("cdse", server.url).search(query)]
    assert [n[4:8] for n in names] == ["NRTI"]
    assert "contains(Name,'_NRTI_')" in server.requests[0].params["$filter"]
    assert "Intersects" not in server.requests[0].params["$filter"]  # the world needs no spatial filter


def test_503_then_success_is_retried() -> None:
    calls = []

    def handle(request: Request) -> Any:
        calls.append(1)
        if len(calls) <= 2:
            return as_json({"detail": "busy"}, 503)
        return odata_page(server.url, [odata_product(0)], None, request.params)

    with serve(handle) as server:
        assert len(list(catalogue("cdse", server.url).search(QUERY))) == 1
    assert len(calls) == 3


def test_429_honours_retry_after() -> None:
    stamps: list[float] = []

    def handle(request: Request) -> Any:
        stamps.append(time.monotonic())
        if len(stamps) == 1:
            return as_json({"detail": "Too many requests"}, 429, {"Retry-After": "1"})
        return odata_page(server.url, [odata_product(0)], None, request.params)

    policy = HttpPolicy(timeout=2.0, retries=2, backoff=0.01, backoff_cap=5.0)
    with serve(handle) as server:
        assert len(list(catalogue("cdse", server.url, policy).search(QUERY))) == 1
    assert stamps[1] - stamps[0] >= 0.95


def test_5xx_forever_gives_up_with_unavailable() -> None:
    with serve(lambda r: as_json({"detail": "down"}, 502)) as server, pytest.raises(Unavailable) as err:
        list(catalogue("cdse", server.url).search(QUERY))
    assert "after 4 attempts" in str(err.value) and "HTTP 502: down" in str(err.value)
    assert len(server.requests) == 4


def test_400_fails_at_once_with_the_server_message() -> None:
    body = {"detail": [{"type": "less_than_equal", "loc": ["query", "$skip"],
                        "msg": "Input should be less than or equal to 10000"}]}
    with serve(lambda r: as_json(body, 400)) as server, pytest.raises(InvalidInput) as err:
        list(catalogue("cdse", server.url).search(QUERY))
    assert "HTTP 400" in str(err.value) and "less than or equal to 10000" in str(err.value)
    assert len(server.requests) == 1


def test_401_is_permission_denied() -> None:
    unauthorized = as_json({"error": {"message": "Unauthorized"}}, 401)
    with serve(lambda r: unauthorized) as server, pytest.raises(PermissionDenied, match="Unauthorized"):
        list(catalogue("cdse", server.url).search(QUERY))


def test_html_answer_is_a_clear_input_error() -> None:
    page = (200, {"Content-Type": "text/html"}, b"<html><body>Welcome</body></html>")
    with serve(lambda r: page) as server, pytest.raises(InvalidInput) as err:
        list(catalogue("opensearch", server.url).search(QUERY))
    assert "did not answer JSON (text/html)" in str(err.value)


def test_malformed_json_is_a_clear_input_error() -> None:
    with serve(lambda r: (200, {}, b'{"value": [')) as server, pytest.raises(InvalidInput, match="not answer JSON"):
        list(catalogue("cdse", server.url).search(QUERY))


def test_json_of_the_wrong_shape_is_a_clear_input_error() -> None:
    with serve(lambda r: as_json({"hello": "world"})) as server, pytest.raises(InvalidInput, match="OData"):
        list(catalogue("cdse", server.url).search(QUERY))


def test_a_hanging_server_times_out() -> None:
    release = threading.Event()

    def handle(request: Request) -> Any:
        release.wait(5)
        return as_json({"value": []})

    policy = HttpPolicy(timeout=0.3, retries=1, backoff=0.01, backoff_cap=0.05)
    with serve(handle) as server:
        started = time.monotonic()
        with pytest.raises(Unavailable, match=r"no answer within 0\.3 s"):
            list(catalogue("cdse", server.url, policy).search(QUERY))
        release.set()
    assert time.monotonic() - started < 3


def test_unreachable_catalogue_is_unavailable() -> None:
    policy = HttpPolicy(timeout=0.5, retries=1, backoff=0.01, backoff_cap=0.05)
    with pytest.raises(Unavailable, match="connection failed"):
        list(catalogue("cdse", "http://127.0.0.1:9", policy).search(QUERY))


def test_search_is_lazy() -> None:
    with serve(lambda r: handler(r)) as server:
        handler = odata_catalogue(1000, lambda: server.url)
        products = catalogue("cdse", server.url).search(QUERY)
        assert server.requests == []
        next(products)
        assert len(server.requests) == 1
        for _ in range(150):
            next(products)
        assert len(server.requests) == 2


def test_an_error_on_a_later_page_reaches_the_caller_after_the_earlier_products() -> None:
    def handle(request: Request) -> Any:
        skip = int(request.params.get("$skip", 0))
        if skip:
            return as_json({"detail": "$skip is too large"}, 400)
        return odata_page(server.url, [odata_product(i) for i in range(3)], 3, request.params)

    with serve(handle) as server:
        products = catalogue("cdse", server.url).search(QUERY)
        assert len([next(products) for _ in range(3)]) == 3
        with pytest.raises(InvalidInput, match="too large"):
            next(products)


def test_opensearch_skips_a_feature_with_an_unreadable_geometry() -> None:
    features = [resto_feature(i) for i in range(3)]
    features[1]["geometry"] = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}
    features[2]["geometry"] = {"type": "MultiPolygon", "coordinates": [[[[170, 0], [180, 0], [180, 5], [170, 0]]]]}

    def handle(request: Request) -> Any:
        return as_json({"type": "FeatureCollection", "properties": {"links": []}, "features": features})

    with serve(handle) as server:
        products = list(catalogue("opensearch", server.url).search(QUERY))
    assert [p.id for p in products] == [features[0]["id"], features[2]["id"]]
    assert products[1].footprint_wkt == "MULTIPOLYGON (((170 0, 180 0, 180 5, 170 0)))"


def test_opensearch_pages_and_maps_resto_features() -> None:
    with serve(lambda r: handler(r)) as server:
        handler = resto_catalogue(230, lambda: server.url)
        url = server.url + "/resto/api/collections/Sentinel5P/search.json"
        products = list(catalogue("opensearch", url).search(QUERY))
    assert len(products) == 230 and len({p.id for p in products}) == 230
    first = products[0]
    assert first.href == "s3://eodata/Sentinel-5P/TROPOMI/L2__CO____/2024/01/01/" + first.name
    assert first.size_bytes == 455000000 and first.product_type == "L2__CO____"
    assert first.end.isoformat() == "2024-01-01T00:56:00+00:00"
    params = server.requests[0].params
    assert params == {"productType": "L2__CO____", "startDate": "2024-01-01T00:00:00Z",
                      "completionDate": "2024-01-08T00:00:00Z", "maxRecords": "100", "page": "1",
                      "sortParam": "startDate", "sortOrder": "ascending",
                      "geometry": "POLYGON ((20 40, 20 50, 10 50, 10 40, 20 40))"}
    assert [r.params["page"] for r in server.requests] == ["1", "2", "3"]


def test_opensearch_uses_the_download_url_without_eodata_path() -> None:
    feature = resto_feature(0)
    feature["properties"]["productIdentifier"] = None

    def handle(request: Request) -> Any:
        return as_json({"type": "FeatureCollection", "properties": {"links": []}, "features": [feature]})

    with serve(handle) as server:
        [product] = list(catalogue("opensearch", server.url).search(QUERY))
    assert product.href == "https://zipper.dataspace.copernicus.eu/download/0"


def test_stac_pages_through_a_stac_api() -> None:
    with serve(lambda r: handler(r)) as server:
        handler = stac_api(250, lambda: server.url)
        products = list(catalogue("stac", server.url).search(QUERY))
    assert len(products) == 250
    first = products[0]
    assert first.href.startswith("s3://eodata/") and first.size_bytes == 455000000
    assert first.product_type == "L2__CO____" and first.collection == "SENTINEL-5P"
    searches = [r for r in server.requests if r.path == "/search"]
    assert len(searches) == 3
    body = searches[0].body
    assert body["collections"] == ["SENTINEL-5P"] and body["limit"] == 100
    assert body["intersects"]["type"] == "Polygon"
    assert body["datetime"] == "2024-01-01T00:00:00Z/2024-01-08T00:00:00Z"


def test_stac_server_errors_are_mapped() -> None:
    def handle(request: Request) -> Any:
        if request.path == "/search":
            return as_json({"code": "BadRequest", "description": "unknown collection"}, 400)
        return stac_api(0, lambda: server.url)(request)

    with serve(handle) as server, pytest.raises(InvalidInput, match="unknown collection"):
        list(catalogue("stac", server.url).search(QUERY))


def test_stac_url_answering_html_is_input_error() -> None:
    page = (200, {"Content-Type": "text/html"}, b"<html></html>")
    with serve(lambda r: page) as server, pytest.raises(InvalidInput):
        list(catalogue("stac", server.url).search(QUERY))


def test_unknown_catalogue_and_bad_url_are_input_errors() -> None:
    with pytest.raises(InvalidInput, match="unknown catalogue 'eofinder'"):
        open_catalogue(CatalogueConfig(name="eofinder"))
    with pytest.raises(InvalidInput, match="http"):
        open_catalogue(CatalogueConfig(name="cdse", url="ftp://example"))


def test_footprints_of_a_page_in_one_batch_are_those_converted_one_by_one() -> None:
    geometries: list[Any] = [
        None, resto_feature(0)["geometry"], {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]},
        {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]],
                                                 [[[5, 5], [6, 5], [6, 6], [5, 5]],
                                                  [[5.1, 5.1], [5.2, 5.1], [5.2, 5.2], [5.1, 5.1]]]]},
        {"type": "Polygon", "coordinates": [[[0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 0, 1]]]},
        {"type": "Point", "coordinates": [1, 2]}, {"type": "Polygon", "coordinates": [[[0, 0], [1, 0]]]},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, "x"], [1, 1], [0, 0]]]}, "junk",
    ]
    expected: list[str | None] = []
    for geometry in geometries:
        try:
            expected.append(wkt_of_geojson(geometry))
        except (ValueError, TypeError, AttributeError):
            expected.append(None)
    assert wkts_of_geojson(geometries) == expected
    assert expected[6] is None and expected[8] is None and str(expected[4]).startswith("POLYGON Z")


ACROSS = build_query(aoi="170,-10,-170,10", start="2024-01-01", end="2024-01-08")  # west > east: crosses 180
ACROSS_WKT = ("MULTIPOLYGON (((-170 -10, -180 -10, -180 10, -170 10, -170 -10)), "
              "((170 10, 180 10, 180 -10, 170 -10, 170 10)))")


def test_cdse_sends_an_aoi_across_the_antimeridian_split_at_180() -> None:
    with serve(lambda r: odata_page(server.url, [odata_product(0)], None, r.params)) as server:
        list(catalogue("cdse", server.url).search(ACROSS))
        beyond = build_query(aoi="POLYGON((185 -10,190 -10,190 10,185 10,185 -10))", start="2024-01-01",
                             end="2024-01-08")
        list(catalogue("cdse", server.url).search(beyond))
    first, second = (r.params["$filter"] for r in server.requests)
    assert first.endswith(f" and OData.CSC.Intersects(area=geography'SRID=4326;{ACROSS_WKT}')")
    assert second.endswith(" and OData.CSC.Intersects(area=geography'SRID=4326;"
                           "POLYGON ((-175 10, -170 10, -170 -10, -175 -10, -175 10))')")


def test_opensearch_sends_an_aoi_across_the_antimeridian_split_at_180() -> None:
    with serve(lambda r: handler(r)) as server:
        handler = resto_catalogue(3, lambda: server.url)
        assert len(list(catalogue("opensearch", server.url).search(ACROSS))) == 3
    assert server.requests[0].params["geometry"] == ACROSS_WKT


def test_stac_sends_an_aoi_across_the_antimeridian_split_at_180() -> None:
    with serve(lambda r: handler(r)) as server:
        handler = stac_api(3, lambda: server.url)
        assert len(list(catalogue("stac", server.url).search(ACROSS))) == 3
    [search] = [r for r in server.requests if r.path == "/search"]
    intersects = search.body["intersects"]
    assert intersects["type"] == "MultiPolygon" and len(intersects["coordinates"]) == 2
    longitudes = [x for polygon in intersects["coordinates"] for ring in polygon for x, _ in ring]
    assert min(longitudes) == -180 and max(longitudes) == 180
    assert ACROSS.aoi.bounds == (170, -10, 190, 10)  # the query itself keeps the user's AOI


def test_a_repeated_next_link_ends_paging(caplog: pytest.LogCaptureFixture) -> None:
    with serve(lambda r: repeating_next_link(r, server.url)) as server:
        products = list(catalogue("cdse", server.url).search(QUERY))
    assert len(products) == len({p.id for p in products}) == 6
    assert len(server.requests) == 2
    assert "next link it sent before; paging ends" in caplog.text


def test_a_repeated_resto_next_link_ends_paging() -> None:
    def handle(request: Request) -> Any:
        page = int(request.params.get("page", 1))
        body = {"type": "FeatureCollection", "features": [resto_feature(page)],
                "properties": {"links": [{"rel": "next", "href": f"{server.url}/search.json?page=2"}]}}
        return as_json(body)

    with serve(handle) as server:
        assert len(list(catalogue("opensearch", server.url + "/search.json").search(QUERY))) == 2
    assert [r.params.get("page") for r in server.requests] == ["1", "2"]


def test_an_html_error_page_is_one_line_naming_the_url_path_only() -> None:
    def handle(request: Request) -> Any:
        if "$skip" not in request.params:
            return odata_page(server.url, [odata_product(0)], 1, request.params)
        return 502, {"Content-Type": "text/html"}, NGINX_404.replace(b"404 Not Found", b"502 Bad Gateway")

    with serve(handle) as server, pytest.raises(Unavailable) as err:
        list(catalogue("cdse", server.url).search(QUERY))
    message = str(err.value)
    assert message == (f"catalogue {server.url}/odata/v1/Products failed after 4 attempts: HTTP 502: "
                       "502 Bad Gateway 502 Bad Gateway nginx/1.25.3")
    with serve(lambda r: (404, {"Content-Type": "text/html"}, NGINX_404)) as server:
        with pytest.raises(InvalidInput) as err:
            list(catalogue("cdse", server.url + "/odata/v1").search(QUERY))
        assert str(err.value) == (f"catalogue {server.url}/odata/v1/Products answered HTTP 404: "
                                  "404 Not Found 404 Not Found nginx/1.25.3")
        with pytest.raises(InvalidInput) as err:
            list(catalogue("stac", server.url).search(QUERY))
        assert "\n" not in str(err.value) and "<" not in str(err.value) and "404 Not Found" in str(err.value)


def test_a_long_server_message_is_cut_and_a_non_json_page_quoted_on_one_line() -> None:
    with serve(lambda r: as_json({"detail": "x" * 1000 + "\n" + "y"}, 400)) as server:
        with pytest.raises(InvalidInput) as err:
            list(catalogue("cdse", server.url).search(QUERY))
        assert str(err.value).endswith("x...") and len(str(err.value)) < 400
    with serve(lambda r: (200, {"Content-Type": "text/html"}, NGINX_404)) as server, \
            pytest.raises(InvalidInput) as err:
        list(catalogue("opensearch", server.url + "/search.json?a=b").search(QUERY))
    assert str(err.value) == (f"{server.url}/search.json did not answer JSON (text/html): '404 Not Found 404 Not "
                              "Found nginx/1.25.3'; is it a catalogue API URL?")
