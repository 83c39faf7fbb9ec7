"""REST API and a small page on the web port: ``/api/result``, ``/api/products``, ``DELETE /api/result``, ``/``."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

import shapely
from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import HTMLResponse

from components.comax.analysis import Summary
from components.comax.state import ResultBook
from components.common.errors import InvalidInput, NotFound, Unavailable
from components.common.web import error_responses

# A question id is the first 16 hex digits of a SHA-256 (``Query.question_id``): anything else names no question,
# and is refused before it reaches the results store (a folder name there).
QUESTION_ID = r"^[0-9a-f]{16}$"


def create_router_app(book: ResultBook) -> FastAPI:
    """The FastAPI app of the analyzer (OpenAPI at ``/docs`` and ``/openapi.json``)."""
    app = FastAPI(title="ai4cop comax", description="Maximum Sentinel-5P CO column over an area and period")
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


def _map_svg(summary: Summary, width: int = 420, height: int = 300) -> str:
    data = summary.to_dict()
    try:
        aoi = shapely.from_wkt(summary.aoi_wkt) if summary.aoi_wkt else None
    except shapely.errors.GEOSException:
        aoi = None
    points = [(p.longitude, p.latitude, p.max_mol_m2) for p in summary.products
              if p.longitude is not None and p.latitude is not None]
    xs = [x for x, _, _ in points] + ([aoi.bounds[0], aoi.bounds[2]] if aoi is not None else [])
    ys = [y for _, y, _ in points] + ([aoi.bounds[1], aoi.bounds[3]] if aoi is not None else [])
    if not xs:
        return "<p>No results yet.</p>"
    pad = max(max(xs) - min(xs), max(ys) - min(ys), 0.5) * 0.15
    west, east, south, north = min(xs) - pad, max(xs) + pad, min(ys) - pad, max(ys) + pad
    scale = min(width / (east - west), height / (north - south))

    def sx(x: float) -> float:
        return (x - west) * scale

    def sy(y: float) -> float:
        return (north - y) * scale

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{sx(east):.0f}" height="{sy(south):.0f}" '
             'style="background:#eef4f8;border:1px solid #99a">']
    step = 10 ** int(f"{max(east - west, north - south) / 4:e}".split("e")[1]) or 1
    lon = (west // step + 1) * step
    while lon < east:
        parts.append(f'<line x1="{sx(lon):.1f}" y1="0" x2="{sx(lon):.1f}" y2="{sy(south):.1f}" stroke="#ccd"/>'
                     f'<text x="{sx(lon) + 2:.1f}" y="12" font-size="10" fill="#667">{lon:g}°</text>')
        lon += step
    lat = (south // step + 1) * step
    while lat < north:
        parts.append(f'<line x1="0" y1="{sy(lat):.1f}" x2="{sx(east):.1f}" y2="{sy(lat):.1f}" stroke="#ccd"/>'
                     f'<text x="2" y="{sy(lat) - 2:.1f}" font-size="10" fill="#667">{lat:g}°</text>')
        lat += step
    if aoi is not None:
        for poly in getattr(aoi, "geoms", [aoi]):
            ring = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in poly.exterior.coords)
            parts.append(f'<polygon points="{ring}" fill="#4a90d933" stroke="#1f5f99" stroke-width="2"/>')
    for x, y, value in points:
        parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="#e39b2d">'
                     f'<title>{value:.5g} mol m-2</title></circle>')
    if data["longitude"] is not None:
        cx, cy = sx(data["longitude"]), sy(data["latitude"])
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="7" fill="none" stroke="#c0262d" stroke-width="3"/>'
                     f'<text x="{cx + 9:.1f}" y="{cy + 4:.1f}" font-size="12" fill="#c0262d">max</text>')
    parts.append("</svg>")
    return "".join(parts)


def _chart_svg(summary: Summary, width: int = 520, height: int = 220) -> str:
    series = sorted((datetime.fromisoformat(p.time.replace("Z", "+00:00")).timestamp(), p.max_mol_m2)
                    for p in summary.products if p.time and p.max_mol_m2 is not None)
    if not series:
        return "<p>No product maxima yet.</p>"
    t0, t1 = series[0][0], series[-1][0]
    v0, v1 = min(v for _, v in series), max(v for _, v in series)
    v0, v1 = (v0 * 0.9, v1 * 1.1) if v1 > v0 else (v0 * 0.5, v1 * 1.5 or 1.0)
    left, bottom = 60, height - 30

    def px(t: float) -> float:
        return left + (t - t0) / (t1 - t0) * (width - left - 10) if t1 > t0 else (left + width) / 2

    def py(v: float) -> float:
        return bottom - (v - v0) / (v1 - v0) * (bottom - 10)

    line = " ".join(f"{px(t):.1f},{py(v):.1f}" for t, v in series)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">',
             f'<line x1="{left}" y1="{bottom}" x2="{width}" y2="{bottom}" stroke="#667"/>',
             f'<line x1="{left}" y1="0" x2="{left}" y2="{bottom}" stroke="#667"/>',
             f'<text x="2" y="14" font-size="10">{v1:.4g}</text><text x="2" y="{bottom}" font-size="10">'
             f'{v0:.4g}</text>',
             f'<text x="{left}" y="{height - 8}" font-size="10">'
             f'{datetime.fromtimestamp(t0, UTC):%Y-%m-%d %H:%M}</text>',
             f'<text x="{width - 110}" y="{height - 8}" font-size="10">'
             f'{datetime.fromtimestamp(t1, UTC):%Y-%m-%d %H:%M}</text>',
             f'<polyline points="{line}" fill="none" stroke="#1f5f99" stroke-width="2"/>']
    parts += [f'<circle cx="{px(t):.1f}" cy="{py(v):.1f}" r="3" fill="#1f5f99"><title>{v:.5g}</title></circle>'
              for t, v in series]
    parts.append("</svg>")
    return "".join(parts)


def _questions_table(questions: list[dict[str, Any]], shown: str | None) -> str:
    """Every run and question with results, each a link to its page; the one shown in bold."""
    if len(questions) < 2:
        return ""
    rows = []
    for q in questions:
        here = q["id"] == shown or (shown is None and q["current"])
        label = escape(q["run"] or "(no run named)")
        link = label if here else f'<a href="/?question={escape(q["id"])}">{label}</a>'
        style = ' style="font-weight:bold"' if here else ""
        rows.append(f"<tr{style}><td>{link}</td>"
                    f"<td>{escape(q['aoi_wkt'][:60])}</td><td>{escape(q['start'] or '…')} to "
                    f"{escape(q['end'] or '…')}</td><td>{q['products_analyzed']}</td>"
                    f"<td>{escape((q['updated'] or '')[:19].replace('T', ' '))}</td>"
                    f"<td>{'current' if q['current'] else ''}</td></tr>")
    return ("<h3>Runs and questions</h3><table><tr><th>run</th><th>AOI</th><th>window</th><th>products</th>"
            f"<th>last result (UTC)</th><th></th></tr>{''.join(rows)}</table>")


def render_page(summary: Summary, questions: list[dict[str, Any]] | None = None, shown: str | None = None) -> str:
    """A self-contained HTML page: the maximum, a map of the AOI and maxima, maxima over time, the products, and
    (when there are several) every run and question with results, ``shown`` (default: the current one) in bold."""
    data = summary.to_dict()
    if data["max_mol_m2"] is None:
        headline = f"No valid pixel yet ({data['products_analyzed']} products analysed)."
    else:
        headline = (f"Maximum CO column <b>{data['max_mol_m2']:.5g} mol m⁻²</b> "
                    f"({data['max_molecules_cm2']:.4g} molecules cm⁻²) at {data['latitude']:.3f}°, "
                    f"{data['longitude']:.3f}° on {escape(data['time'])}, from {escape(data['product'])}; "
                    f"{data['valid_pixels']} valid pixels in {data['products_analyzed']} products.")
    rows = "".join(
        f"<tr><td>{escape(p.product)}</td><td>{'' if p.max_mol_m2 is None else f'{p.max_mol_m2:.5g}'}</td>"
        f"<td>{escape(p.time or '')}</td><td>{p.valid_pixels}</td><td>{p.bytes_read}</td>"
        f"<td>{escape(p.error or '')}</td></tr>" for p in summary.products)
    window = f"{escape(summary.start or '…')} to {escape(summary.end or '…')}"
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>CO max analyzer</title>
<style>body{{font-family:sans-serif;margin:2em;color:#223}} td,th{{padding:2px 8px;font-size:13px}}
.row{{display:flex;gap:2em;flex-wrap:wrap}}</style></head><body>
<h1>Sentinel-5P CO maximum</h1><p>{headline}</p><p>AOI {escape(summary.aoi_wkt or 'not set')}; window {window}.</p>
<div class="row"><div><h3>AOI and maxima</h3>{_map_svg(summary)}</div>
<div><h3>Per-product maximum over time (mol m⁻²)</h3>{_chart_svg(summary)}</div></div>
<h3>Products</h3><table><tr><th>product</th><th>max mol m⁻²</th><th>time</th><th>valid pixels</th>
<th>bytes read</th><th>error</th></tr>{rows}</table>
{_questions_table(questions or [], shown)}
<p><a href="/api/result">/api/result</a> · <a href="/api/products">/api/products</a> · <a href="/docs">API</a></p>
</body></html>"""
