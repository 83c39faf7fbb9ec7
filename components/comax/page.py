"""The analyzer's HTML page: the maximum, a map of the AOI and maxima over country outlines, maxima over time."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from html import escape
from typing import Any

import shapely

from components.comax.analysis import Summary
from components.comax.outlines import outlines
from components.comax.ticks import padded, time_labels, time_ticks, value_label, value_ticks

_SVG = 'xmlns="http://www.w3.org/2000/svg"'


def _ring_path(coords: Iterable[tuple[float, float]], sx: Callable[[float], float],
               sy: Callable[[float], float]) -> str:
    return "M" + "L".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in coords) + "Z"


def _map_svg(summary: Summary, width: int = 460, height: int = 330) -> str:
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
    west, east = max(min(xs) - pad, -180.0), min(max(xs) + pad, 180.0)
    south, north = max(min(ys) - pad, -90.0), min(max(ys) + pad, 90.0)
    scale = min(width / (east - west), height / (north - south))

    def sx(x: float) -> float:
        return (x - west) * scale

    def sy(y: float) -> float:
        return (north - y) * scale

    parts = [f'<svg {_SVG} width="{sx(east):.0f}" height="{sy(south):.0f}" '
             'style="background:#e4eef6;border:1px solid #99a">']
    land = "".join(_ring_path(ring.coords, sx, sy) for polygon in outlines(west, south, east, north)
                   for ring in (polygon.exterior, *polygon.interiors))
    if land:
        parts.append(f'<path class="land" d="{land}" fill="#f6f3ea" fill-rule="evenodd" stroke="#8f8a78" '
                     'stroke-width="0.7" stroke-linejoin="round"/>')
    for lon in value_ticks(west, east, 5):
        parts.append(f'<line x1="{sx(lon):.1f}" y1="0" x2="{sx(lon):.1f}" y2="{sy(south):.1f}" stroke="#b8c4d0" '
                     f'stroke-width="0.5"/><text x="{sx(lon) + 2:.1f}" y="12" font-size="10" fill="#556">'
                     f'{lon:g}°</text>')
    for lat in value_ticks(south, north, 4):
        parts.append(f'<line x1="0" y1="{sy(lat):.1f}" x2="{sx(east):.1f}" y2="{sy(lat):.1f}" stroke="#b8c4d0" '
                     f'stroke-width="0.5"/><text x="2" y="{sy(lat) - 2:.1f}" font-size="10" fill="#556">'
                     f'{lat:g}°</text>')
    if aoi is not None:
        for poly in getattr(aoi, "geoms", [aoi]):
            ring = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in poly.exterior.coords)
            parts.append(f'<polygon points="{ring}" fill="#4a90d926" stroke="#1f5f99" stroke-width="2"/>')
    for x, y, value in points:
        parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="#e39b2d">'
                     f'<title>{value:.5g} mol m-2</title></circle>')
    if data["longitude"] is not None:
        cx, cy = sx(data["longitude"]), sy(data["latitude"])
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="7" fill="none" stroke="#c0262d" stroke-width="3"/>'
                     f'<text x="{cx + 9:.1f}" y="{cy + 4:.1f}" font-size="12" fill="#c0262d">max</text>')
    parts.append("</svg>")
    return "".join(parts)


def _chart_svg(summary: Summary, width: int = 560, height: int = 260) -> str:
    series = sorted((datetime.fromisoformat(p.time.replace("Z", "+00:00")).timestamp(), p.max_mol_m2)
                    for p in summary.products if p.time and p.max_mol_m2 is not None)
    if not series:
        return "<p>No product maxima yet.</p>"
    t0, t1 = padded(series[0][0], series[-1][0], 0.04, 2 * 3600)
    low, high = min(v for _, v in series), max(v for _, v in series)
    v0, v1 = padded(low, high, 0.1, abs(high) * 0.2 or 1.0)
    left, right, top, bottom = 64, width - 12, 10, height - 40

    def px(t: float) -> float:
        return left + (t - t0) / (t1 - t0) * (right - left)

    def py(v: float) -> float:
        return bottom - (v - v0) / (v1 - v0) * (bottom - top)

    parts = [f'<svg {_SVG} width="{width}" height="{height}" font-size="11" fill="#334">']
    ys = value_ticks(v0, v1, 5)
    for v in ys:
        parts.append(f'<line x1="{left}" y1="{py(v):.1f}" x2="{right}" y2="{py(v):.1f}" stroke="#e1e5ea"/>'
                     f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end">{value_label(v, ys)}</text>')
    xs = time_ticks(t0, t1, max(2, (right - left) // 90))
    for t, (first, second) in zip(xs, time_labels(xs), strict=True):
        parts.append(f'<line x1="{px(t):.1f}" y1="{top}" x2="{px(t):.1f}" y2="{bottom + 4}" stroke="#e1e5ea"/>'
                     f'<text x="{px(t):.1f}" y="{bottom + 17}" text-anchor="middle">{first}</text>')
        if second:
            parts.append(f'<text x="{px(t):.1f}" y="{bottom + 31}" text-anchor="middle" fill="#667">{second}</text>')
    line = " ".join(f"{px(t):.1f},{py(v):.1f}" for t, v in series)
    parts += [f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#667"/>',
              f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#667"/>',
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
    """A self-contained HTML page: the maximum, a map of the AOI and maxima, maxima over time, the products."""
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
<style>body{{font-family:sans-serif;margin:2em;color:#223}} td,th{{padding:2px 8px;font-size:13px;text-align:left}}
.row{{display:flex;gap:2em;flex-wrap:wrap}} .scroll{{overflow:auto;max-height:70vh;max-width:100%}}
th{{position:sticky;top:0;background:#fff}}</style></head><body>
<h1>Sentinel-5P CO maximum</h1><p>{headline}</p><p>AOI {escape(summary.aoi_wkt or 'not set')}; window {window}.</p>
<div class="row"><div><h3>AOI and maxima</h3>{_map_svg(summary)}</div>
<div><h3>Per-product maximum over time (mol m⁻²)</h3>{_chart_svg(summary)}</div></div>
<h3>Products</h3><div class="scroll"><table><tr><th>product</th><th>max mol m⁻²</th><th>time</th>
<th>valid pixels</th><th>bytes read</th><th>error</th></tr>{rows}</table></div>
{_questions_table(questions or [], shown)}
<p><a href="/api/result">/api/result</a> · <a href="/api/products">/api/products</a> · <a href="/docs">API</a></p>
</body></html>"""
