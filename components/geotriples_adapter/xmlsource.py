"""Streamed XML logical sources: ``lxml.etree.iterparse`` over the iterator's elements, cleared batch by batch.

Streaming applies when the iterator is ``//name`` or an absolute path ``/a/b/c`` (names optionally prefixed) and
every reference the mapping evaluates on the records stays inside the record (no ``..``, no ancestor, sibling or
absolute paths). Then memory is flat in the number of records: once a batch is turned into triples, everything
before its last record is removed from the tree. Other iterators and references read the whole document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from components.common.errors import UnreadableData
from components.geotriples_adapter.mapping import LogicalSource, Mapping, TermMap, TriplesMap
from components.geotriples_adapter.records import Batch
from components.geotriples_adapter.termcolumns import parse_template

_NAME = r"(?:[A-Za-z_][\w.-]*:)?[A-Za-z_][\w.-]*"
_DESCENDANT = re.compile(rf"//({_NAME})\Z")
_ABSOLUTE = re.compile(rf"(?:/{_NAME})+\Z")
# a location path that leaves the record: parent/ancestor/sibling axes, "..", or a path from the root
_LEAVES_RECORD = re.compile(r"\.\.|ancestor|parent::|preceding|following|(?:^|[\s(\[|,=<>!+*-])/|\bid\s*\(")


def streamable(iterator: str, namespaces: dict[str, str], references: set[str]) -> tuple[bool, list[str]] | None:
    """(descendant?, Clark-notation tags of the path) when records can be streamed, else None."""
    if any(_LEAVES_RECORD.search(reference.strip()) for reference in references):
        return None
    match = _DESCENDANT.match(iterator)
    if match:
        names, descendant = [match.group(1)], True
    elif _ABSOLUTE.match(iterator):
        names, descendant = iterator[1:].split("/"), False
    else:
        return None
    tags = []
    for name in names:
        prefix, _, local = name.rpartition(":")
        if prefix and prefix not in namespaces:
            return None  # let XPath compilation report the unknown prefix
        tags.append(f"{{{namespaces[prefix]}}}{local}" if prefix else local)
    return descendant, tags


def references(mapping: Mapping, logical: LogicalSource) -> set[str]:
    """Every reference the mapping evaluates on records of ``logical`` (term maps, function arguments, joins)."""
    found: set[str] = set()

    def collect(term_map: TermMap) -> None:
        if term_map.kind == "reference":
            found.add(term_map.value)
        elif term_map.kind == "template":
            found.update(text for is_ref, text in parse_template(term_map.value) if is_ref)
        for argument in term_map.arguments:
            collect(argument)

    for tm in mapping.triples_maps.values():
        if tm.source.key == logical.key:
            for term_map in _term_maps(tm):
                collect(term_map)
            found.update(j.child for pom in tm.poms for ref in pom.ref_objects for j in ref.joins)
        for pom in tm.poms:
            for ref in pom.ref_objects:
                parent = mapping.triples_maps[ref.parent]
                if parent.source.key == logical.key:
                    collect(parent.subject)
                    found.update(j.parent for j in ref.joins)
    return found


def _term_maps(tm: TriplesMap) -> Iterator[TermMap]:
    yield tm.subject
    yield from tm.subject_graphs
    for pom in tm.poms:
        yield from (*pom.predicates, *pom.objects, *pom.graphs)


class StreamedXmlSource:
    """Records of an XML file matched by a simple iterator, parsed incrementally."""

    epsg: int | None = None

    def __init__(self, path: Path, descendant: bool, tags: list[str], lookup: Callable[[Any, str], list[Any]]):
        self.path = path
        self.descendant = descendant
        self.tags = tags
        self.lookup = lookup

    def batches(self, size: int) -> Iterator[Batch]:
        from lxml import etree

        first = 1
        chunk: list[Any] = []
        target = self.tags[-1]
        try:
            for _event, element in etree.iterparse(str(self.path), events=("end",), tag=target,
                                                   resolve_entities=False, no_network=True, huge_tree=True):
                for record in self._records(element, target):
                    chunk.append(record)
                    if len(chunk) >= size:
                        yield Batch(chunk, first, self.lookup)
                        first += len(chunk)
                        _release(chunk[-1])
                        chunk = []
        except etree.XMLSyntaxError as err:
            raise UnreadableData(f"{self.path.name} is not valid XML: {err}") from err
        if chunk:
            yield Batch(chunk, first, self.lookup)

    def _records(self, element: Any, target: str) -> list[Any]:
        if self.descendant:
            # a match inside another match comes out with the outer one, in document order (as XPath gives them)
            if any(ancestor.tag == target for ancestor in element.iterancestors()):
                return []
            return list(element.iter(target))
        ancestors = [ancestor.tag for ancestor in element.iterancestors()]
        return [element] if ancestors == self.tags[-2::-1] else []


def _release(element: Any) -> None:
    """Remove everything before ``element`` (already turned into triples) from the tree being parsed."""
    node = element
    parent = node.getparent()
    while parent is not None:
        while node.getprevious() is not None:
            del parent[0]
        node, parent = parent, parent.getparent()
