"""Geospatial logical sources beyond the standard formulations: ESRI Shapefiles (GeoTriples' ``ql:SHP``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from components.common.errors import UnreadableData
from components.geotriples_adapter.mapping import QL, LogicalSource, Mapping
from components.geotriples_adapter.records import Batch, Source, dict_lookup

logger = logging.getLogger(__name__)

SHP = str(QL.SHP)
GEOMETRY_FIELD = "the_geom"


def prj_epsg(shp: Path) -> int | None:
    """The EPSG code of a Shapefile's ``.prj`` (None when absent or not identifiable)."""
    prj = shp.with_suffix(".prj")
    if not prj.is_file():
        return None
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        code = CRS.from_wkt(prj.read_text(encoding="utf-8", errors="replace")).to_epsg()
    except CRSError as err:
        logger.warning("%s: unreadable CRS (%s); assuming EPSG:4326", prj.name, err)
        return None
    return int(code) if code else None


class ShapefileSource:
    """Features of a Shapefile: attribute fields by name, the geometry as ``the_geom`` (shapely)."""

    def __init__(self, path: Path):
        self.path = path
        self.epsg: int | None = prj_epsg(path) or 4326

    def fields(self) -> list[tuple[str, str, int, int]]:
        import shapefile

        with shapefile.Reader(str(self.path)) as reader:
            return [tuple(f) for f in reader.fields[1:]]  # type: ignore[misc]

    def batches(self, size: int) -> Iterator[Batch]:
        import shapefile

        try:
            reader = shapefile.Reader(str(self.path))
        except (shapefile.ShapefileException, OSError) as err:
            raise UnreadableData(f"{self.path.name} is not a readable Shapefile: {err}") from err
        with reader:
            names = [f[0] for f in reader.fields[1:]]
            first = 1
            records: list[dict[str, Any]] = []
            shapes: list[Any] = []
            try:
                for shape_record in reader.iterShapeRecords():
                    records.append(dict(zip(names, shape_record.record, strict=False)))
                    shapes.append(shape_record.shape)
                    if len(records) >= size:
                        yield self._batch(records, shapes, first)
                        first += len(records)
                        records, shapes = [], []
            except (shapefile.ShapefileException, ValueError, OSError) as err:
                raise UnreadableData(f"{self.path.name}: feature {first + len(records)} unreadable: {err}") from err
            if records:
                yield self._batch(records, shapes, first)

    def _batch(self, records: list[dict[str, Any]], shapes: list[Any], first: int) -> Batch:
        geoms = to_shapely(shapes)
        for record, geom in zip(records, geoms, strict=True):
            record[GEOMETRY_FIELD] = geom
        return Batch(records, first, dict_lookup)


def to_shapely(shapes: list[Any]) -> np.ndarray:
    """pyshp shapes to shapely geometries, building single-ring polygons in one vectorised call."""
    out = np.empty(len(shapes), dtype=object)
    simple = [i for i, s in enumerate(shapes) if s.shapeType == 5 and len(s.parts) == 1]
    if simple:
        coords = [np.asarray(shapes[i].points, dtype=float) for i in simple]
        counts = np.fromiter((len(c) for c in coords), dtype=np.int64, count=len(coords))
        rings = shapely.linearrings(np.concatenate(coords), indices=np.repeat(np.arange(len(coords)), counts))
        out[simple] = shapely.polygons(rings)
    for i, shape in enumerate(shapes):
        if out[i] is None and shape.shapeType != 0:
            out[i] = shapely.geometry.shape(shape.__geo_interface__)
    return out


GEO_OPENERS: dict[str, Any] = {SHP: lambda path, logical, mapping: _open_shp(path, logical, mapping)}


def _open_shp(path: Path, logical: LogicalSource, mapping: Mapping) -> Source:
    return ShapefileSource(path)
