"""The catalogue interface, and the one paging loop every backend shares (dedup, stop rules, limit)."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Protocol, runtime_checkable

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
    """Base of the backends: they provide ``pages``; ``search`` applies the rules common to all."""

    name = "catalogue"
    page_size = PAGE_SIZE

    def pages(self, query: Query) -> Iterator[list[ProductRecord]]:
        """Raw result pages, fetched only as iterated (backends override)."""
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to release by default."""

    def accepts(self, record: ProductRecord, query: Query) -> bool:
        """Whether a product the catalogue returned matches what it could not filter itself.

        The processing mode is read from the product name, since not every catalogue can query it.
        """
        return not query.processing_mode or processing_mode_of(record.name) == query.processing_mode

    def page_size_for(self, query: Query) -> int:
        return min(query.limit, self.page_size) if query.limit else self.page_size

    def search(self, query: Query, on_page: PageCallback | None = None) -> Iterator[ProductRecord]:
        """Matching products, each once, at most ``query.limit`` (0 = all); lazy.

        Paging ends on an empty page or on a page holding only products already seen (a server
        that repeats its last page instead of ending).
        """
        recent: OrderedDict[str, None] = OrderedDict()
        window = DEDUP_PAGES * self.page_size_for(query)
        count = pages = 0
        for page in self.pages(query):
            pages += 1
            fresh = 0
            for record in page:
                if record.id in recent:
                    continue
                fresh += 1
                recent[record.id] = None
                if len(recent) > window:
                    recent.popitem(last=False)
                if not self.accepts(record, query):
                    continue
                yield record
                count += 1
                if query.limit and count >= query.limit:
                    return
            if not fresh:
                logger.info("%s: page %d is %s; paging ends", self.name, pages, "repeated" if page else "empty")
                return
            if on_page is not None:
                on_page(pages, count)
