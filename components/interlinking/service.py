"""The interlinking's transport-free API: what the CLI, the gRPC servicer and the tests call."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from components.common.errors import InvalidInput, PermissionDenied
from components.interlinking.datasets import WGS84, Dataset
from components.interlinking.engine import Options, Summary, interlink
from components.interlinking.output import HEADERS, writer
from components.interlinking.relations import parse_relations

BASE_IRI = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`]+$')


@dataclass
class Job:
    """One interlinking of ``source`` with ``target``: its text chunks in ``fmt`` and, once they are all read,
    its ``summary``."""

    source: Dataset
    target: Dataset
    options: Options
    fmt: str = "ntriples"
    summary: Summary = field(default_factory=Summary)

    def texts(self, progress: Callable[[int], None] | None = None) -> Iterator[tuple[str, int]]:
        """(text, links in it) per streamed chunk that produced links; the CSV header comes first."""
        write = writer(self.fmt)
        if HEADERS[self.fmt]:
            yield HEADERS[self.fmt], 0
        for links in interlink(self.source, self.target, self.options, self.summary, progress):
            yield write(links), len(links)


def job(source: Path, target: Path, relations: list[str] | tuple[str, ...] | None = None,
        distance: float | None = None, fmt: str = "ntriples", base_iri: str = "http://example.com",
        crs: str = WGS84, chunk: int = 10_000, qualifying: int | None = None,
        wkt_column: str | None = None) -> Job:
    """A ``Job`` over two files; relations default to all nine unless only a distance is asked for."""
    writer(fmt)
    if not BASE_IRI.match(base_iri):
        raise InvalidInput(f"base IRI {base_iri!r} is not an absolute IRI (scheme:rest, no spaces, <, > or quotes)")
    chosen = parse_relations(relations) if relations or distance is None else ()
    if qualifying is not None and qualifying < 0:
        raise InvalidInput("qualifying must be >= 0")
    options = Options(relations=chosen, distance=distance, chunk=chunk)
    summary = Summary(qualifying=qualifying)
    return Job(Dataset(source, crs, base_iri, wkt_column=wkt_column),
               Dataset(target, crs, base_iri, wkt_column=wkt_column), options, fmt.lower(), summary)


def confine(root: Path, requested: str, what: str) -> Path:
    """``requested`` (relative, or absolute inside ``root``) as a path that stays inside ``root``."""
    if not requested or "\x00" in requested:
        raise InvalidInput(f"{what} is empty or contains a NUL byte")
    candidate = Path(requested)
    if ".." in candidate.parts:
        raise PermissionDenied(f"{what} {requested!r} may not contain '..'")
    base = root.resolve()
    if candidate.is_absolute():
        try:
            candidate = candidate.relative_to(base)
        except ValueError as err:
            raise PermissionDenied(f"{what} {requested!r} is outside the shared folder") from err
    resolved = (base / candidate).resolve()
    if resolved != base and base not in resolved.parents:
        raise PermissionDenied(f"{what} {requested!r} leads outside the shared folder (symlink)")
    return resolved


class InterlinkingService:
    """Jobs over datasets in the shared folder, with the component's defaults."""

    def __init__(self, shared_folder: Path, base_iri: str, crs: str, chunk: int):
        self.shared_folder = shared_folder
        self.base_iri = base_iri
        self.crs = crs
        self.chunk = chunk

    def job(self, source: str, target: str, relations: list[str], distance: float | None, fmt: str,
            base_iri: str = "", crs: str = "", qualifying: int | None = None) -> Job:
        """A job over two paths inside the shared folder (empty options take the component's defaults)."""
        return job(confine(self.shared_folder, source, "source"), confine(self.shared_folder, target, "target"),
                   relations, distance, fmt or "ntriples", base_iri or self.base_iri, crs or self.crs, self.chunk,
                   qualifying)
