"""Referencing object maps (``rr:parentTriplesMap``): parent subjects, joined on ``rr:joinCondition``.

The parent side of a join is read once and indexed in memory (join key -> parent subjects): memory grows with
the parent source, not with the child. Joins without conditions over another source give every parent subject.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from components.geotriples_adapter.mapping import Mapping, RefObjectMap, TermMap, TriplesMap
from components.geotriples_adapter.records import Batch
from components.geotriples_adapter.sources import open_source
from components.geotriples_adapter.termcolumns import combinations, text_of

SubjectTerms = Callable[[TermMap, Batch], list[list[str]]]


class Joins:
    """Object terms of referencing object maps; ``subjects`` makes a triples map's subject terms for a batch."""

    def __init__(self, mapping: Mapping, batch_size: int, subjects: SubjectTerms):
        self.mapping = mapping
        self.batch_size = batch_size
        self.subjects = subjects
        self._index: dict[tuple[str, tuple[str, ...]], dict[tuple[str, ...], list[str]]] = {}
        self._parent_subjects: dict[str, list[str]] = {}

    def objects(self, tm: TriplesMap, ref: RefObjectMap, batch: Batch) -> list[list[str]]:
        """Per record of ``batch`` (of ``tm``'s source), the parent subjects ``ref`` links it to."""
        parent = self.mapping.triples_maps[ref.parent]
        if not ref.joins:
            if parent.source.key == tm.source.key:
                return self.subjects(parent.subject, batch)
            everything = self._all_parent_subjects(parent)
            return [everything] * len(batch)
        index = self._parent_index(parent, tuple(j.parent for j in ref.joins))
        children = [batch.values(j.child) for j in ref.joins]
        out: list[list[str]] = []
        for i in range(len(batch)):
            found: list[str] = []
            for key in combinations([[text_of(v) for v in col[i]] for col in children]):
                found.extend(index.get(key, ()))
            out.append(list(dict.fromkeys(found)))
        return out

    def _all_parent_subjects(self, parent: TriplesMap) -> list[str]:
        if parent.name not in self._parent_subjects:
            found: list[str] = []
            for batch in open_source(parent.source, self.mapping).batches(self.batch_size):
                for subs in self.subjects(parent.subject, batch):
                    found.extend(subs)
            self._parent_subjects[parent.name] = list(dict.fromkeys(found))
        return self._parent_subjects[parent.name]

    def _parent_index(self, parent: TriplesMap, references: tuple[str, ...]) -> dict[tuple[str, ...], list[str]]:
        key = (parent.name, references)
        if key not in self._index:
            index: dict[Any, list[str]] = {}
            for batch in open_source(parent.source, self.mapping).batches(self.batch_size):
                subjects = self.subjects(parent.subject, batch)
                columns = [batch.values(r) for r in references]
                for i in range(len(batch)):
                    for combo in combinations([[text_of(v) for v in col[i]] for col in columns]):
                        index.setdefault(combo, []).extend(subjects[i])
            self._index[key] = index
        return self._index[key]
