"""The spatial index: an R-tree (libspatialindex through ``rtree``) over every geometry literal in the store.

Entries are keyed by the literal itself (lexical form and datatype), so a literal used by many triples is indexed
once. Inserts and deletes go to the R-tree one by one (no rebuild); boxes are in CRS84 so literals in any CRS meet.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import shapely
from pyoxigraph import Literal, NamedNode
from rtree import index as rtree_index

from components.geostore.geometry import WKT, Geom, GeometryError, note_failure, parse

Key = tuple[str, str]  # (lexical form, datatype IRI)


@dataclass(frozen=True)
class Entry:
    key: Key
    geom: Geom  # as written (its own CRS): what the functions compute on
    box: tuple[float, float, float, float]  # CRS84
    term: str  # the literal in SPARQL syntax (what the planner writes into VALUES)


def _plain_wkt(key: Key) -> bool:
    return key[1] == WKT and not key[0].lstrip().startswith("<") and bool(key[0].strip())


def _term(key: Key) -> str:
    return str(Literal(key[0], datatype=NamedNode(key[1])))


class SpatialIndex:
    """Geometry literals by id, their CRS84 boxes in an R-tree; thread-safe (one lock around changes)."""

    def __init__(self) -> None:
        self._properties = rtree_index.Property()
        self._properties.leaf_capacity = 64
        self._properties.fill_factor = 0.8
        self._tree = rtree_index.Index(properties=self._properties)
        self._ids: dict[Key, int] = {}
        self._entries: dict[int, Entry] = {}
        self._next = 0
        self._lock = threading.Lock()
        self.unreadable: dict[Key, str] = {}  # literals that are not readable geometries, with why
        self.empty: set[Key] = set()  # empty geometries: no box, never in the tree

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Key) -> bool:
        return key in self._ids

    def keys(self) -> set[Key]:
        return set(self._ids) | set(self.unreadable) | self.empty

    def add(self, keys: Iterable[Key]) -> int:
        """Index the literals not indexed yet; returns how many were new. Unreadable ones are remembered."""
        new = [key for key in keys if key not in self._ids and key not in self.unreadable and key not in self.empty]
        entries = self._plain_wkt_entries([k for k in new if _plain_wkt(k)])
        for key in new:
            if not _plain_wkt(key):
                entry = self._entry(key)
                if entry is not None:
                    entries.append(entry)
        with self._lock:
            fresh = [e for e in entries if e.key not in self._ids]
            first = self._next
            for offset, entry in enumerate(fresh):
                self._ids[entry.key] = first + offset
                self._entries[first + offset] = entry
            self._next = first + len(fresh)
            if len(self._entries) == len(fresh) and fresh:
                # an empty tree (start, first load): bulk-load it, much faster than one insert per entry
                boxes = ((first + i, e.box, None) for i, e in enumerate(fresh))
                self._tree = rtree_index.Index(boxes, properties=self._properties)
            else:
                for offset, entry in enumerate(fresh):
                    self._tree.insert(first + offset, entry.box)
        return len(fresh)

    def _plain_wkt_entries(self, keys: list[Key]) -> list[Entry]:
        """CRS84 WKT literals (the common case) parsed and boxed in one vectorised call each."""
        if not keys:
            return []
        shapes = shapely.from_wkt([key[0] for key in keys], on_invalid="ignore")
        bounds = shapely.bounds(shapes)
        entries = []
        for key, shape, box in zip(keys, shapes.tolist(), bounds.tolist(), strict=True):
            if shape is None:
                entry = self._entry(key)  # the single-literal path names what is wrong
                if entry is not None:
                    entries.append(entry)
            elif shape.is_empty:
                self.empty.add(key)
            else:
                entries.append(Entry(key, Geom(shape), (box[0], box[1], box[2], box[3]), _term(key)))
        return entries

    def _entry(self, key: Key) -> Entry | None:
        try:
            geom = parse(*key)
            box = geom.crs84().shape.bounds if not geom.shape.is_empty else None
        except GeometryError as err:
            self.unreadable[key] = str(err)
            note_failure(str(err))
            return None
        if box is None:
            self.empty.add(key)
            return None
        if not np.all(np.isfinite(box)):
            self.unreadable[key] = "coordinates outside CRS84"
            note_failure(f"{key[0][:80]}: coordinates outside CRS84")
            return None
        return Entry(key, geom, (box[0], box[1], box[2], box[3]), _term(key))

    def remove(self, keys: Iterable[Key]) -> int:
        removed = 0
        with self._lock:
            for key in keys:
                self.unreadable.pop(key, None)
                self.empty.discard(key)
                ident = self._ids.pop(key, None)
                if ident is None:
                    continue
                entry = self._entries.pop(ident)
                self._tree.delete(ident, entry.box)
                removed += 1
        return removed

    def entry(self, ident: int) -> Entry:
        return self._entries[ident]

    def search(self, box: tuple[float, float, float, float]) -> list[int]:
        """Ids whose box meets ``box`` (CRS84)."""
        with self._lock:
            return [int(i) for i in self._tree.intersection(box)]

    def box_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Every pair of ids whose boxes meet (each entry against the tree, vectorised)."""
        with self._lock:
            ids = np.fromiter(self._entries.keys(), dtype=np.int64, count=len(self._entries))
            if not len(ids):
                return ids, ids
            boxes = np.array([self._entries[i].box for i in ids.tolist()], dtype=np.float64)
            found, counts = self._tree.intersection_v(boxes[:, :2], boxes[:, 2:])
        return np.repeat(ids, np.asarray(counts, dtype=np.int64)), np.asarray(found, dtype=np.int64)

    def shapes(self, ids: np.ndarray) -> tuple[np.ndarray, list[str]]:
        entries = [self._entries[i] for i in ids.tolist()]
        return np.array([e.geom.shape for e in entries], dtype=object), [e.geom.crs for e in entries]

    def memory_bytes(self) -> int:
        """A rough size of what the index holds in memory (R-tree pages and our per-entry records)."""
        shapes = sum(len(shapely.to_wkb(e.geom.shape)) for e in self._entries.values())
        return shapes + len(self._entries) * 200
