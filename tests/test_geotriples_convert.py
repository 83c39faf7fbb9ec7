"""Round trips through generated mappings: geometries, datatypes, CRS IRIs, formats, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
from rdflib import Literal, URIRef

from components.common.errors import InvalidInput, NotFound, PermissionDenied, UnreadableData
from components.geotriples_adapter.convert import confine, convert, dump, mapping_for
from components.geotriples_adapter.engine import Options
from components.geotriples_adapter.functions import GEOMETRY_FUNCTIONS, CrsContext
from onboarding.cli import main
from tests.geotriples_helpers import (
    FEATURES,
    GEO,
    GML,
    KML,
    XSD,
    parse,
    wkt_values,
    write_csv,
    write_geojson,
    write_lonlat_csv,
    write_shapefile,
)

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"


def _text(conversion) -> str:  # type: ignore[no-untyped-def]
    return "".join(conversion.chunks())


def _geometry(literal: str) -> tuple[str, shapely.Geometry]:
    crs, _, wkt = literal.partition("> ")
    return crs.lstrip("<"), shapely.from_wkt(wkt)


@pytest.mark.parametrize("writer", [write_geojson, write_csv])
def test_geometries_round_trip(tmp_path: Path, writer) -> None:  # type: ignore[no-untyped-def]
    graph = parse(_text(convert(writer(tmp_path), base_iri="http://ex.org/")))
    wkts = wkt_values(graph)
    assert len(wkts) == len(FEATURES)
    for n, (*_, wkt) in enumerate(FEATURES, 1):
        crs, geom = _geometry(wkts[f"http://ex.org/places/id/{n}"])
        assert crs == EPSG + "4326"
        assert geom.equals(shapely.from_wkt(wkt)) and shapely.equals_exact(geom, shapely.from_wkt(wkt), 0)


def test_generated_shape_and_datatypes(tmp_path: Path) -> None:
    graph = parse(_text(convert(write_geojson(tmp_path), base_iri="http://ex.org")), "nt")
    feature, geometry = URIRef("http://ex.org/places/id/2"), URIRef("http://ex.org/places/Geometry/2")
    onto = "http://ex.org/ontology#"
    assert (feature, URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), URIRef(onto + "places")) in graph
    assert (feature, URIRef(GEO + "hasGeometry"), geometry) in graph
    assert (geometry, URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), URIRef(GEO + "Geometry")) in graph
    assert graph.value(feature, URIRef(onto + "hasName")) == Literal('Quote "q" \\ river')
    assert graph.value(feature, URIRef(onto + "hasCount")) == Literal("-3", datatype=URIRef(XSD + "integer"))
    assert graph.value(feature, URIRef(onto + "hasRatio")) == Literal("0.25", datatype=URIRef(XSD + "double"))
    assert graph.value(feature, URIRef(onto + "hasOpen")) == Literal("false", datatype=URIRef(XSD + "boolean"))
    wkt = graph.value(geometry, URIRef(GEO + "asWKT"))
    assert wkt.datatype == URIRef(GEO + "wktLiteral")
    values = {p.split("#")[1]: o.toPython() for p, o in graph.predicate_objects(geometry) if "#" in p}
    assert values["dimension"] == 1 and values["coordinateDimension"] == 2 and values["spatialDimension"] == 2
    assert values["isEmpty"] is False and values["isSimple"] is True and values["is3D"] is False


def test_shapefile_crs_from_prj_and_types(tmp_path: Path) -> None:
    graph = parse(_text(convert(write_shapefile(tmp_path))))
    wkts = wkt_values(graph)
    crs, geom = _geometry(wkts["http://example.com/parcels/id/2"])
    assert crs == EPSG + "32634"
    assert geom.equals(shapely.from_wkt("POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0), (2 2, 4 2, 4 4, 2 4, 2 2))"))
    onto = "http://example.com/ontology#"
    feature = URIRef("http://example.com/parcels/id/1")
    assert graph.value(feature, URIRef(onto + "hasCode")) == Literal("1", datatype=URIRef(XSD + "integer"))
    assert graph.value(feature, URIRef(onto + "hasArea")).toPython() == 10000.5
    assert graph.value(feature, URIRef(onto + "hasSince")) == Literal("2020-01-15", datatype=URIRef(XSD + "date"))


def test_shapefile_without_prj_defaults_to_4326_or_the_epsg_option(tmp_path: Path) -> None:
    wkts = wkt_values(parse(_text(convert(write_shapefile(tmp_path, prj=None)))))
    assert all(w.startswith(f"<{EPSG}4326> ") for w in wkts.values())
    wkts = wkt_values(parse(_text(convert(write_shapefile(tmp_path, prj=None), options=Options(epsg=2100)))))
    assert all(w.startswith(f"<{EPSG}2100> ") for w in wkts.values())
    wkts = wkt_values(parse(_text(convert(write_shapefile(tmp_path), options=Options(epsg=2100)))))
    assert all(w.startswith(f"<{EPSG}32634> ") for w in wkts.values())  # the .prj wins


def test_lon_lat_columns_make_points_and_stay_attributes(tmp_path: Path) -> None:
    graph = parse(_text(convert(write_lonlat_csv(tmp_path))))
    wkts = wkt_values(graph)
    assert _geometry(wkts["http://example.com/stations/id/2"])[1].equals(shapely.Point(-3.25, 40.5))
    feature, onto = URIRef("http://example.com/stations/id/2"), "http://example.com/ontology#"
    assert graph.value(feature, URIRef(onto + "hasLon")) == Literal("-3.25", datatype=URIRef(XSD + "double"))
    assert graph.value(feature, URIRef(onto + "hasLat")) == Literal("40.5", datatype=URIRef(XSD + "double"))


@pytest.mark.parametrize(("name", "delimiter"), [("semi.csv", ";"), ("pipes.csv", "|"), ("tabs.csv", "\t"),
                                                 ("commas.tsv", ","), ("tabs.tsv", "\t")])
def test_csv_delimiter_read_from_the_header(tmp_path: Path, name: str, delimiter: str) -> None:
    import csv

    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, delimiter=delimiter)
        out.writerow(["name", "count", "ratio", "WKT"])
        for n, c, r, _o, w in FEATURES:
            out.writerow([n, c, r, w])
    mapping = mapping_for(path)
    assert ("csvw:delimiter" in mapping) == (delimiter != ("\t" if name.endswith(".tsv") else ","))
    graph = parse(_text(convert(path)))
    wkts = wkt_values(graph)
    for n, (label, count, _ratio, _open, wkt) in enumerate(FEATURES, 1):
        feature = f"http://example.com/{path.stem}/id/{n}"
        assert _geometry(wkts[feature])[1].equals(shapely.from_wkt(wkt))
        assert graph.value(URIRef(feature), URIRef("http://example.com/ontology#hasName")) == Literal(label)
        assert graph.value(URIRef(feature), URIRef("http://example.com/ontology#hasCount")).toPython() == count


def test_csv_without_geometry_column_names_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("id;name\n1;a\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"no geometry column .* among \['id', 'name'\] \(columns split at ';'\)"):
        mapping_for(path)


def test_kml_placemarks(tmp_path: Path) -> None:
    path = tmp_path / "sites.kml"
    path.write_text(KML, encoding="utf-8")
    graph = parse(_text(convert(path)))
    wkts = wkt_values(graph)
    point = _geometry(wkts["http://example.com/sites/id/1"])[1]
    assert point.has_z and (point.x, point.y, point.z) == (23.7257, 37.9715, 156)
    geometry = URIRef("http://example.com/sites/Geometry/1")
    assert graph.value(geometry, URIRef(GEO + "is3D")).toPython() is True
    assert graph.value(geometry, URIRef(GEO + "coordinateDimension")).toPython() == 3
    assert graph.value(URIRef("http://example.com/sites/id/1"),
                       URIRef("http://example.com/ontology#hasHeight")) == Literal("156")


def test_gml_feature_names_become_safe_layer_names(tmp_path: Path) -> None:
    path = tmp_path / "rivers.gml"
    path.write_text(GML.replace("app:River>", "app:River.v2>"), encoding="utf-8")
    graph = parse(_text(convert(path)))
    assert "http://example.com/River_v2/id/2" in wkt_values(graph)


def test_gml_features_keep_their_srs(tmp_path: Path) -> None:
    path = tmp_path / "rivers.gml"
    path.write_text(GML, encoding="utf-8")
    wkts = wkt_values(parse(_text(convert(path))))
    crs, geom = _geometry(wkts["http://example.com/River/id/2"])
    assert crs == EPSG + "2100"
    assert geom.equals(shapely.from_wkt("LINESTRING (300000 4400000, 310000 4410000, 320000 4400000)"))


@pytest.mark.parametrize("fmt", ["ntriples", "turtle", "nquads"])
def test_output_formats_parse(tmp_path: Path, fmt: str) -> None:
    text = _text(convert(write_geojson(tmp_path), rdf_format=fmt, options=Options(batch_size=3)))
    graph = parse(text, fmt)
    assert len(graph) == len(parse(_text(convert(write_geojson(tmp_path))))) == 4 * 14


def test_strdf(tmp_path: Path) -> None:
    graph = parse(_text(convert(write_geojson(tmp_path), options=Options(strdf=True))))
    wkt = graph.value(URIRef("http://example.com/places/Geometry/3"), URIRef(GEO + "asWKT"))
    assert wkt.datatype == URIRef("http://strdf.di.uoa.gr/ontology#WKT")
    assert str(wkt) == f"POINT (23.727539 37.98381);{EPSG}4326"


def test_dump_resolves_sources_relative_to_mapping(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    source = write_geojson(data)
    mapping = tmp_path / "maps" / "m.ttl"
    mapping.parent.mkdir()
    mapping.write_text(mapping_for(source, relative_to=mapping.parent), encoding="utf-8")
    assert '"../data/places.geojson"' in mapping.read_text()
    assert len(parse(_text(dump(mapping)))) == 56


def test_invalid_geometry_names_feature_or_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text('id,WKT\n1,POINT (1 2)\n2,"POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))"\n3,NOT WKT\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"feature 2 of bad\.csv: invalid geometry: Self-intersection"):
        _text(convert(path))
    conversion = convert(path, options=Options(skip_invalid=True))
    graph = parse(_text(conversion))
    assert conversion.stats.skipped == 2
    assert set(wkt_values(graph)) == {"http://example.com/bad/id/1"}


def _features_file(tmp_path: Path, geometries: list[object]) -> Path:
    features = [{"type": "Feature", "properties": {"name": f"f{i}"}, "geometry": g}
                for i, g in enumerate(geometries, 1)]
    path = tmp_path / "things.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def test_an_open_polygon_ring_is_closed_and_said_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    square = [[0, 0], [1, 0], [1, 1], [0, 1]]
    path = _features_file(tmp_path, [
        {"type": "Polygon", "coordinates": [square]},  # open
        {"type": "Polygon", "coordinates": [[*square, [0, 0]]]},  # closed
        {"type": "MultiPolygon", "coordinates": [[[[5, 5], [6, 5], [6, 6], [5, 5]]], [[[8, 8], [9, 8], [9, 9]]]]},
    ])
    conversion = convert(path)
    wkts = wkt_values(parse(_text(conversion)))
    assert conversion.stats.closed_rings == 2
    assert "POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))" in wkts["http://example.com/things/id/1"]
    assert [r.getMessage() for r in caplog.records] == [
        f"feature {n} of things.geojson: a polygon ring does not end on its first position (GeoJSON requires it); "
        "closed it" for n in (1, 3)]


def test_a_feature_without_geometry_gets_no_geometry_node(tmp_path: Path) -> None:
    path = _features_file(tmp_path, [{"type": "Point", "coordinates": [1, 2]}, None])
    conversion = convert(path)
    graph = parse(_text(conversion))
    assert conversion.stats.without_geometry == 1
    feature, geometry = URIRef("http://example.com/things/id/2"), URIRef("http://example.com/things/Geometry/2")
    assert graph.value(feature, URIRef("http://example.com/ontology#hasName")) == Literal("f2")
    assert not list(graph.triples((feature, URIRef(GEO + "hasGeometry"), None)))
    assert not list(graph.triples((geometry, None, None)))
    assert set(wkt_values(graph)) == {"http://example.com/things/id/1"}


def test_the_cli_says_what_it_closed_and_left_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _features_file(tmp_path, [{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]}, None])
    assert main(["geotriples", "convert", str(path), "-o", str(tmp_path / "out.nt")]) == 0
    assert capsys.readouterr().err.splitlines()[-1] == (
        "13 triples, 1 feature with a polygon ring closed (left open in the input), 1 feature without geometry "
        "(no geo:Geometry made)")
    assert main(["geotriples", "convert", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (f"ai4cop geotriples: error: input file {tmp_path} is a folder: give one "
                                       "Shapefile (.shp), GeoJSON, CSV/TSV, KML or GML file\n")


def test_bad_mappings(tmp_path: Path) -> None:
    source = write_geojson(tmp_path)
    unknown = mapping_for(source).replace("rrxf:isSimple", "rrxf:isFancy")
    with pytest.raises(InvalidInput, match=r"mapping line \d+: unknown function .*isFancy"):
        _text(convert(source, mapping_text=unknown))
    not_rml = "@prefix ex: <http://ex.org/> . ex:a ex:b ex:c ."
    with pytest.raises(InvalidInput, match="not an RML mapping"):
        convert(source, mapping_text=not_rml)
    with pytest.raises(InvalidInput, match="not valid Turtle"):
        convert(source, mapping_text="this is { not turtle")


def test_unreadable_inputs(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        convert(tmp_path / "missing.geojson")
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [{"type": ', encoding="utf-8")
    with pytest.raises(UnreadableData):
        _text(convert(broken))
    fake = tmp_path / "fake.shp"
    fake.write_bytes(b"not a shapefile")
    with pytest.raises(UnreadableData):
        convert(fake)
    with pytest.raises(InvalidInput, match="cannot tell the format"):
        convert(tmp_path / "x.bin", mapping_text=None) if (tmp_path / "x.bin").write_text("x") else None


def test_geotriples_function_fixes() -> None:
    geoms = shapely.from_wkt(["POINT Z (1 2 3)", "POLYGON ((0 0, 1 0, 1 1, 0 0))", "LINESTRING (0 0, 1 1, 2 0)"])
    ctx = CrsContext(4326)
    assert GEOMETRY_FUNCTIONS["is3D"](geoms, ctx) == [True, False, False]
    assert GEOMETRY_FUNCTIONS["dimension"](geoms, ctx) == [0, 2, 1]
    assert GEOMETRY_FUNCTIONS["coordinateDimension"](geoms, ctx) == [3, 2, 2]
    assert GEOMETRY_FUNCTIONS["spatialDimension"](geoms, ctx) == [3, 2, 2]
    assert GEOMETRY_FUNCTIONS["area"](geoms, ctx)[1] == 0.5
    gml = GEOMETRY_FUNCTIONS["asGML"](geoms[1:2], ctx)[0]
    assert gml.startswith('<gml:Polygon srsName="http://www.opengis.net/def/crs/EPSG/0/4326" xmlns:gml=')


def test_confine(tmp_path: Path) -> None:
    root = tmp_path / "shared"
    root.mkdir()
    (root / "a.geojson").write_text("{}")
    outside = tmp_path / "secret.csv"
    outside.write_text("x")
    (root / "link.csv").symlink_to(outside)
    assert confine(root, "a.geojson") == (root / "a.geojson").resolve()
    assert confine(root, str(root / "a.geojson")) == (root / "a.geojson").resolve()
    for bad in ["../secret.csv", "link.csv", str(outside), "sub/../../secret.csv"]:
        with pytest.raises(PermissionDenied):
            confine(root, bad)
