"""A folder of product files as a catalogue: an index of each file's coverage and footprint, cached."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import shapely
import shapely.prepared

from components.common.cache import cache_root
from components.common.errors import InvalidInput, UnreadableData
from components.databroker.catalogues.base import PagedCatalogue
from components.databroker.catalogues.common import parse_stamp
from components.databroker.catalogues.footprint import read_facts
from components.databroker.query import ProductRecord, Query, isoformat

logger = logging.getLogger(__name__)

# 2: entries also hold the orbit, processor version and processing mode
INDEX_VERSION = 2
SUFFIXES = (".nc", ".nc4", ".h5", ".he5")


def _norm(collection: str) -> str:
    return collection.upper().replace("-", "").replace("_", "")


class LocalCatalogue(PagedCatalogue):
    """Products under ``folder`` (recursively); the index lives in ``cache_dir`` keyed by name, size, mtime."""

    name = "local"

    def __init__(self, folder: Path, cache_dir: Path | None = None):
        self.folder = Path(folder).expanduser().resolve()
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else cache_root() / "databroker"
        digest = hashlib.sha1(str(self.folder).encode()).hexdigest()[:16]
        self.index_path = self.cache_dir / f"index-{digest}.json"

    def pages(self, query: Query) -> Iterator[list[Any]]:
        aoi = shapely.prepared.prep(query.search_area)
        matches = [
            record for record, footprint in self._records()
            if record.start < query.end and record.end > query.start
            and record.product_type == query.product_type
            and _norm(record.collection) == _norm(query.collection)
            and aoi.intersects(footprint)
        ]
        matches.sort(key=lambda record: (record.start, record.name))
        size = self.page_size_for(query)
        for begin in range(0, len(matches), size):
            yield matches[begin:begin + size]

    def records(self, items: list[Any], query: Query) -> list[ProductRecord]:
        return items

    def index(self) -> list[ProductRecord]:
        """Every readable product of the folder (refreshing the cached index first)."""
        return [record for record, _ in self._records()]

    def _records(self) -> list[tuple[ProductRecord, Any]]:
        if not self.folder.is_dir():
            raise InvalidInput(f"product folder {self.folder} does not exist or is not a folder (give --dir or "
                               f"DATABROKER_DIR; `ai4cop sample s5p-co {self.folder}` writes sample products)")
        cached = self._load()
        entries: dict[str, dict[str, Any]] = {}
        changed = False
        for path in self._files():
            relative = path.relative_to(self.folder).as_posix()
            stat = path.stat()
            key = f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}"
            entry = cached.get(relative)
            if entry is None or entry.get("key") != key:
                entry = self._entry(path, key)
                changed = True
            entries[relative] = entry
        if changed or entries.keys() != cached.keys():
            self._save(entries)
        records = []
        for relative, entry in entries.items():
            if "error" not in entry:
                record = self._record(relative, entry)
                records.append((record, shapely.from_wkt(record.footprint_wkt)))
        return records

    def _files(self) -> Iterator[Path]:
        for path in sorted(self.folder.rglob("*")):
            if path.suffix not in SUFFIXES or path.name.startswith(".") or not path.is_file():
                continue
            if not path.resolve().is_relative_to(self.folder):
                logger.warning("local catalogue: skipping %s, which points outside %s", path, self.folder)
                continue
            yield path

    def _entry(self, path: Path, key: str) -> dict[str, Any]:
        try:
            facts = read_facts(path)
        except UnreadableData as err:
            logger.warning("local catalogue: %s", err)
            return {"key": key, "error": str(err)}
        return {"key": key, "start": isoformat(facts.start), "end": isoformat(facts.end),
                "footprint": facts.footprint_wkt, "product_type": facts.product_type,
                "collection": "SENTINEL-5P" if facts.platform == "S5P" or path.name.startswith("S5P_")
                else facts.platform, "size": path.stat().st_size, "orbit": facts.orbit,
                "processor_version": facts.processor_version, "processing_mode": facts.processing_mode}

    def _record(self, relative: str, entry: dict[str, Any]) -> ProductRecord:
        path = self.folder / relative
        return ProductRecord(
            id=relative, name=path.name, href=path.as_uri(), start=parse_stamp(entry["start"]),
            end=parse_stamp(entry["end"]), footprint_wkt=entry["footprint"], size_bytes=int(entry["size"]),
            product_type=entry["product_type"], collection=entry["collection"], catalogue=self.name,
        )

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.index_path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as err:
            logger.warning("local catalogue: ignoring unreadable index %s (%s)", self.index_path, err)
            return {}
        if data.get("version") != INDEX_VERSION or data.get("folder") != str(self.folder):
            return {}
        return dict(data.get("entries") or {})

    def _save(self, entries: dict[str, dict[str, Any]]) -> None:
        data = {"version": INDEX_VERSION, "folder": str(self.folder), "entries": entries}
        tmp = self.index_path.with_name(f".{self.index_path.name}.{os.getpid()}.tmp")
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(data))
            tmp.replace(self.index_path)
        except OSError as err:
            # A read-only cache only costs re-reading the files next time.
            logger.warning("local catalogue: cannot write index %s (%s)", self.index_path, err)
            with contextlib.suppress(OSError):  # also when the cache folder is a file
                tmp.unlink(missing_ok=True)
