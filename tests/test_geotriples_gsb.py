"""The GeoSPARQL Compliance Benchmark's dataset (GML and GeoJSON, read from the shared material) as an oracle:
its features carry their expected dimension/emptiness/simplicity as attributes; our geometry functions must agree."""

from __future__ import annotations

import pytest
from rdflib import URIRef

from components.geotriples_adapter.convert import convert
from tests.geotriples_helpers import GEO, GSB_DATASET, parse

pytestmark = pytest.mark.skipif(not GSB_DATASET.is_dir(), reason=f"shared test material not found at {GSB_DATASET}")
ONTO = "http://example.com/ontology#"
# geo_dimension is left out: the dataset gives 2 for points too, where GeoSPARQL's topological dimension is 0
CHECKS = {"coordinateDimension": "hasGeo_coordinateDimension",
          "spatialDimension": "hasGeo_spatialDimension", "isEmpty": "hasGeo_isEmpty", "isSimple": "hasGeo_isSimple"}


@pytest.mark.parametrize("name", ["dataset.gml", "dataset.geojson"])
def test_gsb_geometry_properties_match(name: str) -> None:
    graph = parse("".join(convert(GSB_DATASET / name, layer="gsb").chunks()))
    features = list(graph.subject_objects(URIRef(GEO + "hasGeometry")))
    assert len(features) >= 10
    compared = 0
    for feature, geometry in features:
        if graph.value(geometry, URIRef(GEO + "asWKT")) is None:
            continue
        for ours, theirs in CHECKS.items():
            expected = graph.value(feature, URIRef(ONTO + theirs))
            if expected is None:
                continue
            got = graph.value(geometry, URIRef(GEO + ours))
            assert str(got).lower() == str(expected).lower(), (feature, ours)
            compared += 1
    assert compared >= 40
