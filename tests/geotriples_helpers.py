"""Shared fixtures of the GeoTriples adapter tests: small inputs of every format, and the shared test material."""

from __future__ import annotations

import json
from pathlib import Path

import shapefile
import shapely
from rdflib import Graph

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
LINKED = SHARED / "data" / "linked"
RML_CASES = LINKED / "rml-test-cases" / "test-cases"
GSB_DATASET = LINKED / "geosparql-compliance-benchmark" / "gsb_dataset"

GEO = "http://www.opengis.net/ont/geosparql#"
XSD = "http://www.w3.org/2001/XMLSchema#"

FEATURES = [
    ("Lake", 12, 3.5, True, "POLYGON ((0 0, 0 1, 1 1, 1 0, 0 0), (0.2 0.2, 0.2 0.4, 0.4 0.4, 0.4 0.2, 0.2 0.2))"),
    ('Quote "q" \\ river', -3, 0.25, False, "LINESTRING (10.5 45.25, 11 46, 12.125 46.5)"),
    ("Église", 0, -1.0, True, "POINT (23.727539 37.983810)"),
    ("Islands", 7, 2.0, False,
     "MULTIPOLYGON (((20 30, 20 31, 21 31, 20 30)), ((22 30, 22 31, 23 31, 22 30)))"),
]
UTM_PRJ = ('PROJCS["WGS 84 / UTM zone 34N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],'
           'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
           'PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",21],PARAMETER["scale_factor",0.9996],'
           'PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1],'
           'AUTHORITY["EPSG","32634"]]')


def write_geojson(folder: Path, name: str = "places.geojson") -> Path:
    features = [{"type": "Feature", "properties": {"name": n, "count": c, "ratio": r, "open": o},
                 "geometry": json.loads(shapely.to_geojson(shapely.from_wkt(w)))} for n, c, r, o, w in FEATURES]
    path = folder / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def write_csv(folder: Path, name: str = "places.csv") -> Path:
    import csv

    path = folder / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["name", "count", "ratio", "WKT"])
        for n, c, r, _o, w in FEATURES:
            out.writerow([n, c, r, w])
    return path


def write_lonlat_csv(folder: Path) -> Path:
    path = folder / "stations.tsv"
    path.write_text("id\tlon\tlat\n1\t23.5\t37.9\n2\t-3.25\t40.5\n", encoding="utf-8")
    return path


def write_shapefile(folder: Path, prj: str | None = UTM_PRJ) -> Path:
    """Polygons (shapefile rings are clockwise), with integer, float, string and date fields."""
    path = folder / "parcels.shp"
    with shapefile.Writer(str(path), shapeType=shapefile.POLYGON) as writer:
        writer.field("code", "N", 10, 0)
        writer.field("area", "N", 12, 3)
        writer.field("owner", "C", 30)
        writer.field("since", "D")
        writer.poly([[(500000, 4200000), (500000, 4200100), (500100, 4200100), (500100, 4200000),
                      (500000, 4200000)]])
        writer.record(1, 10000.5, "Demeter", "20200115")
        writer.poly([[(0, 0), (0, 10), (10, 10), (10, 0), (0, 0)], [(2, 2), (4, 2), (4, 4), (2, 4), (2, 2)]])
        writer.record(2, 96.0, "Hermes", "19991231")
    if prj:
        path.with_suffix(".prj").write_text(prj, encoding="utf-8")
    return path


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>Acropolis</name><description>hill</description>
 <ExtendedData><Data name="height"><value>156</value></Data></ExtendedData>
 <Point><coordinates>23.7257,37.9715,156</coordinates></Point></Placemark>
<Placemark><name>Field</name>
 <Polygon><outerBoundaryIs><LinearRing><coordinates>0,0 0,1 1,1 0,0</coordinates></LinearRing></outerBoundaryIs>
 </Polygon></Placemark>
</Document></kml>
"""

GML = """<?xml version="1.0" encoding="UTF-8"?>
<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs" xmlns:gml="http://www.opengis.net/gml"
    xmlns:app="http://example.org/app">
 <gml:featureMember><app:River><app:name>Axios</app:name><app:length>380</app:length>
  <app:geom><gml:LineString srsName="EPSG:2100"><gml:posList>400000 4500000 401000 4501000</gml:posList>
  </gml:LineString></app:geom></app:River></gml:featureMember>
 <gml:featureMember><app:River><app:name>Aliakmonas</app:name><app:length>297</app:length>
  <app:geom><gml:LineString srsName="EPSG:2100"><gml:posList>300000 4400000 310000 4410000 320000 4400000</gml:posList>
  </gml:LineString></app:geom></app:River></gml:featureMember>
</wfs:FeatureCollection>
"""


def parse(text: str, fmt: str = "nt") -> Graph:
    graph = Graph()
    graph.parse(data=text, format={"ntriples": "nt", "nquads": "nquads", "turtle": "turtle"}.get(fmt, fmt))
    return graph


def wkt_values(graph: Graph) -> dict[str, str]:
    """Feature IRI -> the asWKT lexical form of its geometry."""
    out = {}
    for feature, geometry in graph.subject_objects(predicate=_uri(GEO + "hasGeometry")):
        for wkt in graph.objects(geometry, _uri(GEO + "asWKT")):
            out[str(feature)] = str(wkt)
    return out


def _uri(text: str):  # type: ignore[no-untyped-def]
    from rdflib import URIRef

    return URIRef(text)
