"""Synthetic polygon layers for the GeoTriples benchmark: the same features as Shapefile, GeoJSON, CSV (WKT), KML
and GML."""

from __future__ import annotations

import csv
import json
import math
import random
from pathlib import Path

import shapefile

WGS84_PRJ = ('GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
             'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]')


def polygons(count: int, seed: int = 7) -> list[tuple[int, str, float, list[tuple[float, float]]]]:
    """(id, name, value, ring) of ``count`` small 8-vertex polygons scattered over Europe."""
    rng = random.Random(seed)
    features = []
    for i in range(count):
        cx, cy, r = rng.uniform(-10, 30), rng.uniform(35, 70), rng.uniform(0.001, 0.05)
        ring = [(round(cx + r * math.cos(a * math.pi / 4), 6), round(cy + r * math.sin(a * math.pi / 4), 6))
                for a in range(8)]
        # clockwise, closed: the Shapefile convention for an outer ring
        ring = [*reversed(ring), ring[-1]]
        features.append((i + 1, f"parcel {i + 1}", round(rng.uniform(0, 1000), 3), ring))
    return features


def write_all(folder: Path, count: int) -> dict[str, Path]:
    """Write ``count`` features as ``parcels.shp``, ``.geojson``, ``.csv``, ``.kml`` and ``.gml`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    features = polygons(count)
    shp = folder / "parcels.shp"
    with shapefile.Writer(str(shp), shapeType=shapefile.POLYGON) as writer:
        writer.field("id", "N", 10, 0)
        writer.field("name", "C", 40)
        writer.field("value", "N", 12, 3)
        for fid, name, value, ring in features:
            writer.poly([ring])
            writer.record(fid, name, value)
    shp.with_suffix(".prj").write_text(WGS84_PRJ)
    geojson = folder / "parcels.geojson"
    with geojson.open("w") as handle:
        handle.write('{"type": "FeatureCollection", "features": [\n')
        for k, (fid, name, value, ring) in enumerate(features):
            feature = {"type": "Feature", "properties": {"id": fid, "name": name, "value": value},
                       "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in reversed(ring)]]}}
            handle.write(("," if k else "") + json.dumps(feature) + "\n")
        handle.write("]}\n")
    table = folder / "parcels.csv"
    with table.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["id", "name", "value", "WKT"])
        for fid, name, value, ring in features:
            out.writerow([fid, name, value, "POLYGON ((" + ", ".join(f"{x} {y}" for x, y in ring) + "))"])
    kml = folder / "parcels.kml"
    with kml.open("w", encoding="utf-8") as handle:
        handle.write('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>\n')
        for fid, name, value, ring in features:
            coordinates = " ".join(f"{x},{y}" for x, y in reversed(ring))
            handle.write(f'<Placemark><name>{name}</name><ExtendedData><Data name="id"><value>{fid}</value></Data>'
                         f'<Data name="value"><value>{value}</value></Data></ExtendedData><Polygon><outerBoundaryIs>'
                         f"<LinearRing><coordinates>{coordinates}</coordinates></LinearRing></outerBoundaryIs>"
                         "</Polygon></Placemark>\n")
        handle.write("</Document></kml>\n")
    gml = folder / "parcels.gml"
    with gml.open("w", encoding="utf-8") as handle:
        handle.write('<?xml version="1.0" encoding="UTF-8"?>\n<wfs:FeatureCollection '
                     'xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:gml="http://www.opengis.net/gml/3.2" '
                     'xmlns:app="http://example.org/app">\n')
        for fid, name, value, ring in features:
            positions = " ".join(f"{x} {y}" for x, y in reversed(ring))
            handle.write(f"<wfs:member><app:parcels><app:id>{fid}</app:id><app:name>{name}</app:name>"
                         f"<app:value>{value}</app:value><app:geom><gml:Polygon "
                         f'srsName="http://www.opengis.net/def/crs/OGC/1.3/CRS84"><gml:exterior><gml:LinearRing>'
                         f"<gml:posList>{positions}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>"
                         "</app:geom></app:parcels></wfs:member>\n")
        handle.write("</wfs:FeatureCollection>\n")
    return {"shapefile": shp, "geojson": geojson, "csv": table, "kml": kml, "gml": gml}
