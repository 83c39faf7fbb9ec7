"""The running aggregate of a served analyzer: per-product results for one question, persisted atomically."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from components.comax.analysis import ProductResult, Query, Summary

logger = logging.getLogger(__name__)

RESULTS_FILE = "comax-results.json"


class ResultBook:
    """Thread-safe results of every product analysed for the current question (AOI, window, QA, pixel rule).

    A product analysed again replaces its earlier result; a different question starts a new aggregate. With a
    folder, the book is saved after every change (write to a temporary file, then rename) and loaded at start.
    """

    def __init__(self, folder: Path | None = None):
        self._lock = threading.Lock()
        self._path = folder / RESULTS_FILE if folder is not None else None
        self._key: list[Any] | None = None
        self._summary = Summary()
        if self._path is not None:
            self._load(self._path)

    def add(self, query: Query, result: ProductResult) -> Summary:
        """Record ``result`` under ``query`` and return a snapshot of the aggregate."""
        key: list[Any] = list(query.key)
        with self._lock:
            if key != self._key:
                if self._key is not None:
                    logger.info("new question (AOI/window/QA/pixel changed): starting a new aggregate")
                self._key = key
                self._summary = Summary(aoi_wkt=query.aoi_wkt, start=key[1] or None, end=key[2] or None)
            products = [p for p in self._summary.products if (p.href or p.product) != (result.href or result.product)]
            self._summary.products = [*products, result]
            self._save()
            return self.summary_locked()

    def summary(self) -> Summary:
        with self._lock:
            return self.summary_locked()

    def summary_locked(self) -> Summary:
        s = self._summary
        return Summary(aoi_wkt=s.aoi_wkt, start=s.start, end=s.end, products=list(s.products))

    def reset(self) -> None:
        with self._lock:
            self._key = None
            self._summary = Summary()
            self._save()

    def _save(self) -> None:
        if self._path is None:
            return
        data = {"key": self._key, **self._summary.to_dict()}
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{RESULTS_FILE}.", dir=self._path.parent)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self._path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def _load(self, path: Path) -> None:
        if not path.exists():
            return
        try:
            data = json.loads(path.read_text())
            products = [ProductResult(**p) for p in data.get("products", [])]
        except (OSError, ValueError, TypeError) as err:
            logger.warning("ignoring unreadable results file %s: %s", path, err)
            return
        self._key = data.get("key")
        self._summary = Summary(aoi_wkt=data.get("aoi_wkt", ""), start=data.get("start"), end=data.get("end"),
                                products=products)
        logger.info("loaded %d product results from %s", len(products), path)
