"""Records read from a logical source, handed to the engine in batches of columns.

A ``Batch`` answers ``values(reference)``: for each record, the list of raw values the reference selects
(empty when absent or null). Readers differ only in how a reference is looked up in one record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

GEOTRIPLES_ID = "GeoTriplesID"

Column = list[list[Any]]
# a reference looked up in every record of a batch at once (faster than one ``lookup`` call per record)
ColumnLookup = Callable[[Sequence[Any], str], Column]


class Batch:
    """Records ``first .. first+len-1`` (1-based ``GeoTriplesID``) with a per-batch cache of columns."""

    def __init__(self, records: Sequence[Any], first: int, lookup: Callable[[Any, str], list[Any]],
                 column: ColumnLookup | None = None):
        self.records = records
        self.first = first
        self._lookup = lookup
        self._column = column
        self.cache: dict[Any, Any] = {}

    def __len__(self) -> int:
        return len(self.records)

    def values(self, reference: str) -> Column:
        key = ("ref", reference)
        column = self.cache.get(key)
        if column is None:
            if reference == GEOTRIPLES_ID and not self._has(reference):
                column = [[self.first + i] for i in range(len(self.records))]
            elif self._column is not None:
                column = self._column(self.records, reference)
            else:
                lookup = self._lookup
                column = [lookup(record, reference) for record in self.records]
            self.cache[key] = column
        return column

    def _has(self, reference: str) -> bool:
        return bool(self.records) and bool(self._lookup(self.records[0], reference))


class Source(Protocol):
    """A logical source: batches of records, plus the CRS its geometries are in when it knows it."""

    epsg: int | None

    def batches(self, size: int) -> Iterator[Batch]: ...


@dataclass
class RecordSource:
    """A source from an iterator factory of records and a reference lookup for one record."""

    records: Callable[[], Iterator[Any]]
    lookup: Callable[[Any, str], list[Any]]
    epsg: int | None = None
    column: ColumnLookup | None = None

    def batches(self, size: int) -> Iterator[Batch]:
        first = 1
        chunk: list[Any] = []
        for record in self.records():
            chunk.append(record)
            if len(chunk) >= size:
                yield Batch(chunk, first, self.lookup, self.column)
                first += len(chunk)
                chunk = []
        if chunk:
            yield Batch(chunk, first, self.lookup, self.column)


def dict_lookup(record: dict[str, Any], reference: str) -> list[Any]:
    """Look up a column of a flat record (CSV row, Shapefile attributes): null and missing give no value."""
    value = record.get(reference)
    return [] if value is None else [value]
