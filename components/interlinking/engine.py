"""Filtering and verification (JedAI-spatial's GIA.nt idea): an STRtree over the smaller dataset, the larger one
streamed in chunks through it, every candidate pair verified by one vectorised DE-9IM ``relate``.

Memory holds the indexed side and one chunk of the streamed side (plus that chunk's candidate pairs), so it stays
flat in the size of the streamed dataset.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import shapely

from components.common.errors import InvalidInput
from components.interlinking.datasets import Chunk, Dataset
from components.interlinking.relations import RELATIONS, relations_of

WITHIN_DISTANCE = "withinDistance"
# the shortest a degree of latitude gets on the WGS84 ellipsoid is 110,574 m: a smaller figure widens the
# filter's boxes, never narrows them
METRES_PER_DEGREE = 110_000.0


@dataclass(frozen=True)
class Options:
    """What to link: ``relations`` (of ``RELATIONS``), ``distance`` metres (geodesic; ``None`` = no distance links),
    ``chunk`` features of the streamed side per step."""

    relations: tuple[str, ...] = RELATIONS
    distance: float | None = None
    chunk: int = 10_000

    def __post_init__(self) -> None:
        if self.distance is not None and not (self.distance >= 0 and math.isfinite(self.distance)):
            raise InvalidInput(f"distance must be a finite number of metres >= 0, not {self.distance}")
        if self.chunk < 1:
            raise InvalidInput("chunk must be at least 1")
        if not self.relations and self.distance is None:
            raise InvalidInput("nothing to link: give relations or a distance")


@dataclass
class Links:
    """Links found in one chunk: parallel lists of source IRI, target IRI and relation name."""

    sources: list[str]
    targets: list[str]
    relations: list[str]

    def __len__(self) -> int:
        return len(self.relations)


@dataclass
class Summary:
    """JedAI-spatial's figures: candidates (pairs whose boxes meet), verified pairs, interlinked pairs (at least
    one link), links per relation, seconds (all, and filtering plus verification alone: reading and cleaning the
    files is the rest); precision and recall when the number of qualifying pairs is known."""

    source_features: int = 0
    target_features: int = 0
    indexed: str = ""
    candidates: int = 0
    verified: int = 0
    interlinked: int = 0
    links: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    verify_seconds: float = 0.0
    repaired: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    z_dropped: int = 0
    qualifying: int | None = None

    @property
    def precision(self) -> float:
        return self.interlinked / self.verified if self.verified else 1.0

    @property
    def recall(self) -> float | None:
        if self.qualifying is None:
            return None
        return self.interlinked / self.qualifying if self.qualifying else 1.0

    def to_dict(self) -> dict[str, object]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["precision"] = self.precision
        data["recall"] = self.recall
        data["pairs_per_second"] = self.verified / self.seconds if self.seconds else None
        data["verified_per_verify_second"] = self.verified / self.verify_seconds if self.verify_seconds else None
        return data


class _Index:
    """The indexed side, whole: IRIs, geometries, dimensions and their STRtree."""

    def __init__(self, dataset: Dataset, chunk: int):
        parts = list(dataset.chunks(chunk))
        self.iris = [iri for part in parts for iri in part.iris]
        self.geoms = np.concatenate([part.geoms for part in parts]) if parts else np.empty(0, dtype=object)
        self.dims = shapely.get_dimensions(self.geoms)
        self.tree = shapely.STRtree(self.geoms)


def interlink(source: Dataset, target: Dataset, options: Options, summary: Summary,
              progress: Callable[[int], None] | None = None) -> Iterator[Links]:
    """The links from ``source`` to ``target``, one batch per streamed chunk; ``summary`` fills in as they come."""
    if options.distance is not None:
        from pyproj import CRS

        if not CRS.from_user_input(source.crs).is_geographic:
            raise InvalidInput(f"distance links need a geographic working CRS, not {source.crs}")
    started = time.perf_counter()
    n_source, n_target = source.count(), target.count()
    summary.source_features, summary.target_features = n_source, n_target
    source_indexed = n_source < n_target
    indexed, streamed = (source, target) if source_indexed else (target, source)
    summary.indexed = "source" if source_indexed else "target"
    index = _Index(indexed, options.chunk)
    for chunk in streamed.chunks(options.chunk):
        verifying = time.perf_counter()
        links = _verify(index, chunk, source_indexed, options, summary)
        summary.verify_seconds += time.perf_counter() - verifying
        summary.seconds = time.perf_counter() - started
        if progress is not None:
            progress(len(chunk.iris))
        if len(links):
            yield links
    for dataset in (source, target):
        summary.repaired.extend(dataset.issues.repaired)
        summary.dropped.extend(dataset.issues.dropped)
        summary.z_dropped += dataset.issues.had_z
    summary.seconds = time.perf_counter() - started


def _verify(index: _Index, chunk: Chunk, source_indexed: bool, options: Options, summary: Summary) -> Links:
    queries = chunk.geoms
    if options.distance is not None:
        queries = _widened_boxes(queries, options.distance)
    which, other = index.tree.query(queries)
    summary.candidates += len(which)
    if source_indexed:
        a, b = index.geoms[other], chunk.geoms[which]
        dim_a, dim_b = index.dims[other], shapely.get_dimensions(b)
        src = [index.iris[k] for k in other]
        dst = [chunk.iris[k] for k in which]
    else:
        a, b = chunk.geoms[which], index.geoms[other]
        dim_a, dim_b = shapely.get_dimensions(a), index.dims[other]
        src = [chunk.iris[k] for k in which]
        dst = [index.iris[k] for k in other]
    hits = np.zeros(len(which), dtype=bool)
    found = Links([], [], [])
    if options.relations:
        # the widened boxes of distance mode also pick pairs whose own boxes do not meet: no relation holds there
        boxes_meet = (np.ones(len(which), dtype=bool) if options.distance is None
                      else shapely.intersects(shapely.envelope(a), shapely.envelope(b)))
        table = relation_table(shapely.relate(a[boxes_meet], b[boxes_meet]), dim_a[boxes_meet], dim_b[boxes_meet],
                               options.relations)
        positions = np.flatnonzero(boxes_meet)
        summary.verified += len(positions)
        for column, name in enumerate(options.relations):
            rows = positions[table[:, column]]
            _extend(found, src, dst, rows, name, summary)
            hits[rows] = True
    if options.distance is not None:
        close = np.flatnonzero(geodesic_distance(a, b) <= options.distance)
        _extend(found, src, dst, close, WITHIN_DISTANCE, summary)
        hits[close] = True
        if not options.relations:
            summary.verified += len(which)
    summary.interlinked += int(hits.sum())
    return found


def _extend(found: Links, src: list[str], dst: list[str], rows: np.ndarray, name: str, summary: Summary) -> None:
    found.sources.extend(src[k] for k in rows)
    found.targets.extend(dst[k] for k in rows)
    found.relations.extend([name] * len(rows))
    summary.links[name] = summary.links.get(name, 0) + len(rows)


def relation_table(matrices: np.ndarray, dim_a: np.ndarray, dim_b: np.ndarray,
                   relations: tuple[str, ...]) -> np.ndarray:
    """(pairs x relations) booleans: which of ``relations`` hold for each pair, from its DE-9IM matrix.

    Real data has few distinct (matrix, dimensions) keys, so each is decided once and the rows gathered."""
    if len(matrices) == 0:
        return np.zeros((0, len(relations)), dtype=bool)
    unique, inverse = np.unique(matrices.astype(str), return_inverse=True)
    keys = inverse.astype(np.int64) * 9 + dim_a.astype(np.int64) * 3 + dim_b.astype(np.int64)
    distinct, rows = np.unique(keys, return_inverse=True)
    decided = np.array([[name in relations_of(str(unique[key // 9]), int(key % 9 // 3), int(key % 3))
                         for name in relations] for key in distinct], dtype=bool)
    return decided[rows]


def _widened_boxes(geoms: np.ndarray, metres: float) -> np.ndarray:
    """Each geometry's box grown by ``metres`` in degrees (longitude by the widest parallel it may reach), so
    every pair within ``metres`` has meeting boxes; near a pole the box spans every longitude."""
    bounds = shapely.bounds(geoms)
    dlat = metres / METRES_PER_DEGREE
    south, north = bounds[:, 1] - dlat, bounds[:, 3] + dlat
    widest = np.maximum(np.abs(south), np.abs(north))
    polar = widest >= 89.0
    cos = np.cos(np.radians(np.minimum(widest, 89.0)))
    dlon = np.where(polar, 360.0, metres / (METRES_PER_DEGREE * cos))
    return shapely.box(bounds[:, 0] - dlon, south, bounds[:, 2] + dlon, north)


def geodesic_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Metres on the WGS84 ellipsoid between the closest points of each pair (closest in longitude/latitude);
    0 where they intersect."""
    from pyproj import Geod

    if len(a) == 0:
        return np.zeros(0)
    lines = shapely.shortest_line(a, b)
    coords = shapely.get_coordinates(lines)
    start, end = coords[0::2], coords[1::2]
    _, _, metres = Geod(ellps="WGS84").inv(start[:, 0], start[:, 1], end[:, 0], end[:, 1])
    return np.where(shapely.intersects(a, b), 0.0, np.asarray(metres))
