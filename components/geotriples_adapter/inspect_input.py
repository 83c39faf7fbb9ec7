"""Look at a geospatial input file and describe it for mapping generation: format, records, columns, geometry."""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.common.errors import InvalidInput, UnreadableData
from components.geotriples_adapter.geosources import GEOMETRY_FIELD, SHP, ShapefileSource
from components.geotriples_adapter.mapping import QL
from components.geotriples_adapter.sources import csv_delimiter
from components.geotriples_adapter.terms import XSD

FORMATS = {".shp": "shapefile", ".geojson": "geojson", ".json": "geojson", ".csv": "csv", ".tsv": "csv",
           ".kml": "kml", ".gml": "gml", ".xml": "gml"}
KML_NS = "http://www.opengis.net/kml/2.2"
_WKT_NAMES = {"wkt", "geometry", "geom", "the_geom", "shape", "footprint", "wkt_geom"}
_LON_NAMES = ("lon", "lng", "long", "longitude", "x")
_LAT_NAMES = ("lat", "latitude", "y")
_SAMPLE = 200


@dataclass
class Column:
    reference: str
    name: str
    datatype: str


@dataclass
class Described:
    """What a generated mapping needs to know about an input."""

    path: Path
    layer: str
    formulation: str
    iterator: str | None
    columns: list[Column]
    geometry: list[str]
    prefixes: dict[str, str] = field(default_factory=dict)
    delimiter: str | None = None  # a CSV file's, when its extension's default (comma, tab for .tsv) is not it


def input_format(path: Path, fmt: str | None = None) -> str:
    """``shapefile|geojson|csv|kml|gml`` from an explicit name or the file extension."""
    if fmt:
        name = fmt.strip().lower().lstrip(".")
        name = {"shp": "shapefile", "json": "geojson", "tsv": "csv", "xml": "gml"}.get(name, name)
        if name not in set(FORMATS.values()):
            known = ", ".join(sorted(set(FORMATS.values())))
            raise InvalidInput(f"unknown input format {fmt!r}; choose one of {known}")
        return name
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise InvalidInput(f"cannot tell the format of {path.name} from its extension; give the format "
                           f"({', '.join(sorted(set(FORMATS.values())))})")
    return found


def layer_name(path: Path) -> str:
    """A class-name-safe layer name from a file name (GeoTriples uses the file's stem)."""
    return safe_name(path.stem)


def safe_name(text: str) -> str:
    """``text`` as a class-name-safe layer name: ASCII letters, digits and ``_``, starting with a letter."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", text) or "Layer"
    return name if name[0].isalpha() else "L" + name


def describe(path: Path, fmt: str | None = None, layer: str | None = None) -> Described:
    """Describe ``path`` (``UnreadableData``/``InvalidInput`` when it cannot be read as its format)."""
    kind = input_format(path, fmt)
    described = {"shapefile": _shapefile, "geojson": _geojson, "csv": _csv, "kml": _kml, "gml": _gml}[kind](path)
    if layer:
        described.layer = layer
    return described


def _datatype(values: list[Any]) -> str:
    present = [v for v in values if v not in (None, "")]
    if not present:
        return XSD + "string"
    if all(isinstance(v, bool) or str(v).lower() in {"true", "false"} for v in present):
        return XSD + "boolean"
    if all((isinstance(v, int) and not isinstance(v, bool)) or re.fullmatch(r"[-+]?\d{1,18}", str(v)) for v in present):
        return XSD + "integer"
    try:
        [float(v) for v in present]
    except (TypeError, ValueError):
        return XSD + "string"
    return XSD + "double"


def _shapefile(path: Path) -> Described:
    columns = [Column(name, name, XSD + kind) for name, kind in ShapefileSource(path).fields()]
    return Described(path, layer_name(path), SHP, layer_name(path), columns, [GEOMETRY_FIELD])


def _geojson(path: Path) -> Described:
    import ijson

    samples: dict[str, list[Any]] = {}
    try:
        with path.open("rb") as handle:
            for feature in itertools.islice(ijson.items(handle, "features.item", use_float=True), _SAMPLE):
                for key, value in (feature.get("properties") or {}).items():
                    samples.setdefault(key, []).append(value)
    except ijson.JSONError as err:
        raise UnreadableData(f"{path.name} is not valid GeoJSON: {err}") from err
    columns = [Column(f"properties.{k}", k, _datatype(v)) for k, v in samples.items()
               if not isinstance(next((x for x in v if x is not None), None), dict | list)]
    return Described(path, layer_name(path), str(QL.JSONPath), "$.features[*]", columns, ["geometry"])


def _csv(path: Path) -> Described:
    default = csv_delimiter(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            delimiter = _sniff_delimiter(handle.readline(), default)
            handle.seek(0)
            reader = csv.DictReader(handle, delimiter=delimiter)
            rows = list(itertools.islice(reader, _SAMPLE))
            names = list(reader.fieldnames or [])
    except (UnicodeDecodeError, csv.Error) as err:
        raise UnreadableData(f"{path.name} is not readable CSV: {err}") from err
    lower = {n.lower(): n for n in names}
    geometry: list[str] = []
    wkt = next((lower[n] for n in lower if n in _WKT_NAMES), None)
    if wkt:
        geometry = [wkt]
    else:
        lon = next((lower[n] for n in _LON_NAMES if n in lower), None)
        lat = next((lower[n] for n in _LAT_NAMES if n in lower), None)
        if lon and lat:
            geometry = [lon, lat]
    if not geometry:
        raise InvalidInput(f"{path.name}: no geometry column (a WKT column named one of {sorted(_WKT_NAMES)}, "
                           f"or longitude/latitude columns) among {names} (columns split at {delimiter!r})")
    # like GeoTriples, every column but a WKT one is an attribute (longitude/latitude columns too)
    columns = [Column(n, n, _datatype([r.get(n) for r in rows])) for n in names if n != wkt]
    return Described(path, layer_name(path), str(QL.CSV), None, columns, geometry,
                     delimiter=None if delimiter == default else delimiter)


def _sniff_delimiter(header: str, default: str) -> str:
    """The delimiter of a CSV header line: ``,``, ``;``, tab or ``|`` (``default`` when it cannot tell)."""
    try:
        return csv.Sniffer().sniff(header, delimiters=",;\t|").delimiter
    except csv.Error:
        return default


def _sample_xml(path: Path, wanted: Callable[[Any], bool]) -> tuple[dict[Any, str], list[Any]]:
    """The root's namespace map and the first ``_SAMPLE`` elements ``wanted`` accepts, parsing no further."""
    from lxml import etree

    nsmap: dict[Any, str] = {}
    found: list[Any] = []
    try:
        for event, element in etree.iterparse(str(path), events=("start", "end"), resolve_entities=False,
                                              no_network=True, huge_tree=True):
            if event == "start":
                nsmap = nsmap or dict(element.nsmap)
            elif isinstance(element.tag, str) and wanted(element):
                found.append(element)
                if len(found) >= _SAMPLE:
                    break
    except (etree.XMLSyntaxError, OSError) as err:
        raise UnreadableData(f"{path.name} is not valid XML: {err}") from err
    return nsmap, found


def _local(element: Any) -> str:
    return str(element.tag).rsplit("}", 1)[-1]


def _kml(path: Path) -> Described:
    nsmap, placemarks = _sample_xml(path, lambda el: _local(el) == "Placemark")
    ns = nsmap.get(None) or KML_NS
    names: dict[str, None] = {}
    for placemark in placemarks:
        for data in placemark.iter(f"{{{ns}}}Data", f"{{{ns}}}SimpleData"):
            if data.get("name"):
                names[data.get("name")] = None
    columns = [Column("kml:name", "name", XSD + "string"), Column("kml:description", "description", XSD + "string")]
    for name in names:
        columns.append(Column(f".//kml:Data[@name='{name}']/kml:value | .//kml:SimpleData[@name='{name}']",
                              name, XSD + "string"))
    geometry = "kml:Point|kml:LineString|kml:LinearRing|kml:Polygon|kml:MultiGeometry"
    return Described(path, layer_name(path), str(QL.XPath), "//kml:Placemark", columns, [geometry], {"kml": ns})


def _gml(path: Path) -> Described:
    members = {"featureMember", "member", "featureMembers"}
    _, features = _sample_xml(path, lambda el: el.getparent() is not None and _local(el.getparent()) in members)
    if not features:
        raise InvalidInput(f"{path.name}: no GML features (gml:featureMember / wfs:member children)")
    first = features[0]
    namespace, _, local = first.tag[1:].partition("}") if first.tag.startswith("{") else ("", "", first.tag)
    prefixes = {"gml": first.nsmap.get("gml", "http://www.opengis.net/gml")}
    prefix = ""
    if namespace:
        prefixes["ft"] = namespace
        prefix = "ft:"
    same = [f for f in features if f.tag == first.tag]
    samples: dict[str, list[str]] = {}
    geometry = ""
    for feature in same:
        for child in feature:
            if not isinstance(child.tag, str):
                continue
            name = child.tag.rsplit("}", 1)[-1]
            child_prefix = "gml:" if child.tag.startswith(f"{{{prefixes['gml']}}}") else prefix
            if name == "boundedBy":
                continue
            if len(child) and any(isinstance(c.tag, str) and "gml" in c.tag for c in child):
                geometry = geometry or f"{child_prefix}{name}/*"
            elif not len(child):
                samples.setdefault(name, []).append(child.text or "")
    if not geometry:
        raise InvalidInput(f"{path.name}: features {local} have no GML geometry property")
    columns = [Column(f"{prefix}{n}", n, _datatype(v)) for n, v in samples.items()]
    return Described(path, safe_name(local), str(QL.XPath), f"//{prefix}{local}", columns, [geometry], prefixes)
