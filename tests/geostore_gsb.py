"""The GeoSPARQL Compliance Benchmark scored as it scores itself: each query's SPARQL results against the expected
answer (or an ``-alternative-k`` one) after its normalisation (geo:wktLiteral values without spaces and newlines,
lowercased; GML literals canonicalised with XML C14N), and the weighted compliance percentage.

The benchmark material is GPL-2.0 third-party data: read from the shared folder at run time, never copied."""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from pyoxigraph import BlankNode, Literal, QueryResultsFormat, QuerySolutions, parse_query_results

GSB = Path(__file__).resolve().parents[2] / "shared" / "data" / "linked" / "geosparql-compliance-benchmark"
if not GSB.is_dir():
    GSB = Path("/work/shared/data/linked/geosparql-compliance-benchmark")
WKT = "http://www.opengis.net/ont/geosparql#wktLiteral"
GML = "http://www.opengis.net/ont/geosparql#gmlLiteral"
Row = tuple[tuple[str, tuple[str, str, str]], ...]


def _term(term: object) -> tuple[str, str, str]:
    if isinstance(term, Literal):
        value, datatype = term.value, term.datatype.value
        if datatype == WKT:
            value = re.sub(r"\s+", "", value).lower()
        elif datatype == GML:
            with contextlib.suppress(ET.ParseError):
                value = ET.canonicalize(value, strip_text=True)
        return ("literal", value, term.language or datatype)
    if isinstance(term, BlankNode):
        return ("bnode", "", "")
    return ("uri", getattr(term, "value", str(term)), "")


def rows(results: object) -> list[Row] | bool:
    if isinstance(results, bool):
        return results
    if hasattr(results, "__bool__") and not isinstance(results, QuerySolutions):
        return bool(results)
    assert isinstance(results, QuerySolutions)
    names = [v.value for v in results.variables]
    return [tuple((n, _term(s[n])) for n in names if s[n] is not None) for s in results]


def expected(name: str) -> list[list[Row] | bool]:
    answers = []
    for path in sorted((GSB / "gsb_answers").glob(f"{name}*.srx")):
        if path.stem != name and not re.fullmatch(re.escape(name) + r"-alternative-\d+", path.stem):
            continue
        # pyoxigraph's results parser does not take CDATA sections: the same text, escaped
        text = re.sub(r"<!\[CDATA\[(.*?)\]\]>", lambda m: escape(m.group(1)), path.read_text(), flags=re.S)
        answers.append(rows(parse_query_results(text.encode(), format=QueryResultsFormat.XML)))
    return answers


def same(got: list[Row] | bool, want: list[Row] | bool, ordered: bool) -> bool:
    if isinstance(got, bool) or isinstance(want, bool):
        return got == want
    return got == want if ordered else sorted(got) == sorted(want)


@dataclass
class Score:
    passed: dict[str, bool]

    @property
    def correct(self) -> int:
        return sum(self.passed.values())

    @property
    def weighted(self) -> float:
        """Each of the 30 requirements weighs 1/30, split equally over its queries; R17 (untested) counts
        when anything passed."""
        by_requirement: dict[str, list[bool]] = defaultdict(list)
        for name, ok in self.passed.items():
            by_requirement[name.split("-")[1]].append(ok)
        total = sum(sum(oks) / len(oks) for oks in by_requirement.values()) / 30
        return 100 * (total + (1 / 30 if self.correct else 0))


def queries() -> list[Path]:
    return sorted((GSB / "gsb_queries").glob("query-r*.rq"))


def score(run: Callable[[str], object]) -> Score:
    """``run(query_text)`` returns pyoxigraph results (QuerySolutions, or a bool for ASK)."""
    passed = {}
    for path in queries():
        text = path.read_text()
        try:
            got = rows(run(text))
        except Exception:  # a query our store rejects is a failure, like a wrong answer
            passed[path.stem] = False
            continue
        ordered = "ORDER BY" in text.upper()
        passed[path.stem] = any(same(got, want, ordered) for want in expected(path.stem))
    return Score(passed)
