"""Streaming serialisers of quad batches: N-Triples, N-Quads, and Turtle (prefixed names, grouped subjects)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter

from components.common.errors import InvalidInput
from components.geotriples_adapter.emit import Quad, nquads, ntriples

FORMATS = ("ntriples", "turtle", "nquads")
_ALIASES = {"nt": "ntriples", "n-triples": "ntriples", "ttl": "turtle", "nq": "nquads", "n-quads": "nquads"}
_LOCAL = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*\Z")

DEFAULT_PREFIXES = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "geo": "http://www.opengis.net/ont/geosparql#",
    "sf": "http://www.opengis.net/ont/sf#",
    "strdf": "http://strdf.di.uoa.gr/ontology#",
    "sosa": "http://www.w3.org/ns/sosa/",
    "dcterms": "http://purl.org/dc/terms/",
}


def normalise_format(name: str | None) -> str:
    """One of ``FORMATS`` from a user's name for it (empty means N-Triples)."""
    key = (name or "ntriples").strip().lower()
    key = _ALIASES.get(key, key)
    if key not in FORMATS:
        raise InvalidInput(f"unknown RDF format {name!r}; choose one of {', '.join(FORMATS)}")
    return key


class TurtleWriter:
    """Turtle that abbreviates IRIs with known prefixes and groups consecutive triples of one subject."""

    def __init__(self, prefixes: dict[str, str] | None = None):
        self.prefixes = {**DEFAULT_PREFIXES, **(prefixes or {})}
        self._by_length = sorted(self.prefixes.items(), key=lambda kv: -len(kv[1]))
        self._subject: str | None = None
        self._cache: dict[str, str] = {}

    def header(self) -> str:
        return "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in self.prefixes.items()) + "\n"

    def _short(self, term: str) -> str:
        if not term.startswith("<"):
            if "^^<" in term:
                text, _, datatype = term.rpartition("^^")
                return f"{text}^^{self._short(datatype)}"
            return term
        cached = self._cache.get(term)
        if cached is None:
            cached = term
            value = term[1:-1]
            for prefix, ns in self._by_length:
                if value.startswith(ns) and _LOCAL.match(value[len(ns):]):
                    cached = f"{prefix}:{value[len(ns):]}"
                    break
            if len(self._cache) < 10000:
                self._cache[term] = cached
        return cached

    def batch(self, batch: list[Quad]) -> str:
        lines = []
        short = self._short
        # the engine emits a batch column by column; a stable sort groups each subject's triples
        for s, p, o, _ in sorted(batch, key=itemgetter(0)):
            pred = "a" if p == "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>" else short(p)
            if s == self._subject:
                lines.append(f" ;\n    {pred} {short(o)}")
            else:
                lines.append(f"{' .' if self._subject is not None else ''}\n{short(s)} {pred} {short(o)}")
                self._subject = s
        return "".join(lines)

    def footer(self) -> str:
        return " .\n" if self._subject is not None else ""


def serialise(batches: Iterable[list[Quad]], fmt: str, prefixes: dict[str, str] | None = None) -> Iterator[str]:
    """Text chunks of ``fmt`` (one per batch, plus Turtle's header and footer)."""
    fmt = normalise_format(fmt)
    if fmt == "turtle":
        writer = TurtleWriter(prefixes)
        yield writer.header()
        for batch in batches:
            yield writer.batch(batch)
        yield writer.footer()
        return
    write: Callable[[list[Quad]], str] = ntriples if fmt == "ntriples" else nquads
    for batch in batches:
        yield write(batch)
