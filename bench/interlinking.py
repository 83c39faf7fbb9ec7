"""Interlinking throughput against a plain STRtree + ``relate`` loop, and memory against the streamed side's size.

Synthetic pairs shaped like JedAI-spatial's D1-D6 (lines x polygons, polygons x polygons) are written as CSV/WKT
files; the component (``service.job``: reading, filtering, verification, N-Triples) runs on them end to end, and the
baseline loop (the same files parsed, an STRtree over the smaller side, then one ``shapely.relate`` and one
matrix-to-relations call per candidate pair in a Python loop) on the same pairs. Both must find the same links.

    .venv/bin/python bench/interlinking.py [--source N] [--target N] [--kind polygons|lines] [--memory]
"""

from __future__ import annotations

import argparse
import csv
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from components.interlinking.relations import RELATIONS, relations_of
from components.interlinking.service import job

SPAN = 100.0  # degrees: the features spread over a SPAN x SPAN square


def features(kind: str, n: int, seed: int, density: float) -> np.ndarray:
    """``n`` random polygons (up to 6 vertices) or 3-vertex lines; ``density`` scales their size, hence how many
    candidates each has (1.0: about two)."""
    rng = np.random.default_rng(seed)
    size = SPAN / np.sqrt(n) * 0.6 * density
    x, y = rng.uniform(0, SPAN, n), rng.uniform(0, SPAN, n)
    if kind == "lines":
        steps = rng.uniform(-size, size, (n, 2, 2))
        coords = np.stack([np.column_stack([x, y]), np.column_stack([x, y]) + steps[:, 0],
                           np.column_stack([x, y]) + steps[:, 0] + steps[:, 1]], axis=1)
        return shapely.linestrings(coords)
    angles = np.sort(rng.uniform(0, 2 * np.pi, (n, 6)), axis=1)
    radii = rng.uniform(0.3, 1.0, (n, 6)) * size
    ring = np.stack([x[:, None] + radii * np.cos(angles), y[:, None] + radii * np.sin(angles)], axis=2)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    # convex hulls: a star of random radii can touch itself once rounded to 6 decimals in WKT
    return shapely.convex_hull(shapely.polygons(ring))


def write(path: Path, geoms: np.ndarray) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("id,wkt\n")
        for n, text in enumerate(shapely.to_wkt(geoms, rounding_precision=6)):
            out.write(f'{n},"{text}"\n')
    return path


def component(source: Path, target: Path) -> tuple[float, int, int, float]:
    work = job(source, target, chunk=10_000)
    started = time.perf_counter()
    links = sum(count for _, count in work.texts())
    return time.perf_counter() - started, work.summary.verified, links, work.summary.verify_seconds


def plain_loop(source: Path, target: Path) -> tuple[float, int, int, float]:
    started = time.perf_counter()
    a, b = (shapely.from_wkt(_wkts(p)) for p in (source, target))
    verifying = time.perf_counter()
    tree = shapely.STRtree(b)
    which, other = tree.query(a)
    links = 0
    for i, j in zip(which, other, strict=True):
        ga, gb = a[i], b[j]
        found = relations_of(shapely.relate(ga, gb), shapely.get_dimensions(ga), shapely.get_dimensions(gb))
        links += sum(1 for name in RELATIONS if name in found)
    end = time.perf_counter()
    return end - started, len(which), links, end - verifying


def _wkts(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        next(rows)
        return [row[1] for row in rows]


def peak_rss(source: Path, target: Path) -> int:
    """Peak RSS (KiB) of a fresh process running the component on the pair: its VmHWM, which a new program starts
    afresh (``ru_maxrss`` would carry this process's peak over fork and exec)."""
    code = ("import sys; from pathlib import Path; sys.path.insert(0, '.');"
            "from components.interlinking.service import job;"
            f"w = job(Path({str(source)!r}), Path({str(target)!r}), chunk=10_000); [0 for _ in w.texts()];"
            "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))")
    root = Path(__file__).resolve().parent.parent
    return int(subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                              check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=int, default=100_000)
    parser.add_argument("--target", type=int, default=100_000)
    parser.add_argument("--kind", choices=("polygons", "lines"), default="polygons", help="the source's geometries")
    parser.add_argument("--density", type=float, default=1.0, help="feature size factor (1.0: ~2 candidates each)")
    parser.add_argument("--memory", action="store_true", help="peak RSS streaming 1x and 4x --source features")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        target = write(folder / "target.csv", features("polygons", args.target, 2, args.density))
        source = write(folder / "source.csv", features(args.kind, args.source, 1, args.density))
        ours = component(source, target)
        base = plain_loop(source, target)
        print(f"{args.kind} x polygons, {args.source:,} x {args.target:,}, density {args.density}")
        for name, (seconds, pairs, links, verify) in (("component", ours), ("STRtree + relate loop", base)):
            print(f"  {name:<22} {seconds:7.2f} s end to end ({pairs / seconds:>9,.0f} pairs/s), "
                  f"{verify:6.2f} s filter + verify ({pairs / verify:>9,.0f} pairs/s)  {pairs:>10,} pairs  "
                  f"{links:,} links")
        print(f"  speed-up end to end {base[0] / ours[0]:.2f}x, filter + verify {base[3] / ours[3]:.2f}x; "
              f"same links: {ours[2] == base[2]}")
        if args.memory:
            big = write(folder / "big.csv", features(args.kind, args.source * 4, 3, args.density))
            small, large = peak_rss(source, target), peak_rss(big, target)
            print(f"  peak RSS streaming {args.source:,}: {small / 1024:.0f} MiB; "
                  f"{4 * args.source:,}: {large / 1024:.0f} MiB")
    print(f"  (this process's peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)")


if __name__ == "__main__":
    main()
