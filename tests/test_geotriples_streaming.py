"""Streamed sources give what the whole-document readers give: XML (iterparse, cleared batch by batch), JSON
iterators of keys and ``[*]``, and GeoJSON geometries built in batches (against GEOS' own GeoJSON reader)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
from rdflib.compare import isomorphic

from components.geotriples_adapter.convert import convert
from components.geotriples_adapter.engine import Options
from components.geotriples_adapter.geojson import from_dicts
from components.geotriples_adapter.geometry import coerce
from components.geotriples_adapter.mapping import parse_mapping
from components.geotriples_adapter.sources import ijson_prefix, open_source
from components.geotriples_adapter.xmlsource import StreamedXmlSource
from tests.geotriples_helpers import parse

NESTED_XML = """<root><group name="a"><item id="1"><v>one</v><item id="2"><v>two</v></item></item>
<item id="3"><v>three</v></item><skip><big>filler</big></skip></group>
<group name="b"><item id="4"><v>four</v></item><item id="5"><v>five</v></item></group></root>"""

MAPPING = """@prefix rr: <http://www.w3.org/ns/r2rml#> . @prefix rml: <http://semweb.mmlab.be/ns/rml#> .
@prefix ql: <http://semweb.mmlab.be/ns/ql#> .
<http://ex.org/m> rml:logicalSource [ rml:source "{source}" ; rml:referenceFormulation ql:{ql} ;
  rml:iterator "{iterator}" ] ;
 rr:subjectMap [ rr:template "http://ex.org/item/{{{id}}}" ] ;
 rr:predicateObjectMap [ rr:predicate <http://ex.org/v> ; rr:objectMap [ rml:reference "{value}" ] ] .
"""


def _run(folder: Path, text: str, batch_size: int) -> str:
    from components.geotriples_adapter.engine import Engine
    from components.geotriples_adapter.writers import serialise

    mapping = parse_mapping(text, folder)
    return "".join(serialise(Engine(mapping, Options(batch_size=batch_size)).quads(), "ntriples"))


def _mapping(source: str, ql: str, iterator: str, id_ref: str, value: str) -> str:
    return MAPPING.format(source=source, ql=ql, iterator=iterator, id=id_ref, value=value)


@pytest.mark.parametrize("batch_size", [1, 2, 100])
def test_xml_descendant_iterator_streams_in_document_order(tmp_path: Path, batch_size: int) -> None:
    (tmp_path / "items.xml").write_text(NESTED_XML, encoding="utf-8")
    streamed = _mapping("items.xml", "XPath", "//item", "@id", "v")
    loaded = _mapping("items.xml", "XPath", "//item[true()]", "@id", "v")  # a predicate: not streamable
    mapping = parse_mapping(streamed, tmp_path)
    source = open_source(next(iter(mapping.triples_maps.values())).source, mapping)
    assert isinstance(source, StreamedXmlSource)
    ids = [r.get("id") for b in source.batches(batch_size) for r in b.records]
    assert ids == ["1", "2", "3", "4", "5"]  # XPath's document order, nested item after its container
    got, want = _run(tmp_path, streamed, batch_size), _run(tmp_path, loaded, batch_size)
    assert isomorphic(parse(got), parse(want)) and len(parse(got)) == 5


def test_xml_absolute_path_and_references_leaving_the_record(tmp_path: Path) -> None:
    (tmp_path / "items.xml").write_text(NESTED_XML, encoding="utf-8")
    graph = parse(_run(tmp_path, _mapping("items.xml", "XPath", "/root/group/item", "@id", "v"), 1))
    assert {str(s).rsplit("/", 1)[1] for s in graph.subjects()} == {"1", "3", "4", "5"}
    # a reference to the parent group: read from the whole document, still right
    text = _mapping("items.xml", "XPath", "/root/group/item", "@id", "../@name")
    mapping = parse_mapping(text, tmp_path)
    assert not isinstance(open_source(next(iter(mapping.triples_maps.values())).source, mapping),
                          StreamedXmlSource)
    values = {str(o) for o in parse(_run(tmp_path, text, 1)).objects()}
    assert values == {"a", "b"}


def test_xml_streamed_release_keeps_memory_to_a_batch(tmp_path: Path) -> None:
    items = "".join(f'<item id="{i}"><v>{"x" * 100}</v></item>' for i in range(1000))
    (tmp_path / "many.xml").write_text(f"<root><group>{items}</group></root>", encoding="utf-8")
    mapping = parse_mapping(_mapping("many.xml", "XPath", "//item", "@id", "v"), tmp_path)
    source = open_source(next(iter(mapping.triples_maps.values())).source, mapping)
    before = [sum(1 for _ in batch.records[0].itersiblings(preceding=True)) for batch in source.batches(50)]
    assert len(before) == 20 and max(before) <= 1  # earlier batches are gone from the tree (but the last record)


@pytest.mark.parametrize(("iterator", "prefix"), [
    ("$.features[*]", "features.item"), ("$['a b'][*].c[*]", "a b.item.c.item"), ("$", ""), ("$.a", "a"),
    ("$.a.*", "a.item"), ("$..a", None), ("$.a[?(@.b)]", None), ("$.item[*]", None), ("$[0]", None),
])
def test_ijson_prefix(iterator: str, prefix: str | None) -> None:
    assert ijson_prefix(iterator) == prefix


def test_json_nested_iterator_streams(tmp_path: Path) -> None:
    document = {"groups": [{"items": [{"id": 1, "v": "one"}, {"id": 2, "v": None}]}, {"items": [{"id": 3, "v": "x"}]}]}
    (tmp_path / "d.json").write_text(json.dumps(document), encoding="utf-8")
    streamed = parse(_run(tmp_path, _mapping("d.json", "JSONPath", "$.groups[*].items[*]", "id", "v"), 1))
    loaded = parse(_run(tmp_path, _mapping("d.json", "JSONPath", "$..items[*]", "id", "v"), 1))
    assert isomorphic(streamed, loaded) and len(streamed) == 2


GEOJSON_CASES = [
    {"type": "Point", "coordinates": [1, 2]},
    {"type": "LineString", "coordinates": [[0, 0], [1, 1], [2, 0.5]]},
    {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [0, 0]], [[0.1, 0.2], [0.2, 0.3], [0.3, 0.2],
                                                                         [0.1, 0.2]]]},
    {"type": "MultiPoint", "coordinates": [[0, 0], [5, 5]]},
    {"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[2, 2], [3, 3], [4, 2]]]},
    {"type": "MultiPolygon", "coordinates": [[[[0, 0], [0, 1], [1, 1], [0, 0]]], [[[5, 5], [5, 6], [6, 6], [5, 5]]]]},
]


@pytest.mark.parametrize("values", [
    [*GEOJSON_CASES, None, *GEOJSON_CASES],
    [{"type": "Point", "coordinates": [1.5, 2.25, 3]}, {"type": "LineString", "coordinates": [[0, 0, 1], [1, 1, 2]]}],
])
def test_geojson_batches_match_geos_reader(values: list[object]) -> None:
    built = from_dicts(values)
    assert built is not None
    for value, geom in zip(values, built, strict=True):
        if value is None:
            assert geom is None
        else:
            expected = shapely.from_geojson(json.dumps(value))
            assert shapely.to_wkt(geom, rounding_precision=-1) == shapely.to_wkt(expected, rounding_precision=-1)


@pytest.mark.parametrize("odd", [
    {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1, 2]}]},
    {"type": "Polygon", "coordinates": []},
    {"type": "Point", "coordinates": ["a", "b"]},
    {"type": "LineString", "coordinates": [[0, 0], [1, 1, 1]]},
    {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]},
    {"type": "Blob"},
    "POINT (1 2)",
])
def test_geojson_batches_leave_odd_values_to_the_general_reader(odd: object) -> None:
    values = [GEOJSON_CASES[0], odd]
    assert from_dicts(values) is None
    geoms, reasons = coerce(values)  # the general path still reads or explains each value
    assert geoms[0] is not None and (geoms[1] is not None or reasons[1])


def test_unclosed_ring_is_closed_like_shapely_shape(tmp_path: Path) -> None:
    feature = {"type": "Feature", "properties": {"n": 1},
               "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0]]]}}
    path = tmp_path / "open.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    text = "".join(convert(path).chunks())
    assert "POLYGON ((0 0, 0 1, 1 1, 1 0, 0 0))" in text


def _ijson_items(path: Path, key: str) -> list[object]:
    import ijson

    with path.open("rb") as handle:
        return list(ijson.items(handle, f"{key}.item", use_float=True))


TRICKY_FEATURES = [
    {"type": "Feature", "properties": {"s": 'a},{"b', "q": "x\\\"},{", "u": "Ελλάδα ☃ 𝄞"},
     "geometry": {"type": "Point", "coordinates": [1.5, -2]}},
    {"type": "Feature", "properties": {"list": [{"a": 1}, {"b": 2}, {"c": [{}, {}]}], "n": None, "big": 2**62},
     "geometry": {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [0, 0]},
                                                              {"type": "Point", "coordinates": [1, 1]}]}},
    {"type": "Feature", "properties": {}, "geometry": None},
]


@pytest.mark.parametrize("block", [7, 64, 1 << 20])
@pytest.mark.parametrize("layout", ["compact", "spaced", "members"])
def test_array_blocks_match_ijson(tmp_path: Path, block: int, layout: str) -> None:
    from components.geotriples_adapter.jsonarray import array_objects

    features = TRICKY_FEATURES * 7
    if layout == "compact":
        text = json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))
    elif layout == "spaced":
        text = json.dumps({"type": "FeatureCollection", "features": features}, indent=2, ensure_ascii=False)
    else:
        text = json.dumps({"name": "x", "crs": {"features": [1]}, "features": features, "bbox": [0, 0, 1, 1]})
    path = tmp_path / "f.geojson"
    path.write_text(text, encoding="utf-8")
    items = array_objects(path, "features", block)
    assert items is not None
    assert list(items) == _ijson_items(path, "features") == features


@pytest.mark.parametrize(("text", "readable"), [
    ('{"features": []}', True),
    ('{"type": "FeatureCollection", "features": [{"a": 1}, {"a": 2}], "bbox": [1]}', True),
    ('{"type": "FeatureCollection", "features": [{"a": 1}, {"a": 2}', False),  # truncated
    ('{"type": "FeatureCollection", "features": [{"a": 1}, {"a": 2}]} trailing', False),
    ('{"type": "FeatureCollection", "features": [{"a": 1}, {"a": oops}]}', False),
    ('{"type": FeatureCollection, "features": [{"a": 1}]}', False),  # bad JSON before the array
])
def test_array_blocks_errors(tmp_path: Path, text: str, readable: bool) -> None:
    from components.common.errors import UnreadableData
    from components.geotriples_adapter.jsonarray import array_objects

    path = tmp_path / "f.json"
    path.write_text(text, encoding="utf-8")
    items = array_objects(path, "features", 8)
    assert items is not None
    if readable:
        assert list(items) == json.loads(text)["features"]
    else:
        with pytest.raises(UnreadableData, match="not valid JSON"):
            list(items)


@pytest.mark.parametrize("text", ['[{"a": 1}]', '{"other": {"features": [{"a": 1}]}}', '{"features": [1, 2]}',
                                  '{"features": {"a": 1}}'])
def test_array_blocks_leave_other_layouts_to_ijson(tmp_path: Path, text: str) -> None:
    from components.geotriples_adapter.jsonarray import array_objects

    path = tmp_path / "f.json"
    path.write_text(text, encoding="utf-8")
    assert array_objects(path, "features") is None


def test_array_blocks_items_longer_than_a_block_and_errors_inside(tmp_path: Path) -> None:
    from components.common.errors import UnreadableData
    from components.geotriples_adapter.jsonarray import array_objects

    features = [{"p": {"long": "y" * 5000, "nested": [{"a": i} for i in range(300)]}}, {"p": {}}] * 3
    path = tmp_path / "long.json"
    path.write_text(json.dumps({"features": features}), encoding="utf-8")
    items = array_objects(path, "features", 16)
    assert items is not None and list(items) == features
    broken = tmp_path / "broken.json"
    broken.write_text('{"features": [' + ", ".join(['{"a": 1}'] * 50) + ', {"a": nope}, ' +
                      ", ".join(['{"a": 2}'] * 5000) + "]}", encoding="utf-8")
    items = array_objects(broken, "features", 64)
    assert items is not None
    with pytest.raises(UnreadableData, match=r"broken\.json is not valid JSON"):
        list(items)
