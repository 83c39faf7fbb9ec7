"""Analyse products: one href to one ``ProductResult`` (errors reported in it), many to a ``Summary``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import PurePosixPath
from urllib.parse import urlparse

from components.comax.analysis import ProductResult, Query, Summary, maximum
from components.comax.product import read_pixels
from components.comax.sources import SourceConfig, Sources
from components.common.aoi import isoformat
from components.common.errors import Ai4copError, UnreadableData

logger = logging.getLogger(__name__)


def product_name(href: str) -> str:
    """The file name of a product from its href (path, file://, s3:// or https://)."""
    return PurePosixPath(urlparse(href).path or href).name or href


def analyze_product(sources: Sources, href: str, query: Query, name: str = "") -> ProductResult:
    """The maximum in one product; a source that cannot be read (or an unusable href) gives a result whose
    ``error`` says why, so one bad product never stops the others."""
    given = name
    name = name or product_name(href)
    bytes_read = requests = 0
    try:
        with sources.open(href) as opened:
            # an href naming a product folder: the product is the file found in it
            name = given or opened.file_name or name
            try:
                pixels = read_pixels(opened, query)
            except (OSError, KeyError, ValueError, TypeError, IndexError) as err:
                if isinstance(opened.failure, Ai4copError):
                    raise opened.failure from err
                raise UnreadableData(f"{name}: cannot read the product's data ({err})") from err
            finally:
                bytes_read, requests = opened.bytes_read, opened.requests
    except Ai4copError as err:
        logger.warning("%s: %s", href, err)
        return ProductResult(product=name, href=href, bytes_read=bytes_read, error=f"{type(err).__name__}: {err}",
                             requests=requests)
    result = maximum(query, pixels, name, href, bytes_read)
    result.requests = requests
    logger.info("%s: %d valid pixels, max %s mol m-2, %d bytes read in %d requests", name, result.valid_pixels,
                result.max_mol_m2, bytes_read, requests)
    return result


def analyze_sources(hrefs: Sequence[str], query: Query, config: SourceConfig | None = None) -> Summary:
    """Analyse every source in turn; unreadable ones are reported in their result, the others still count."""
    sources = Sources(config or SourceConfig())
    try:
        results = [analyze_product(sources, href, query) for href in hrefs]
    finally:
        counts = sources.quota_counts()
        if counts is not None:
            logger.info("S3 endpoint so far: %d requests, %d retried after throttling, %.1f s waited, at most %d "
                        "at once", counts.requests, counts.throttled, counts.waited_s, counts.peak_concurrent)
        sources.close()
    return Summary(aoi_wkt=query.aoi_wkt, start=isoformat(query.start) if query.start else None,
                   end=isoformat(query.end) if query.end else None, products=results)


def format_text(summary: Summary) -> str:
    """A few readable lines: the overall maximum, then one line per product."""
    data = summary.to_dict()
    lines = []
    if summary.products and all(p.error for p in summary.products):
        lines.append(f"no source could be read ({len(summary.products)} tried)")
    elif data["max_mol_m2"] is None:
        lines.append(f"no valid pixel in the AOI ({data['valid_pixels']} valid pixels)")
    else:
        lines.append(f"max CO {data['max_mol_m2']:.6g} mol m-2 ({data['max_molecules_cm2']:.4g} molecules cm-2) "
                     f"at {data['latitude']:.4f}, {data['longitude']:.4f} on {data['time']} in {data['product']}")
        lines.append(f"{data['valid_pixels']} valid pixels, {data['bytes_read']} bytes read")
    for p in summary.products:
        if p.error:
            lines.append(f"  {p.product}: error: {p.error}")
        elif p.max_mol_m2 is None:
            lines.append(f"  {p.product}: no valid pixel ({p.bytes_read} bytes read)")
        else:
            lines.append(f"  {p.product}: {p.max_mol_m2:.6g} mol m-2 at {p.latitude:.4f}, {p.longitude:.4f} "
                         f"{p.time}, {p.valid_pixels} valid pixels, {p.bytes_read} bytes read")
    return "\n".join(lines)
