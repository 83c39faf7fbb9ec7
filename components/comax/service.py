"""The CO max analyzer's transport-free API: analyse a product for a question and keep the aggregate."""

from __future__ import annotations

from components.comax.analysis import ProductResult, Query, Summary
from components.comax.report import analyze_product
from components.comax.results_folder import FolderStore
from components.comax.settings import Settings
from components.comax.sources import Sources
from components.comax.state import ResultBook
from components.common.errors import InvalidInput


class COMaxService:
    """Analyses products for the platform and keeps the aggregate; transport-free."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.sources = Sources(settings.source_config())
        self.book = ResultBook(FolderStore(settings.results_folder) if settings.results_folder else None,
                               keep_runs=settings.keep_runs)

    def query_for(self, aoi: str, start: str, end: str) -> Query:
        """The question for one product: its own AOI/window, else the configured defaults."""
        aoi = aoi or self.settings.aoi or ""
        if not aoi.strip():
            raise InvalidInput("the Product carries no aoi_wkt and no default AOI is set (COMAX_AOI)")
        if not (start or end):
            start, end = self.settings.start or "", self.settings.end or ""
        return Query.build(aoi, start or None, end or None, qa_min=self.settings.qa_min, pixel=self.settings.pixel)

    def analyze(self, href: str, name: str, query: Query, run: str = "") -> tuple[ProductResult, Summary]:
        """Analyse one product for pipeline run ``run`` ('' = not named), record it, and return its result and
        the aggregate (of that run's question)."""
        if not href:
            result = ProductResult(product=name or "(unnamed)", error="InvalidInput: the Product has no href")
        else:
            result = analyze_product(self.sources, href, query, name)
        return result, self.book.add(query, result, run)

    def close(self) -> None:
        self.sources.close()
