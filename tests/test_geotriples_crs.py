"""CRS IRIs of asWKT/asGML: CRS84 stays CRS84 (GeoSPARQL's default, longitude/latitude), EPSG:4326 in its URN/IRI
forms is latitude/longitude and keeps that order, GML's legacy EPSG:4326 forms are longitude/latitude (CRS84)."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely
from rdflib import URIRef

from components.geotriples_adapter.convert import convert
from components.geotriples_adapter.engine import Options
from components.geotriples_adapter.geometry import epsg_of, gml_srid
from components.geotriples_adapter.terms import CRS84, CRS84_IRI
from tests.geotriples_helpers import GEO, parse, wkt_values

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
GML_FEATURE = """<?xml version="1.0" encoding="UTF-8"?>
<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs" xmlns:gml="http://www.opengis.net/gml"
    xmlns:app="http://example.org/app">
 <gml:featureMember><app:Site><app:name>Athens</app:name>
  <app:geom><gml:Point srsName="{srs}"><gml:pos>{pos}</gml:pos></gml:Point></app:geom></app:Site></gml:featureMember>
</wfs:FeatureCollection>
"""


@pytest.mark.parametrize(("srs", "pos", "iri", "wkt"), [
    ("urn:ogc:def:crs:OGC:1.3:CRS84", "23.7 37.9", CRS84_IRI, "POINT (23.7 37.9)"),
    (CRS84_IRI, "23.7 37.9", CRS84_IRI, "POINT (23.7 37.9)"),
    # EPSG:4326 proper is latitude/longitude: the coordinates keep that order under the EPSG IRI
    ("urn:ogc:def:crs:EPSG::4326", "37.9 23.7", EPSG + "4326", "POINT (37.9 23.7)"),
    (EPSG + "4326", "37.9 23.7", EPSG + "4326", "POINT (37.9 23.7)"),
    # the legacy forms are longitude/latitude by convention: that is CRS84
    ("EPSG:4326", "23.7 37.9", CRS84_IRI, "POINT (23.7 37.9)"),
    ("http://www.opengis.net/gml/srs/epsg.xml#4326", "23.7 37.9", CRS84_IRI, "POINT (23.7 37.9)"),
    ("EPSG:2100", "476000 4200000", EPSG + "2100", "POINT (476000 4200000)"),
])
def test_gml_srs_names(tmp_path: Path, srs: str, pos: str, iri: str, wkt: str) -> None:
    path = tmp_path / "sites.gml"
    path.write_text(GML_FEATURE.format(srs=srs, pos=pos), encoding="utf-8")
    graph = parse("".join(convert(path).chunks()))
    crs, _, text = wkt_values(graph)["http://example.com/Site/id/1"].partition("> ")
    assert crs == "<" + iri
    assert shapely.equals_exact(shapely.from_wkt(text), shapely.from_wkt(wkt), 0)
    gml = "".join(convert(path, mapping_text=_as_gml_mapping(path)).chunks())
    assert f'srsName=\\"{iri}\\"' in gml


def _as_gml_mapping(path: Path) -> str:
    from components.geotriples_adapter.convert import mapping_for

    return mapping_for(path).replace("rrxf:asWKT", "rrxf:asGML")


def test_wkt_with_crs84_prefix_and_strdf(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text(f'id,WKT\n1,"<{CRS84_IRI}> POINT (23.7 37.9)"\n2,POINT (1 2)\n', encoding="utf-8")
    wkts = wkt_values(parse("".join(convert(path).chunks())))
    assert wkts["http://example.com/points/id/1"] == f"<{CRS84_IRI}> POINT (23.7 37.9)"
    assert wkts["http://example.com/points/id/2"] == f"<{EPSG}4326> POINT (1 2)"
    graph = parse("".join(convert(path, options=Options(strdf=True)).chunks()))
    value = graph.value(URIRef("http://example.com/points/Geometry/1"), URIRef(GEO + "asWKT"))
    assert str(value) == f"POINT (23.7 37.9);{CRS84_IRI}"


def test_crs_names() -> None:
    for name in ["CRS84", "CRS:84", "OGC:CRS84", "urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84",
                 CRS84_IRI]:
        assert epsg_of(name) == CRS84, name
    assert epsg_of("urn:ogc:def:crs:EPSG::32634") == 32634
    assert epsg_of("EPSG:4326") == 4326  # outside GML (e.g. a Shapefile's .prj as GDAL names it): EPSG:4326
    assert gml_srid("EPSG:4326") == CRS84
    assert gml_srid("urn:x-ogc:def:crs:EPSG:4326") == 4326
    assert epsg_of("not a crs") is None and epsg_of(None) is None
