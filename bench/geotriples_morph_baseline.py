"""The morph-kgc 2.10 baseline of ``geotriples_convert.py``: run in its own venv (never the project's).

Usage: ``/tmp/morphvenv/bin/python bench/geotriples_morph_baseline.py FOLDER`` with ``FOLDER/parcels.shp`` from
``geotriples_data.py``. Prints one JSON line: triples, seconds, peak RSS. The mapping is the GeoTriples one
(feature + geometry maps, the same predicates) with the geometry functions as morph-kgc Python UDFs.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

UDFS = '''
import shapely

def _g(wkt):
    return shapely.from_wkt(wkt)

@udf(fun_id="http://example.com/fn/asWKT", geom="http://example.com/fn/geom")
def as_wkt(geom):
    return "<http://www.opengis.net/def/crs/EPSG/0/4326> " + geom

@udf(fun_id="http://example.com/fn/dimension", geom="http://example.com/fn/geom")
def dimension(geom):
    return str(shapely.get_dimensions(_g(geom)))

@udf(fun_id="http://example.com/fn/coordinateDimension", geom="http://example.com/fn/geom")
def coordinate_dimension(geom):
    return str(shapely.get_coordinate_dimension(_g(geom)))

@udf(fun_id="http://example.com/fn/spatialDimension", geom="http://example.com/fn/geom")
def spatial_dimension(geom):
    return "3" if shapely.has_z(_g(geom)) else "2"

@udf(fun_id="http://example.com/fn/isEmpty", geom="http://example.com/fn/geom")
def is_empty(geom):
    return str(_g(geom).is_empty).lower()

@udf(fun_id="http://example.com/fn/isSimple", geom="http://example.com/fn/geom")
def is_simple(geom):
    return str(_g(geom).is_simple).lower()

@udf(fun_id="http://example.com/fn/is3D", geom="http://example.com/fn/geom")
def is_3d(geom):
    return str(shapely.has_z(_g(geom))).lower()
'''

FUNCTIONS = [("asWKT", "geo:wktLiteral"), ("dimension", "xsd:integer"), ("coordinateDimension", "xsd:integer"),
             ("spatialDimension", "xsd:integer"), ("isEmpty", "xsd:boolean"), ("isSimple", "xsd:boolean"),
             ("is3D", "xsd:boolean")]


def mapping(shp: Path) -> str:
    source = f'rml:logicalSource [ rml:source "{shp}" ; rml:referenceFormulation ql:CSV ] ;'
    lines = ["@prefix rr: <http://www.w3.org/ns/r2rml#> .", "@prefix rml: <http://semweb.mmlab.be/ns/rml#> .",
             "@prefix ql: <http://semweb.mmlab.be/ns/ql#> .", "@prefix fnml: <http://semweb.mmlab.be/ns/fnml#> .",
             "@prefix geo: <http://www.opengis.net/ont/geosparql#> .",
             "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .", "@prefix onto: <http://example.com/ontology#> .",
             "@prefix fn: <http://example.com/fn/> .",
             "<http://example.com/map/parcels>", source,
             'rr:subjectMap [ rr:template "http://example.com/parcels/id/{id}" ; rr:class onto:parcels ] ;',
             'rr:predicateObjectMap [ rr:predicate onto:hasId ; rr:objectMap [ rml:reference "id" ; '
             'rr:datatype xsd:integer ] ] ;',
             'rr:predicateObjectMap [ rr:predicate onto:hasName ; rr:objectMap [ rml:reference "name" ] ] ;',
             'rr:predicateObjectMap [ rr:predicate onto:hasValue ; rr:objectMap [ rml:reference "value" ; '
             'rr:datatype xsd:double ] ] ;',
             'rr:predicateObjectMap [ rr:predicate geo:hasGeometry ; rr:objectMap [ '
             'rr:template "http://example.com/parcels/Geometry/{id}" ] ] .',
             "<http://example.com/map/geometry>", source,
             'rr:subjectMap [ rr:template "http://example.com/parcels/Geometry/{id}" ; rr:class geo:Geometry ] .']
    for name, datatype in FUNCTIONS:
        lines.append(f'<http://example.com/map/geometry> rr:predicateObjectMap [ rr:predicate geo:{name} ; '
                     f'rr:objectMap [ fnml:execution [ fnml:function fn:{name} ; fnml:input [ '
                     f'fnml:parameter fn:geom ; fnml:valueMap [ rml:reference "geometry" ] ] ] ; '
                     f'rr:datatype {datatype} ] ] .')
    return "\n".join(lines) + "\n"


def main() -> None:
    import morph_kgc

    folder = Path(sys.argv[1]).resolve()
    shp = folder / "parcels.shp"
    (folder / "morph_mapping.ttl").write_text(mapping(shp))
    (folder / "morph_udfs.py").write_text(UDFS)
    config = (f"[DataSource1]\nmappings: {folder / 'morph_mapping.ttl'}\n"
              f"[CONFIGURATION]\nudfs: {folder / 'morph_udfs.py'}\nnumber_of_processes: 1\n")
    start = time.perf_counter()
    graph = morph_kgc.materialize_set(config)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"triples": len(graph), "seconds": seconds, "peak_mb": peak}))


if __name__ == "__main__":
    main()
