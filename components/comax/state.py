"""The results of a served analyzer, per question (AOI, window, QA threshold, pixel rule) and pipeline run.

A ``ResultBook`` keeps every question's per-product results and knows the current question (the one asked last);
the aggregate of a question is computed from its product results when asked. A call that names its pipeline run
(``components.common.runs``: our orchestrator names every run) records under that run's own question, so each
run has its own aggregate and a re-run gives the whole answer again; calls that name none share one.

Where the results live is a ``ResultStore``: in memory (one process), or a folder shared by every replica
(``FolderStore``), so each replica's reply and ``GET /api/result`` cover the products every replica analysed.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from components.comax.analysis import ProductResult, Query, Summary
from components.common.aoi import isoformat
from components.common.errors import NotFound

KEEP_RUNS = 20


@dataclass(frozen=True)
class Question:
    """What a set of results answers: a query, in one pipeline run or in none (``run`` = '').

    ``id`` is ``Query.question_id``, made distinct per run for a run's question.
    """

    id: str
    aoi_wkt: str
    start: str | None
    end: str | None
    qa_min: float
    pixel: str
    run: str = ""

    @classmethod
    def of(cls, query: Query, run: str = "") -> Question:
        _, start, end, qa_min, pixel = query.key
        qid = query.question_id
        if run:
            qid = hashlib.sha256(f"{qid}/{run}".encode()).hexdigest()[:16]
        return cls(qid, query.aoi_wkt, start or None, end or None, qa_min, pixel, run)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self, products: list[ProductResult]) -> Summary:
        return Summary(aoi_wkt=self.aoi_wkt, start=self.start, end=self.end, products=products)


@dataclass(frozen=True)
class Recorded:
    """A product result and when it was recorded (results are listed in that order)."""

    at: float
    result: ProductResult


def product_id(result: ProductResult) -> str:
    """The identity of a product within a question: its href, else its name (analysed again = replaced)."""
    return hashlib.sha256((result.href or result.product).encode()).hexdigest()[:16]


class ResultStore(Protocol):
    """Where a ``ResultBook`` keeps questions and product results."""

    def put(self, question: Question, result: ProductResult) -> None:
        """Record ``result`` (replacing the same product's earlier one) and make ``question`` current."""

    def products(self, question_id: str) -> list[Recorded]:
        """The question's product results (any order); empty for an unknown question."""

    def question(self, question_id: str) -> Question | None: ...

    def questions(self) -> list[Question]: ...

    def current(self) -> str | None:
        """The id of the question asked last, if any."""

    def delete(self, question_id: str) -> bool:
        """Forget the question and its results; False when it was not known."""


class MemoryStore:
    """Results of this process only (no results folder configured)."""

    def __init__(self) -> None:
        self._questions: dict[str, Question] = {}
        self._results: dict[str, dict[str, Recorded]] = {}
        self._current: str | None = None

    def put(self, question: Question, result: ProductResult) -> None:
        self._questions.setdefault(question.id, question)
        self._results.setdefault(question.id, {})[product_id(result)] = Recorded(time.time(), result)
        self._current = question.id

    def products(self, question_id: str) -> list[Recorded]:
        return list(self._results.get(question_id, {}).values())

    def question(self, question_id: str) -> Question | None:
        return self._questions.get(question_id)

    def questions(self) -> list[Question]:
        return list(self._questions.values())

    def current(self) -> str | None:
        return self._current

    def delete(self, question_id: str) -> bool:
        self._results.pop(question_id, None)
        if self._current == question_id:
            self._current = None
        return self._questions.pop(question_id, None) is not None


class ResultBook:
    """Thread-safe results of every question asked; the aggregate of one question on demand.

    The default store keeps them in memory; ``components.comax.results_folder.FolderStore`` keeps one file per
    product in a folder, so they survive a restart and are shared by every process using the same folder.
    """

    def __init__(self, store: ResultStore | None = None, keep_runs: int = KEEP_RUNS):
        self._lock = threading.Lock()
        self._store: ResultStore = store if store is not None else MemoryStore()
        self._keep_runs = keep_runs

    def add(self, query: Query, result: ProductResult, run: str = "") -> Summary:
        """Record ``result`` under ``query``'s question in run ``run`` and return that question's aggregate.

        The first result of a new run makes room: only the ``keep_runs`` most recent runs' results are kept.
        """
        question = Question.of(query, run)
        with self._lock:
            new_run = bool(run) and self._store.question(question.id) is None
            self._store.put(question, result)
            if new_run:
                self._forget_old_runs()
            return self._summary(question)

    def _forget_old_runs(self) -> None:
        runs = [q for q in self._store.questions() if q.run]
        if len(runs) <= self._keep_runs:
            return
        latest = {q.id: max((r.at for r in self._store.products(q.id)), default=0.0) for q in runs}
        for question in sorted(runs, key=lambda q: latest[q.id])[:len(runs) - self._keep_runs]:
            self._store.delete(question.id)

    def summary(self, question_id: str | None = None) -> Summary:
        """The aggregate of a question (default: the current one; empty before any); ``NotFound`` if unknown."""
        with self._lock:
            qid = question_id or self._store.current()
            if qid is None:
                return Summary()
            question = self._store.question(qid)
            if question is None:
                if question_id is None:
                    return Summary()
                raise NotFound(f"no results for question {question_id!r}; GET /api/questions lists them")
            return self._summary(question)

    def questions(self) -> list[dict[str, Any]]:
        """Every question with results: its id, terms and run, how many products, when the last was recorded,
        whether it is the current one; the current first, then the most recent."""
        with self._lock:
            current = self._store.current()
            listed = []
            for q in self._store.questions():
                recorded = self._store.products(q.id)
                last = max((r.at for r in recorded), default=0.0)
                listed.append((q.id != current, -last, q.id, {
                    **q.to_dict(), "products_analyzed": len(recorded), "current": q.id == current,
                    "updated": isoformat(datetime.fromtimestamp(last, UTC)) if recorded else None}))
        return [entry for *_, entry in sorted(listed, key=lambda item: item[:3])]

    def reset(self, question_id: str | None = None) -> None:
        """Forget one question's results (default: the current question's); ``NotFound`` for an unknown id."""
        with self._lock:
            qid = question_id or self._store.current()
            if not (qid and self._store.delete(qid)) and question_id is not None:
                raise NotFound(f"no results for question {question_id!r}")

    def reset_all(self) -> int:
        """Forget every question; returns how many there were."""
        with self._lock:
            questions = self._store.questions()
            for question in questions:
                self._store.delete(question.id)
            return len(questions)

    def _summary(self, question: Question) -> Summary:
        recorded = sorted(self._store.products(question.id), key=lambda r: (r.at, r.result.product))
        return question.summary([r.result for r in recorded])
