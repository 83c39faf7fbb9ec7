"""Synthetic polygon layers for the GeoTriples benchmark: the same features as Shapefile, GeoJSON and CSV (WKT)."""

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
    """Write ``count`` features as ``parcels.shp``, ``parcels.geojson`` and ``parcels.csv`` in ``folder``."""
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
    return {"shapefile": shp, "geojson": geojson, "csv": table}
