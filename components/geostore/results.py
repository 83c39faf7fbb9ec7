"""SPARQL JSON results to GeoJSON: one feature per solution with a geometry literal (the first one it binds)."""

from __future__ import annotations

import json
from typing import Any

from components.geostore.geometry import GEOMETRY_DATATYPES, GeometryError, parse, to_geojson


def geojson_results(sparql_json: bytes) -> bytes:
    """A FeatureCollection: the solution's first geometry as geometry (in CRS84), every binding as a property."""
    document = json.loads(sparql_json)
    features: list[dict[str, Any]] = []
    for binding in document.get("results", {}).get("bindings", []):
        geometry = None
        for term in binding.values():
            if term.get("datatype") in GEOMETRY_DATATYPES:
                try:
                    geometry = json.loads(to_geojson(parse(term["value"], term["datatype"])))
                    break
                except GeometryError:
                    continue
        properties = {name: term["value"] for name, term in binding.items()}
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()
