"""Whole columns of RDF terms (N-Triples text) from columns of raw source values: the engine's hot loops.

A column holds, per record, the list of values (or terms) a term map gives for it; one value is by far the
common case, and the loops below are written for it.
"""

from __future__ import annotations

import re
from operator import itemgetter
from typing import Any

from components.geotriples_adapter.records import Column
from components.geotriples_adapter.terms import XSD, iri_safe, lexical

_TEMPLATE_PART = re.compile(r"\\([{}\\])|\{((?:\\.|[^\\}])*)\}")
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
INFERRED = {bool: XSD + "boolean", int: XSD + "integer", float: XSD + "double"}


def parse_template(template: str) -> list[tuple[bool, str]]:
    """A template as (is_reference, text) parts, with ``\\{``, ``\\}`` and ``\\\\`` unescaped."""
    parts: list[tuple[bool, str]] = []
    position = 0
    for match in _TEMPLATE_PART.finditer(template):
        text = template[position:match.start()]
        if match.group(1) is not None:
            parts.append((False, text + match.group(1)))
        else:
            if text:
                parts.append((False, text))
            parts.append((True, re.sub(r"\\(.)", r"\1", match.group(2))))
        position = match.end()
    if position < len(template):
        parts.append((False, template[position:]))
    merged: list[tuple[bool, str]] = []
    for is_ref, text in parts:
        if merged and not is_ref and not merged[-1][0]:
            merged[-1] = (False, merged[-1][1] + text)
        else:
            merged.append((is_ref, text))
    return merged


def text_of(value: Any) -> str:
    """The lexical form of a raw value: strings as they are, XML elements by their text content."""
    kind = type(value)
    if kind is str:
        return value
    if kind is int:
        return str(value)
    if hasattr(value, "itertext"):
        return "".join(value.itertext())
    return lexical(value)


def one_reference_template(column: Column, prefix: str, suffix: str, encode: bool) -> list[list[str]]:
    """``prefix + value + suffix`` per value of ``column`` (IRI-safe encoded when ``encode``)."""
    if column and set(map(len, column)) == {1}:
        values = list(map(itemgetter(0), column))
        if set(map(type, values)) == {int}:
            # digits and "-" are unreserved: nothing to encode (the GeoTriplesID case)
            return [[prefix + str(value) + suffix] for value in values]
    out: list[list[str]] = []
    append = out.append
    for values in column:
        if len(values) == 1:
            value = values[0]
            if type(value) is int:
                append([prefix + str(value) + suffix])
                continue
            text = text_of(value)
            append([prefix + (iri_safe(text) if encode else text) + suffix])
        else:
            append([prefix + (iri_safe(text_of(v)) if encode else text_of(v)) + suffix for v in values])
    return out


def _suffix(datatype: str | None, language: str | None) -> str:
    if language:
        return '"@' + language
    if datatype and datatype != XSD + "string":
        return f'"^^<{datatype}>'
    return '"'


def literal_values(values: list[Any], datatype: str | None, language: str | None) -> list[list[str]]:
    """Literal terms for one value per record (None: no term): a column of one type (function results, most
    attribute columns) is formatted in one comprehension, without a per-value type dispatch."""
    formatted = _single_type(values, _suffix(datatype, language))
    if formatted is not None:
        return formatted
    return _literal_loop([[] if value is None else [value] for value in values], _suffix(datatype, language))


def literal_column(column: Column, datatype: str | None, language: str | None) -> list[list[str]]:
    """Literal terms for a column of raw values."""
    suffix = _suffix(datatype, language)
    if column and set(map(len, column)) == {1}:
        formatted = _single_type(list(map(itemgetter(0), column)), suffix)
        if formatted is not None:
            return formatted
    return _literal_loop(column, suffix)


def _single_type(values: list[Any], suffix: str) -> list[list[str]] | None:
    """Terms for values all of one type (str, float, int, bool), else None."""
    kinds = set(map(type, values))
    if len(kinds) != 1:
        return None
    kind = kinds.pop()
    if kind is str:
        joined = "".join(values)
        if '"' in joined or "\\" in joined or "\n" in joined or "\r" in joined:
            return None
        return [[f'"{value}{suffix}'] for value in values]
    if kind is float:
        return [['"' + repr(value) + suffix] for value in values]
    if kind is int:
        return [['"' + str(value) + suffix] for value in values]
    if kind is bool:
        true, false = '"true' + suffix, '"false' + suffix
        return [[true] if value else [false] for value in values]
    return None


def _literal_loop(column: Column, suffix: str) -> list[list[str]]:
    """The general case: any number of values per record, of any types."""
    escapes = _ESCAPES
    true, false = '"true' + suffix, '"false' + suffix
    # other values that repeat: format each distinct one once
    memo: dict[tuple[type, Any], str] = {}
    out: list[list[str]] = []
    append = out.append
    for values in column:
        if len(values) != 1:
            append([literal_term(value, suffix) for value in values])
            continue
        value = values[0]
        kind = type(value)
        if kind is str:
            if '"' in value or "\\" in value or "\n" in value or "\r" in value:
                value = value.translate(escapes)
            append(['"' + value + suffix])
        elif kind is bool:
            append([true if value else false])
        elif kind is float:
            append(['"' + repr(value) + suffix])
        elif kind is int:
            append(['"' + str(value) + suffix])
        else:
            key = (kind, value)
            term = memo.get(key)
            if term is None:
                term = memo[key] = literal_term(value, suffix)
            append([term])
    return out


def literal_term(value: Any, suffix: str) -> str:
    """One literal term: ``"`` + the escaped lexical form + ``suffix`` (closing quote, datatype or language)."""
    kind = type(value)
    text = value if kind is str else repr(value) if kind is float else text_of(value)
    if '"' in text or "\\" in text or "\n" in text or "\r" in text:
        text = text.translate(_ESCAPES)
    return '"' + text + suffix


def at_most_one(column: list[list[str]]) -> bool:
    """True when no record has more than one term."""
    return not column or max(map(len, column)) <= 1


def is_constant(column: list[list[str]]) -> bool:
    """True for the shared-list column ``[[term]] * n`` a constant term map makes."""
    return all(values is column[0] for values in column[:2]) and len(column[0]) == 1


def combinations(pieces: list[list[str]]) -> list[Any]:
    """Cartesian product of per-reference value lists (one value each is by far the common case)."""
    if all(len(p) == 1 for p in pieces):
        return [tuple(p[0] for p in pieces)] if pieces else [()]
    combos: list[tuple[str, ...]] = [()]
    for values in pieces:
        combos = [(*c, v) for c in combos for v in values]
    return combos
