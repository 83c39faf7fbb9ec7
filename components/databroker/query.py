"""What the broker is asked (a validated catalogue query) and what it answers (one product record)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import NamedTuple

from shapely.geometry.base import BaseGeometry

from components.common.aoi import isoformat, parse_aoi, parse_window, split_antimeridian
from components.common.errors import InvalidInput

PROCESSING_MODES = ("OFFL", "NRTI", "RPRO")
DEFAULT_COLLECTION = "SENTINEL-5P"
DEFAULT_PRODUCT_TYPE = "L2__CO____"
WORLD_BBOX = "-180,-90,180,90"

# Sentinel-5P product types as the catalogues name them (file names carry them verbatim).
S5P_PRODUCT_TYPES = frozenset(
    [f"L1B_RA_BD{band}" for band in range(1, 9)]
    + ["L1B_IR_UVN", "L1B_IR_SIR", "L2__O3____", "L2__O3_TCL", "L2__O3__PR", "L2__NO2___", "L2__SO2___",
       "L2__CO____", "L2__CH4___", "L2__HCHO__", "L2__CLOUD_", "L2__AER_AI", "L2__AER_LH", "L2__NP_BD3",
       "L2__NP_BD6", "L2__NP_BD7", "L2__FRESCO"]
)
_NAME_TOKEN = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_MODE_IN_NAME = re.compile(r"_(OFFL|NRTI|RPRO)_")


@dataclass(frozen=True)
class Query:
    """A validated search: which products of which collection intersect ``aoi`` during ``start``..``end``."""

    aoi: BaseGeometry
    start: datetime
    end: datetime
    collection: str = DEFAULT_COLLECTION
    product_type: str = DEFAULT_PRODUCT_TYPE
    processing_mode: str = ""
    limit: int = 0

    @property
    def aoi_wkt(self) -> str:
        return str(self.aoi.wkt)

    @cached_property
    def search_area(self) -> BaseGeometry:
        """The AOI as catalogues and footprints need it: every part inside longitudes [-180, 180].

        ``aoi`` keeps the user's form (a bbox crossing the antimeridian reaches beyond 180), which the
        products carry on; an AOI crossing the antimeridian becomes a MultiPolygon here.
        """
        return split_antimeridian(self.aoi)

    def with_limit(self, limit: int) -> Query:
        return replace(self, limit=limit)


class ProductRecord(NamedTuple):
    """One catalogue product, catalogue-independent; ``href`` is ``s3://``, ``file://`` or ``https://``.

    A named tuple rather than a frozen dataclass: one is built per product while paging, and this
    is the cheapest immutable record to build.
    """

    id: str
    name: str
    href: str
    start: datetime
    end: datetime
    footprint_wkt: str = ""
    size_bytes: int = 0
    product_type: str = ""
    collection: str = ""
    checksum: str = ""
    catalogue: str = ""

    def as_dict(self, query: Query | None = None) -> dict[str, object]:
        """JSON-ready fields (ISO 8601 UTC times); with ``query``, also its AOI and window."""
        data: dict[str, object] = {
            "id": self.id, "name": self.name, "href": self.href, "start": isoformat(self.start),
            "end": isoformat(self.end), "footprint_wkt": self.footprint_wkt, "size_bytes": self.size_bytes,
            "product_type": self.product_type, "collection": self.collection, "checksum": self.checksum,
            "catalogue": self.catalogue,
        }
        if query is not None:
            data.update(aoi_wkt=query.aoi_wkt, query_start=isoformat(query.start), query_end=isoformat(query.end))
        return data


def processing_mode_of(name: str) -> str:
    """The processing mode (OFFL/NRTI/RPRO) a product name carries, or ''."""
    match = _MODE_IN_NAME.search(name)
    return match.group(1) if match else ""


def build_query(
    *,
    aoi: str = "",
    start: str = "",
    end: str = "",
    collection: str = "",
    product_type: str = "",
    processing_mode: str = "",
    limit: int = 0,
    now: datetime | None = None,
) -> Query:
    """Validate user text into a ``Query`` (``InvalidInput`` saying what is wrong).

    Empty values take defaults: the whole world, Sentinel-5P L2 CO, any processing mode, no limit;
    an empty ``start`` means the Sentinel-5P mission start and an empty ``end`` means now.
    """
    geometry = parse_aoi(aoi or WORLD_BBOX)
    begin, finish = parse_window(start or "2017-10-13", end or isoformat(now or datetime.now(UTC)))
    collection = collection.strip() or DEFAULT_COLLECTION
    product_type = product_type.strip() or DEFAULT_PRODUCT_TYPE
    for label, value in (("collection", collection), ("product type", product_type)):
        if not _NAME_TOKEN.match(value):
            raise InvalidInput(f"{label} {value!r} is not a valid name (letters, digits, '_', '-', '.')")
    if collection.upper().replace("-", "") == "SENTINEL5P" and product_type not in S5P_PRODUCT_TYPES:
        raise InvalidInput(
            f"unknown Sentinel-5P product type {product_type!r}; e.g. L2__CO____, L2__NO2___, L2__CH4___"
        )
    mode = processing_mode.strip().upper()
    if mode and mode not in PROCESSING_MODES:
        raise InvalidInput(f"unknown processing mode {processing_mode!r}; known: {', '.join(PROCESSING_MODES)}")
    if limit < 0:
        raise InvalidInput(f"limit must be >= 0 (0 = no limit), got {limit}")
    return Query(geometry, begin, finish, collection, product_type, mode, limit)
