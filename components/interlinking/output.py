"""Link writers: N-Triples with GeoSPARQL predicates (loadable straight into the GeoSPARQL store) or CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from components.common.errors import InvalidInput
from components.interlinking.engine import WITHIN_DISTANCE, Links
from components.interlinking.relations import PREDICATES

# GeoSPARQL has no predicate for "within d metres"; ours lives under the project's own namespace
DISTANCE_PREDICATE = "https://w3id.org/ai4cop/interlinking#withinDistance"


def predicate(relation: str) -> str:
    """The RDF predicate of a relation name."""
    return DISTANCE_PREDICATE if relation == WITHIN_DISTANCE else PREDICATES[relation]


def _term(iri: str) -> str:
    return iri if iri.startswith("_:") else f"<{iri}>"


def _ntriples(links: Links) -> str:
    return "".join(f"{_term(s)} <{predicate(r)}> {_term(t)} .\n"
                   for s, t, r in zip(links.sources, links.targets, links.relations, strict=True))


def _csv(links: Links) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        zip(links.sources, links.targets, links.relations, strict=True))
    return buffer.getvalue()


WRITERS: dict[str, Callable[[Links], str]] = {"ntriples": _ntriples, "csv": _csv}
HEADERS: dict[str, str] = {"ntriples": "", "csv": "source,target,relation\n"}


def writer(fmt: str) -> Callable[[Links], str]:
    """The writer for ``fmt`` (``InvalidInput`` listing the known ones otherwise)."""
    try:
        return WRITERS[fmt.lower()]
    except KeyError:
        raise InvalidInput(f"unknown output format {fmt!r} (known: {', '.join(WRITERS)})") from None
