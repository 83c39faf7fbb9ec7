"""Benchmark 3: AOI selection over a full orbit (4000 x 215 = 860,000 pixel centres).

The analyzer's vectorised selection (bounding-box cut, then ``shapely.contains_xy`` on the rest) against a
per-pixel loop with shapely (``aoi.contains(Point(x, y))`` for every pixel, prepared geometry), same run, same
answer.

    .venv/bin/python bench/comax_selection.py [--aoi WKT]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import h5py
import numpy as np
import shapely
from comax_common import AOI, full_orbit_product, timed

from components.comax.analysis import Query, in_aoi_centres


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aoi", default=AOI)
    args = parser.parse_args()
    print(f"machine: nproc={os.cpu_count()}, Python {platform.python_version()}")
    with h5py.File(full_orbit_product()) as h5:
        lat = h5["PRODUCT/latitude"][0].astype(np.float64)
        lon = h5["PRODUCT/longitude"][0].astype(np.float64)
    query = Query.build(args.aoi)
    t_fast, mask = timed(lambda: in_aoi_centres(query, lat, lon), 5)
    t_plain, plain = timed(lambda: shapely.contains_xy(query.aoi, lon, lat), 3)

    def loop() -> np.ndarray:
        out = np.zeros(lat.shape, dtype=bool)
        for (i, j), y in np.ndenumerate(lat):
            out[i, j] = query.aoi.contains(shapely.Point(lon[i, j], y))
        return out

    begin = time.perf_counter()
    slow = loop()
    t_loop = time.perf_counter() - begin
    assert np.array_equal(mask, slow) and np.array_equal(mask, plain)
    print(f"{lat.size} pixels, {int(mask.sum())} inside the AOI")
    print(f"  bbox cut + contains_xy      : {t_fast * 1000:8.2f} ms (median of 5)")
    print(f"  contains_xy on every pixel  : {t_plain * 1000:8.2f} ms (median of 3)")
    print(f"  per-pixel shapely loop      : {t_loop * 1000:8.0f} ms")
    print(f"  speed-up over the loop {t_loop / t_fast:.0f}x")


if __name__ == "__main__":
    main()
