"""The query page: editor with examples, results table, the results' geometries drawn on an SVG map (no CDN:
the page is self-contained), the query time and what the index answered."""

from __future__ import annotations

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ai4cop geostore</title>
<style>
body{font-family:sans-serif;margin:1em;max-width:1100px}textarea{width:100%;height:11em;font-family:monospace}
table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;padding:2px 6px;max-width:420px;
overflow:hidden;text-overflow:ellipsis;white-space:nowrap}#map{border:1px solid #999;background:#f4f8fb}
#status{color:#444;margin:.5em 0}
</style></head><body>
<h1>GeoSPARQL store</h1>
<label>Example <select id="examples"></select></label>
<textarea id="query"></textarea>
<button id="run">Run</button> <span id="status"></span>
<svg id="map" width="640" height="320" viewBox="0 0 640 320"></svg>
<div id="table"></div>
<script>
const P = "PREFIX geo: <http://www.opengis.net/ont/geosparql#>\\n" +
  "PREFIX geof: <http://www.opengis.net/def/function/geosparql/>\\n";
const EXAMPLES = {
  "All geometries": P + "SELECT ?g ?wkt WHERE { ?g geo:asWKT ?wkt } LIMIT 100",
  "Selection (index)": P + "SELECT ?g ?wkt WHERE { ?g geo:asWKT ?wkt .\\n" +
    "  FILTER(geof:sfIntersects(?wkt, \\"POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))\\"^^geo:wktLiteral)) }",
  "Join (index)": P + "SELECT ?a ?b WHERE { ?a geo:asWKT ?wa . ?b geo:asWKT ?wb .\\n" +
    "  FILTER(geof:sfIntersects(?wa, ?wb)) } LIMIT 100",
  "Buffer and distance": P + "PREFIX uom: <http://www.opengis.net/def/uom/OGC/1.0/>\\n" +
    "SELECT ?g (geof:buffer(?wkt, 1000, uom:metre) AS ?buffer) WHERE { ?g geo:asWKT ?wkt } LIMIT 10",
};
const sel = document.getElementById("examples"), q = document.getElementById("query");
for (const name in EXAMPLES) { const o = document.createElement("option"); o.textContent = name; sel.appendChild(o); }
sel.onchange = () => { q.value = EXAMPLES[sel.value]; };
q.value = EXAMPLES[sel.options[0].value];
function text(s) { return document.createTextNode(s); }
function coords(g, out) {
  if (!g) return; if (g.type === "GeometryCollection") { g.geometries.forEach(x => coords(x, out)); return; }
  const walk = c => { if (typeof c[0] === "number") out.push(c); else c.forEach(walk); }; walk(g.coordinates);
}
function draw(fc) {
  const svg = document.getElementById("map"); svg.innerHTML = ""; const pts = [];
  fc.features.forEach(f => coords(f.geometry, pts)); if (!pts.length) return;
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  pts.forEach(([x, y]) => { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); });
  const s = Math.min(620 / ((x1 - x0) || 1), 300 / ((y1 - y0) || 1));
  const px = ([x, y]) => `${10 + (x - x0) * s},${310 - (y - y0) * s}`;
  const ns = "http://www.w3.org/2000/svg";
  const add = (g) => {
    if (!g) return;
    if (g.type === "GeometryCollection") return g.geometries.forEach(add);
    const parts = g.type.startsWith("Multi") ? g.coordinates : [g.coordinates];
    const kind = g.type.replace("Multi", "");
    parts.forEach(c => {
      let e;
      if (kind === "Point") { e = document.createElementNS(ns, "circle"); const [x, y] = px(c).split(",");
        e.setAttribute("cx", x); e.setAttribute("cy", y); e.setAttribute("r", 3); }
      else { e = document.createElementNS(ns, kind === "Polygon" ? "polygon" : "polyline");
        e.setAttribute("points", (kind === "Polygon" ? c[0] : c).map(px).join(" ")); }
      e.setAttribute("fill", kind === "LineString" ? "none" : "rgba(30,100,200,.3)");
      e.setAttribute("stroke", "#1e64c8"); svg.appendChild(e);
    });
  };
  fc.features.forEach(f => add(f.geometry));
}
document.getElementById("run").onclick = async () => {
  const status = document.getElementById("status"); status.textContent = "running...";
  const r = await fetch("sparql", {method: "POST", body: new URLSearchParams({query: q.value}),
    headers: {"Accept": "application/geo+json"}});
  if (!r.ok) { status.textContent = (await r.json()).detail; return; }
  const fc = await r.json(); const idx = JSON.parse(r.headers.get("X-Geostore-Index") || "[]");
  const ms = (1000 * r.headers.get("X-Geostore-Query-Seconds")).toFixed(1);
  const step = s => `${s.kind} ${s.function} ${s.candidates} candidates, ${s.matches} matches`;
  status.textContent = `${fc.features.length} solutions in ${ms} ms; ` +
    (idx.length ? "index: " + idx.map(step).join("; ") : "index not used") +
    `; unreadable geometries: ${r.headers.get("X-Geostore-Unreadable-Geometries")}`;
  const table = document.createElement("table"), names = new Set();
  fc.features.forEach(f => Object.keys(f.properties).forEach(n => names.add(n)));
  const head = table.insertRow();
  names.forEach(n => { const th = document.createElement("th"); th.appendChild(text(n)); head.appendChild(th); });
  fc.features.forEach(f => {
    const row = table.insertRow(); names.forEach(n => row.insertCell().appendChild(text(f.properties[n] ?? "")));
  });
  const holder = document.getElementById("table"); holder.innerHTML = ""; holder.appendChild(table);
  draw(fc);
};
</script></body></html>
"""
