"""Quads from the term columns of one triples map over one batch of records."""

from __future__ import annotations

from components.geotriples_adapter.termcolumns import at_most_one, is_constant
from components.geotriples_adapter.terms import RDF_TYPE

Quad = tuple[str, str, str, str]  # subject, predicate, object, graph ("" = default graph)
RDF_TYPE_TERM = f"<{RDF_TYPE}>"

# per predicate-object map: predicate columns, object columns, graph columns, and whether it has graphs
PomColumns = tuple[list[list[list[str]]], list[list[list[str]]], list[list[list[str]]], bool]


# subjects, subject graphs, class terms, predicate-object maps
EmitColumns = tuple[list[list[str]], list[list[list[str]]], list[str], list[PomColumns]]


def ntriples(batch: list[Quad]) -> str:
    """N-Triples lines of quads (their graphs left out)."""
    return "".join([f"{s} {p} {o} .\n" for s, p, o, _ in batch])


def nquads(batch: list[Quad]) -> str:
    """N-Quads lines of quads."""
    return "".join([f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n" for s, p, o, g in batch])


def emit(subjects: list[list[str]], subject_graphs: list[list[list[str]]], classes: list[str],
         poms: list[PomColumns], out: list[Quad]) -> None:
    """Append the quads of a batch to ``out`` (records whose subject list is empty give none)."""
    if _by_columns(subjects, subject_graphs, poms):
        _emit_columns(subjects, classes, poms, out)
    else:
        _emit_rows(subjects, subject_graphs, classes, poms, out)


def emit_text(subjects: list[list[str]], subject_graphs: list[list[list[str]]], classes: list[str],
              poms: list[PomColumns], graphs: bool = False) -> tuple[str, int]:
    """``emit`` as N-Triples (N-Quads with ``graphs``) text, and the number of triples; the common case (default
    graph only) writes the lines
    straight from the term columns, without making quads first."""
    if _by_columns(subjects, subject_graphs, poms):
        lines = _lines_columns(subjects, classes, poms)
        return "".join(lines), len(lines)
    out: list[Quad] = []
    _emit_rows(subjects, subject_graphs, classes, poms, out)
    return (nquads if graphs else ntriples)(out), len(out)


def _by_columns(subjects: list[list[str]], subject_graphs: list[list[list[str]]], poms: list[PomColumns]) -> bool:
    return not subject_graphs and not any(graphs for _, _, graphs, _ in poms) and at_most_one(subjects)


def _lines_columns(subjects: list[list[str]], classes: list[str], poms: list[PomColumns]) -> list[str]:
    """``_emit_columns`` as N-Triples lines, in the same order."""
    lines: list[str] = []
    for c in classes:
        tail = f" {RDF_TYPE_TERM} {c} .\n"
        lines.extend([subs[0] + tail for subs in subjects if subs])
    for predicates, objects, _, _ in poms:
        for pcol in predicates:
            for ocol in objects:
                if len(pcol) and is_constant(pcol) and at_most_one(ocol):
                    p = pcol[0][0] if pcol[0] else None
                    if p is not None:
                        middle = f" {p} "
                        # one f-string (a single join) is twice as fast as chained concatenation here
                        lines.extend([f"{subs[0]}{middle}{objs[0]} .\n"
                                      for subs, objs in zip(subjects, ocol, strict=True) if subs and objs])
                    continue
                for subs, preds, objs in zip(subjects, pcol, ocol, strict=True):
                    if subs:
                        lines.extend([f"{subs[0]} {p} {o} .\n" for p in preds for o in objs])
    return lines


def _emit_columns(subjects: list[list[str]], classes: list[str], poms: list[PomColumns], out: list[Quad]) -> None:
    """The common case (no graph maps, one subject per record): whole columns at a time."""
    for c in classes:
        out.extend([(subs[0], RDF_TYPE_TERM, c, "") for subs in subjects if subs])
    for predicates, objects, _, _ in poms:
        for pcol in predicates:
            for ocol in objects:
                if len(pcol) and is_constant(pcol) and at_most_one(ocol):
                    p = pcol[0][0] if pcol[0] else None
                    if p is not None:
                        out.extend([(subs[0], p, objs[0], "")
                                    for subs, objs in zip(subjects, ocol, strict=True) if subs and objs])
                    continue
                for subs, preds, objs in zip(subjects, pcol, ocol, strict=True):
                    if subs:
                        out.extend([(subs[0], p, o, "") for p in preds for o in objs])


def _emit_rows(subjects: list[list[str]], subject_graphs: list[list[list[str]]], classes: list[str],
               poms: list[PomColumns], out: list[Quad]) -> None:
    has_subject_graphs = bool(subject_graphs)
    append = out.append
    for i in range(len(subjects)):
        subs = subjects[i]
        if not subs:
            continue
        base_graphs = [g for col in subject_graphs for g in col[i]]
        if has_subject_graphs and not base_graphs:
            continue
        for s in subs:
            for c in classes:
                for g in base_graphs or ("",):
                    append((s, RDF_TYPE_TERM, c, g))
        for predicates, objects, graphs, named in poms:
            pom_graphs = base_graphs + [g for col in graphs for g in col[i]] if graphs else base_graphs
            if named and not pom_graphs:
                continue
            for pcol in predicates:
                for p in pcol[i]:
                    for ocol in objects:
                        for o in ocol[i]:
                            for s in subs:
                                for g in pom_graphs or ("",):
                                    append((s, p, o, g))

