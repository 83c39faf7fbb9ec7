"""Geospatial logical sources beyond the standard formulations: ESRI Shapefiles (GeoTriples' ``ql:SHP``).

Read with pyogrio (GDAL) a page of features at a time, so memory stays flat in the number of features.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from components.common.errors import UnreadableData
from components.geotriples_adapter.geometry import epsg_of
from components.geotriples_adapter.mapping import QL, LogicalSource, Mapping
from components.geotriples_adapter.records import GEOTRIPLES_ID, Batch, Column, Source

logger = logging.getLogger(__name__)

SHP = str(QL.SHP)
GEOMETRY_FIELD = "the_geom"
_DTYPES = {"int": "integer", "uint": "integer", "float": "double", "bool": "boolean", "datetime64[D]": "date",
           "datetime64[ms]": "dateTime"}


def _crs_epsg(crs: str | None) -> int | None:
    code = epsg_of(crs)
    if code or not crs:
        return code
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        found = CRS.from_user_input(crs).to_epsg()
    except CRSError as err:
        logger.warning("unidentifiable CRS (%s); using the default CRS", err)
        return None
    return int(found) if found else None


class ColumnBatch(Batch):
    """A batch whose attributes arrive as whole columns (numpy arrays) rather than records."""

    def __init__(self, columns: dict[str, np.ndarray], count: int, first: int):
        super().__init__(range(count), first, lambda _record, _reference: [])
        self.columns = columns

    def values(self, reference: str) -> Column:
        key = ("ref", reference)
        column = self.cache.get(key)
        if column is None:
            data = self.columns.get(reference)
            if data is None:
                column = super().values(reference) if reference == GEOTRIPLES_ID else [[] for _ in self.records]
            else:
                column = [[] if v is None or v != v else [v] for v in data.tolist()]  # v != v: NaN is null
            self.cache[key] = column
        return column


class ShapefileSource:
    """Features of a Shapefile: attribute fields by name, the geometry as ``the_geom`` (shapely)."""

    def __init__(self, path: Path):
        import pyogrio

        self.path = path
        try:
            self.info = pyogrio.read_info(str(path))
        except Exception as err:  # pyogrio raises DataSourceError and GDAL errors for unreadable files
            raise UnreadableData(f"{path.name} is not a readable Shapefile: {err}") from err
        self.epsg: int | None = _crs_epsg(self.info.get("crs"))  # None: the run's default (--epsg, else 4326)

    def fields(self) -> list[tuple[str, str]]:
        """(name, XSD local datatype) of each attribute field."""
        out = []
        for name, dtype in zip(self.info["fields"], self.info["dtypes"], strict=True):
            kind = next((v for k, v in _DTYPES.items() if str(dtype).startswith(k)), "string")
            out.append((str(name), kind))
        return out

    def batches(self, size: int) -> Iterator[Batch]:
        import pyogrio

        total = int(self.info.get("features") or 0)
        for first in range(0, total, size):
            try:
                _meta, _fids, wkb, fields = pyogrio.raw.read(str(self.path), skip_features=first, max_features=size)
                geoms = shapely.from_wkb(wkb)
            except Exception as err:  # GDAL/GEOS errors of a corrupt page
                raise UnreadableData(f"{self.path.name}: features {first + 1}..{first + size} unreadable: {err}") \
                    from err
            columns: dict[str, Any] = dict(zip(self.info["fields"], fields, strict=True))
            columns[GEOMETRY_FIELD] = geoms
            yield ColumnBatch(columns, len(geoms), first + 1)


GEO_OPENERS: dict[str, Any] = {SHP: lambda path, logical, mapping: _open_shp(path, logical, mapping)}


def _open_shp(path: Path, logical: LogicalSource, mapping: Mapping) -> Source:
    return ShapefileSource(path)
