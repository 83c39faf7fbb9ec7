"""Results kept in a folder shared by every replica of the analyzer (a ReadWriteMany volume in Kubernetes).

Layout under ``<folder>/comax-results/``: ``current.json`` names the question asked last (by any replica);
``<question id>/question.json`` holds the question's terms and ``<question id>/<product id>.json`` one product's
result. Every file is written whole under a temporary name and renamed into place, so readers on other replicas
see the old or the new content, never a part; the aggregate is computed from the files when asked, re-reading
only files whose identity (inode, mtime, size) changed since this process last read them.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.comax.analysis import ProductResult
from components.comax.state import Question, Recorded, product_id
from components.common.errors import Unavailable

logger = logging.getLogger(__name__)

SUBFOLDER = "comax-results"
CURRENT_FILE = "current.json"
QUESTION_FILE = "question.json"

Stamp = tuple[int, int, int]


@dataclass
class _Listing:
    """What this process last read of one question's folder: per file, its stamp and result (None: unreadable)."""

    files: dict[str, tuple[Stamp, Recorded | None]] = field(default_factory=dict)


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, flushed, then renamed."""
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class FolderStore:
    """A ``ResultStore`` of one file per product result; safe for several processes on one folder."""

    def __init__(self, folder: Path):
        self.root = Path(folder) / SUBFOLDER
        self._questions: dict[str, Question] = {}
        self._listings: dict[str, _Listing] = {}

    def put(self, question: Question, result: ProductResult) -> None:
        record = {"recorded": time.time(), "result": result.to_dict()}
        qdir = self.root / question.id
        try:
            for attempt in range(2):
                try:
                    qdir.mkdir(parents=True, exist_ok=True)
                    if not (qdir / QUESTION_FILE).is_file():
                        write_json(qdir / QUESTION_FILE, question.to_dict())
                    write_json(qdir / f"{product_id(result)}.json", record)
                    break
                except FileNotFoundError:
                    # another replica deleted the question meanwhile: this result starts it again
                    if attempt:
                        raise
            if self.current() != question.id:
                write_json(self.root / CURRENT_FILE, {"question": question.id})
        except OSError as err:
            # the folder is the server's business: logged here, not told to the client
            logger.error("cannot record a result in %s: %s", qdir, err)
            raise Unavailable(f"cannot record the result in the results folder: {err.strerror}") from err
        self._questions[question.id] = question

    def products(self, question_id: str) -> list[Recorded]:
        qdir = self.root / question_id
        old = self._listings.get(question_id, _Listing())
        new = _Listing()
        try:
            entries = list(os.scandir(qdir))
        except (FileNotFoundError, NotADirectoryError):
            self._listings.pop(question_id, None)
            return []
        for entry in entries:
            if entry.name.startswith(".") or not entry.name.endswith(".json") or entry.name == QUESTION_FILE:
                continue
            try:
                st = entry.stat()
            except FileNotFoundError:
                continue
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
            known = old.files.get(entry.name)
            new.files[entry.name] = known if known and known[0] == stamp else (stamp, self._read(Path(entry.path)))
        self._listings[question_id] = new
        return [rec for _, rec in new.files.values() if rec is not None]

    def question(self, question_id: str) -> Question | None:
        path = self.root / question_id / QUESTION_FILE
        if not path.is_file():
            self._questions.pop(question_id, None)
            return None
        if question_id not in self._questions:
            try:
                self._questions[question_id] = Question(**json.loads(path.read_text()))
            except (OSError, ValueError, TypeError) as err:
                logger.warning("ignoring unreadable question file %s: %s", path, err)
                return None
        return self._questions[question_id]

    def questions(self) -> list[Question]:
        try:
            names = [e.name for e in os.scandir(self.root) if e.is_dir() and not e.name.startswith(".")]
        except FileNotFoundError:
            return []
        return [q for q in (self.question(name) for name in names) if q is not None]

    def current(self) -> str | None:
        try:
            value = json.loads((self.root / CURRENT_FILE).read_text()).get("question")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, AttributeError) as err:
            logger.warning("ignoring unreadable %s: %s", self.root / CURRENT_FILE, err)
            return None
        return value if isinstance(value, str) else None

    def delete(self, question_id: str) -> bool:
        qdir = self.root / question_id
        # renamed first, so the question disappears at once for every replica, then removed at leisure
        grave = self.root / f".deleted-{question_id}-{uuid.uuid4().hex}"
        try:
            qdir.rename(grave)
        except FileNotFoundError:
            return False
        except OSError as err:
            logger.error("cannot delete %s: %s", qdir, err)
            raise Unavailable(f"cannot delete the results of question {question_id!r}: {err.strerror}") from err
        shutil.rmtree(grave, ignore_errors=True)
        self._questions.pop(question_id, None)
        self._listings.pop(question_id, None)
        if self.current() == question_id:
            (self.root / CURRENT_FILE).unlink(missing_ok=True)
        return True

    @staticmethod
    def _read(path: Path) -> Recorded | None:
        try:
            data = json.loads(path.read_text())
            return Recorded(float(data["recorded"]), ProductResult(**data["result"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, KeyError) as err:
            logger.warning("ignoring unreadable result file %s: %s", path, err)
            return None
