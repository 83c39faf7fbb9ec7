"""The catalogue interface, and the one paging loop every backend shares (dedup, stop rules, limit)."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Protocol, runtime_checkable

from components.databroker.query import ProductRecord, Query, processing_mode_of

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
# Products repeated across pages come from offset paging over a result set that shifted between two
# requests, so a repeat is always close to its first occurrence: remembering the ids of the last few
# pages removes them while memory stays flat in the number of products.
DEDUP_PAGES = 10

PageCallback = Callable[[int, int], None]


@runtime_checkable
class Catalogue(Protocol):
    """A searchable catalogue: ``search`` is lazy and yields products as their pages arrive."""

    name: str

    def search(self, query: Query, on_page: PageCallback | None = None) -> Iterator[ProductRecord]:
        """Products matching ``query``; ``on_page(pages, products)`` is called after each page."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class PagedCatalogue:
    """Base of the backends: they provide ``pages`` and ``records``; ``search`` applies the rules common to all."""

    name = "catalogue"
    page_size = PAGE_SIZE

    def pages(self, query: Query) -> Iterator[list[Any]]:
        """Raw result pages, each the list of the catalogue's own items; fetched only as iterated."""
        raise NotImplementedError

    def records(self, items: list[Any], query: Query) -> list[ProductRecord]:
        """The product records of one raw page (an item that cannot be read is logged and skipped)."""
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to release by default."""

    def record_filter(self, query: Query) -> Callable[[ProductRecord], bool] | None:
        """What a product must match that the catalogue could not filter itself; ``None`` if nothing.

        The processing mode is read from the product name, since not every catalogue can query it.
        """
        mode = query.processing_mode
        if not mode:
            return None
        return lambda record: processing_mode_of(record.name) == mode

    def page_size_for(self, query: Query) -> int:
        return min(query.limit, self.page_size) if query.limit else self.page_size

    def search(self, query: Query, on_page: PageCallback | None = None) -> Iterator[ProductRecord]:
        """Matching products, each once, at most ``query.limit`` (0 = all); lazy.

        Paging ends on an empty page or on a page holding only products already seen (a server
        that repeats its last page instead of ending).
        """
        keep = self.record_filter(query)
        limit = query.limit
        seen: set[str] = set()
        recent: deque[list[str]] = deque()
        count = pages = 0
        for items in self.pages(query):
            pages += 1
            if not items:
                logger.info("%s: page %d is empty; paging ends", self.name, pages)
                return
            fresh: list[str] = []
            remember, note = seen.add, fresh.append
            for record in self.records(items, query):
                identifier = record.id
                if identifier in seen:
                    continue
                remember(identifier)
                note(identifier)
                if keep is not None and not keep(record):
                    continue
                yield record
                count += 1
                if count == limit:
                    return
            if not fresh:
                logger.info("%s: page %d holds no new product; paging ends", self.name, pages)
                return
            recent.append(fresh)
            if len(recent) > DEDUP_PAGES:
                seen.difference_update(recent.popleft())
            if on_page is not None:
                on_page(pages, count)
