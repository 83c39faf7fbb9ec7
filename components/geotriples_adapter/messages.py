"""RDF for the contract's own messages: a broker ``Product`` (its footprint as a GeoSPARQL feature) and an
analyzer ``COMaxResult`` (as SOSA observations of the CO total column over the area of interest)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import shapely

from components.common.errors import InvalidInput
from components.geotriples_adapter.emit import Quad
from components.geotriples_adapter.functions import CrsContext, as_wkt
from components.geotriples_adapter.terms import GEO, RDF_TYPE, WKT_LITERAL, XSD, iri_safe, literal

if TYPE_CHECKING:
    from components.common.contract_pb2 import COMaxResult, Product, ProductResult

SOSA = "http://www.w3.org/ns/sosa/"
DCTERMS = "http://purl.org/dc/terms/"
_TYPE = f"<{RDF_TYPE}>"


class _Builder:
    def __init__(self, base: str):
        self.base = base.rstrip("/#")
        self.onto = f"{self.base}/ontology#"
        self.quads: list[Quad] = []

    def node(self, *parts: str) -> str:
        return "<" + "/".join([self.base, *(iri_safe(p) for p in parts)]) + ">"

    def add(self, s: str, p: str, o: str) -> None:
        self.quads.append((s, p, o, ""))

    def prop(self, s: str, name: str, value: str | int | None, datatype: str | None = None) -> None:
        if value in (None, ""):
            return
        self.add(s, f"<{self.onto}{name}>", literal(str(value), datatype))

    def geometry(self, feature: str, geometry: str, wkt: str, what: str) -> None:
        try:
            geom = shapely.from_wkt(wkt)
        except shapely.errors.GEOSException as err:
            raise InvalidInput(f"{what} is not valid WKT: {err}") from err
        self.add(feature, f"<{GEO}hasGeometry>", geometry)
        self.add(geometry, _TYPE, f"<{GEO}Geometry>")
        text = as_wkt(shapely.from_wkt([wkt]), CrsContext(4326))[0]
        self.add(geometry, f"<{GEO}asWKT>", literal(text, WKT_LITERAL))
        self.add(geometry, f"<{GEO}dimension>", literal(str(shapely.get_dimensions(geom)), XSD + "integer"))
        self.add(geometry, f"<{GEO}isEmpty>", literal(str(geom.is_empty).lower(), XSD + "boolean"))
        self.add(geometry, f"<{GEO}isSimple>", literal(str(geom.is_simple).lower(), XSD + "boolean"))


def product_quads(product: Product, base: str) -> list[Quad]:
    """A Product: ``{base}/Product/id/{id}`` typed ``onto:Product`` and ``geo:Feature``, footprint as geometry."""
    if not (product.id or product.name):
        raise InvalidInput("product has neither id nor name")
    b = _Builder(base)
    key = product.id or product.name
    s = b.node("Product", "id", key)
    b.add(s, _TYPE, f"<{b.onto}Product>")
    b.add(s, _TYPE, f"<{GEO}Feature>")
    b.add(s, f"<{DCTERMS}identifier>", literal(key))
    if product.name:
        b.add(s, f"<{DCTERMS}title>", literal(product.name))
    for name, value, datatype in [
        ("hasHref", product.href, XSD + "anyURI"), ("hasStart", product.start, XSD + "dateTime"),
        ("hasEnd", product.end, XSD + "dateTime"), ("hasProductType", product.product_type, None),
        ("hasCollection", product.collection, None), ("hasChecksum", product.checksum, None),
        ("hasCatalogue", product.catalogue, None),
        ("hasSizeBytes", product.size_bytes or None, XSD + "long"),
    ]:
        b.prop(s, name, value, datatype)
    if product.footprint_wkt:
        b.geometry(s, b.node("Product", "Geometry", key), product.footprint_wkt, f"footprint of product {key}")
    return b.quads


def comax_quads(result: COMaxResult, base: str) -> list[Quad]:
    """A COMaxResult as one SOSA observation of the maximum CO column (plus one per product it reports)."""
    b = _Builder(base)
    run = uuid.uuid5(uuid.NAMESPACE_URL, "|".join([result.aoi_wkt, result.start, result.end, result.product,
                                                   result.time, repr(result.max_mol_m2)]))
    observation = b.node("COMax", str(run))
    prop = b.node("property", "COTotalColumnMaximum")
    procedure = b.node("procedure", "COMax")
    _observation(b, observation, result, prop, procedure)
    b.prop(observation, "productsAnalyzed", result.products_analyzed, XSD + "integer")
    if result.aoi_wkt:
        aoi = b.node("COMax", str(run), "AreaOfInterest")
        b.add(observation, f"<{SOSA}hasFeatureOfInterest>", aoi)
        b.add(aoi, _TYPE, f"<{GEO}Feature>")
        b.geometry(aoi, b.node("COMax", str(run), "AreaOfInterest", "Geometry"), result.aoi_wkt, "aoi_wkt")
    if result.start:
        b.prop(observation, "windowStart", result.start, XSD + "dateTime")
    if result.end:
        b.prop(observation, "windowEnd", result.end, XSD + "dateTime")
    for item in result.products:
        member = b.node("COMax", str(run), "product", item.product or item.href)
        b.add(observation, f"<{SOSA}hasMember>", member)
        _observation(b, member, item, prop, procedure)
    return b.quads


def _observation(b: _Builder, s: str, item: COMaxResult | ProductResult, prop: str, procedure: str) -> None:
    b.add(s, _TYPE, f"<{SOSA}Observation>")
    b.add(s, f"<{SOSA}observedProperty>", prop)
    b.add(s, f"<{SOSA}usedProcedure>", procedure)
    if item.time:
        b.add(s, f"<{SOSA}phenomenonTime>", literal(item.time, XSD + "dateTime"))
    b.prop(s, "product", item.product)
    b.prop(s, "validPixels", item.valid_pixels, XSD + "integer")
    b.prop(s, "bytesRead", item.bytes_read, XSD + "integer")
    if item.error:
        b.prop(s, "error", item.error)
        return
    if item.valid_pixels <= 0:
        return
    b.add(s, f"<{SOSA}hasSimpleResult>", literal(repr(float(item.max_mol_m2)), XSD + "double"))
    b.prop(s, "maxMolM2", repr(float(item.max_mol_m2)), XSD + "double")
    b.prop(s, "maxMoleculesCm2", repr(float(item.max_molecules_cm2)), XSD + "double")
    b.geometry(s, f"<{s[1:-1]}/Location>", f"POINT ({item.longitude!r} {item.latitude!r})", "result location")
