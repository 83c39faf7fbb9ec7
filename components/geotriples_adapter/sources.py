"""Logical sources of the standard RML reference formulations: CSV, JSONPath (streamed where possible), XPath."""

from __future__ import annotations

import csv
import functools
import json
import re
from collections.abc import Callable, Iterator, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any

from components.common.errors import InvalidInput, NotFound, UnreadableData
from components.geotriples_adapter.jsonarray import array_objects
from components.geotriples_adapter.mapping import QL, LogicalSource, Mapping
from components.geotriples_adapter.records import Column, RecordSource, Source, dict_lookup

_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\[['\"]([^'\"\]]+)['\"]\]|\[\*\]|\.\*")
_SIMPLE_REFERENCE = re.compile(r"(?:\$\.)?[^.$@\[\]*()?]+(?:\.[^.$@\[\]*()?]+)*\Z")

Opener = Callable[[Path, LogicalSource, Mapping], Source]


def resolve(mapping: Mapping, source: str) -> Path:
    """The file a source names, relative to the mapping's folder; ``NotFound`` when it does not exist."""
    path = Path(source)
    if not path.is_absolute():
        path = mapping.folder / path
    if path.is_dir():
        raise InvalidInput(f"source file {source!r} is a folder ({path}): a logical source names one file")
    if not path.is_file():
        raise NotFound(f"source file {source!r} not found (looked in {path.parent})")
    return path


def open_source(logical: LogicalSource, mapping: Mapping) -> Source:
    """A ``Source`` for a logical source, by its reference formulation."""
    from components.geotriples_adapter.geosources import GEO_OPENERS

    openers: dict[str, Opener] = {str(QL.CSV): open_csv, str(QL.JSONPath): open_json, str(QL.XPath): open_xml,
                                  **GEO_OPENERS}
    opener = openers.get(logical.formulation)
    if opener is None:
        raise InvalidInput(f"reference formulation {logical.formulation} is not supported "
                           f"(supported: {', '.join(sorted(openers))})")
    return opener(resolve(mapping, logical.source), logical, mapping)


def csv_delimiter(path: Path) -> str:
    """The delimiter of a CSV file whose mapping does not say: tab for ``.tsv``, else comma."""
    return "\t" if path.suffix.lower() == ".tsv" else ","


def open_csv(path: Path, logical: LogicalSource, mapping: Mapping) -> Source:
    delimiter = logical.delimiter or csv_delimiter(path)

    def records() -> Iterator[dict[str, Any]]:
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                yield from csv.DictReader(handle, delimiter=delimiter)
        except (UnicodeDecodeError, csv.Error) as err:
            raise UnreadableData(f"{path.name} is not readable CSV: {err}") from err

    return RecordSource(records, dict_lookup)


def open_json(path: Path, logical: LogicalSource, mapping: Mapping) -> Source:
    """JSON records: streamed (ijson) when the iterator is a path of keys and ``[*]``, else loaded whole."""
    iterator = logical.iterator or "$"
    prefix = ijson_prefix(iterator)
    if prefix is None:
        return RecordSource(lambda: _jsonpath_records(path, iterator), json_lookup, column=json_column)
    return json_records(path, prefix)


def ijson_prefix(iterator: str) -> str | None:
    """The ijson prefix of a JSONPath iterator made of child keys and ``[*]``/``.*`` steps, else None."""
    if not iterator.startswith("$"):
        return None
    parts = []
    position = 1
    while position < len(iterator):
        match = _STEP.match(iterator, position)
        if match is None:
            return None
        key = match.group(1) or match.group(2)
        if key is not None and ("." in key or key == "item"):
            return None  # ijson's prefix syntax cannot name these keys
        parts.append(key if key is not None else "item")
        position = match.end()
    return ".".join(parts)


def json_records(path: Path, prefix: str) -> RecordSource:
    """The values at ijson ``prefix``, parsed one at a time (memory flat in the number of records)."""

    def streamed() -> Iterator[Any]:
        import ijson

        key = prefix[:-len(".item")] if prefix.endswith(".item") else ""
        blocks = array_objects(path, key) if key and "." not in key else None
        if blocks is not None:
            yield from blocks  # GeoJSON's features: a faster reader of top-level arrays of objects
            return
        try:
            with path.open("rb") as handle:
                yield from ijson.items(handle, prefix, use_float=True)
        except ijson.JSONError as err:
            raise UnreadableData(f"{path.name} is not valid JSON: {err}") from err

    return RecordSource(streamed, json_lookup, column=json_column)


def _jsonpath_records(path: Path, iterator: str) -> Iterator[Any]:
    # recursive descent, filters, slices and the like need the whole document
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise UnreadableData(f"{path.name} is not valid JSON: {err}") from err
    for found in _jsonpath(iterator).find(document):
        yield found.value


@functools.lru_cache(maxsize=512)
def _jsonpath(expression: str) -> Any:
    from jsonpath_ng.exceptions import JsonPathParserError
    from jsonpath_ng.ext import parse

    try:
        return parse(expression)
    except (JsonPathParserError, Exception) as err:
        raise InvalidInput(f"invalid JSONPath {expression!r}: {err}") from err


@functools.lru_cache(maxsize=512)
def _dotted(reference: str) -> tuple[str, ...] | None:
    if not _SIMPLE_REFERENCE.match(reference):
        return None
    return tuple(reference.removeprefix("$.").split("."))


def json_lookup(record: Any, reference: str) -> list[Any]:
    """Evaluate a JSONPath reference on one record; arrays give one value per element, null gives none."""
    keys = _dotted(reference)
    if keys is not None:
        value = record
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                return []
            value = value[key]
        values = value if isinstance(value, list) else [value]
    else:
        values = []
        for found in _jsonpath(reference).find(record):
            values.extend(found.value if isinstance(found.value, list) else [found.value])
    return [v for v in values if v is not None]


def json_column(records: Sequence[Any], reference: str) -> Column:
    """``json_lookup`` over a batch of records; a dotted path that every record has is looked up at C speed."""
    keys = _dotted(reference)
    if keys is None:
        return [json_lookup(record, reference) for record in records]
    try:
        values = list(records)
        for key in keys:
            if set(map(type, values)) != {dict}:
                raise TypeError("not an object")
            values = list(map(itemgetter(key), values))
    except (KeyError, TypeError):
        return [json_lookup(record, reference) for record in records]
    if set(map(type, values)) & {list, type(None)}:
        return [[] if v is None else [x for x in v if x is not None] if type(v) is list else [v] for v in values]
    return [[v] for v in values]


def open_xml(path: Path, logical: LogicalSource, mapping: Mapping) -> Source:
    """XML records: streamed when the iterator and references allow it (see ``xmlsource.py``), else loaded."""
    from lxml import etree

    from components.geotriples_adapter.xmlsource import StreamedXmlSource, references, streamable

    namespaces = dict(mapping.prefixes)
    iterator = logical.iterator or "/*"

    def lookup(record: Any, reference: str) -> list[Any]:
        result = _xpath(reference, tuple(sorted(namespaces.items())))(record)
        if isinstance(result, list):
            return [str(v) if isinstance(v, str) else v for v in result]
        if isinstance(result, bool | float | str):
            return [result]
        return []

    stream = streamable(iterator, namespaces, references(mapping, logical))
    if stream is not None:
        return StreamedXmlSource(path, *stream, lookup)

    def records() -> Iterator[Any]:
        try:
            tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
        except etree.XMLSyntaxError as err:
            raise UnreadableData(f"{path.name} is not valid XML: {err}") from err
        nodes = _xpath(iterator, tuple(sorted(namespaces.items())))(tree)
        yield from (nodes if isinstance(nodes, list) else [])

    return RecordSource(records, lookup)


@functools.lru_cache(maxsize=512)
def _xpath(expression: str, namespaces: tuple[tuple[str, str], ...]) -> Any:
    from lxml import etree

    try:
        return etree.XPath(expression, namespaces=dict(namespaces))
    except etree.XPathSyntaxError as err:
        raise InvalidInput(f"invalid XPath {expression!r}: {err}") from err
