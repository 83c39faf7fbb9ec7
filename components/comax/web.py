"""REST API and a small page on the web port: ``/api/result``, ``/api/products``, ``DELETE /api/result``, ``/``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import HTMLResponse

from components.comax.page import render_page
from components.comax.state import ResultBook
from components.common.errors import InvalidInput, NotFound, Unavailable
from components.common.web import error_responses, new_app

# A question id is the first 16 hex digits of a SHA-256 (``Query.question_id``): anything else names no question,
# and is refused before it reaches the results store (a folder name there).
QUESTION_ID = r"^[0-9a-f]{16}$"


def create_router_app(book: ResultBook) -> FastAPI:
    """The FastAPI app of the analyzer (OpenAPI at ``/docs`` and ``/openapi.json``)."""
    app = new_app("ai4cop comax", "Maximum Sentinel-5P CO column over an area and period")
    router = APIRouter(prefix="/api", tags=["comax"])

    which = Query(None, pattern=QUESTION_ID,
                  description="a question id from GET /api/questions (default: the question asked last)")
    asked = error_responses(InvalidInput, NotFound)

    @router.get("/result", summary="The aggregate over every product analysed for a question", responses=asked)
    def get_result(question: str | None = which) -> dict[str, Any]:
        return book.summary(question).to_dict()

    @router.get("/products", summary="Per-product results of a question", responses=asked)
    def get_products(question: str | None = which) -> list[dict[str, Any]]:
        return [p.to_dict() for p in book.summary(question).products]

    @router.delete("/result", summary="Forget a question's results (default: the question asked last)",
                   responses=error_responses(InvalidInput, NotFound, Unavailable))
    def delete_result(question: str | None = which) -> dict[str, Any]:
        book.reset(question)
        return {"reset": True}

    @router.get("/questions", summary="Every question with results (AOI, window, QA, pixel rule), current first")
    def get_questions() -> list[dict[str, Any]]:
        return book.questions()

    @router.delete("/questions", summary="Forget every question's results", responses=error_responses(Unavailable))
    def delete_questions() -> dict[str, Any]:
        return {"reset": True, "questions": book.reset_all()}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page(question: str | None = which) -> str:
        return render_page(book.summary(question), book.questions(), question)

    app.include_router(router)
    return app

