"""The cost of the shared results folder: recording one product result, and the aggregate of a question with
N product files, warm (this process read them before: a listing and one stat per file) against the baseline of
reading every file again (a fresh store, as a replica that has never seen them).

    .venv/bin/python bench/comax_results.py [--products 1000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from components.comax.analysis import ProductResult, Query
from components.comax.results_folder import FolderStore
from components.comax.state import ResultBook


def _median_ms(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    query = Query.build("8,42,14,47", "2024-03-01", "2024-03-31")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        book = ResultBook(FolderStore(folder))
        started = time.perf_counter()
        for i in range(args.products):
            book.add(query, ProductResult(product=f"S5P_{i:05d}.nc", href=f"s3://b/S5P_{i:05d}.nc",
                                          max_mol_m2=0.03 + i * 1e-6, max_molecules_cm2=1.8e18, latitude=45.0,
                                          longitude=10.0, time="2024-03-01T12:00:00Z", valid_pixels=100,
                                          bytes_read=10**6))
        add_ms = (time.perf_counter() - started) / args.products * 1000
        summary = book.summary()
        assert len(summary.products) == args.products
        warm = _median_ms(book.summary, args.repeat)
        cold = _median_ms(lambda: ResultBook(FolderStore(folder)).summary(), max(3, args.repeat // 4))
    print(f"{args.products} product results in one question")
    print(f"  record one result (files written atomically, aggregate recomputed): {add_ms:.2f} ms on average "
          f"while growing to {args.products}")
    print(f"  aggregate, warm cache (listing + stat per file):   {warm:.1f} ms")
    print(f"  aggregate, baseline (every file read and parsed):   {cold:.1f} ms  ({cold / warm:.1f}x)")


if __name__ == "__main__":
    main()
