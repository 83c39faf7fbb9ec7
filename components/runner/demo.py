"""The main job: the CO blueprint (local sample catalogue -> broker -> comax) on generated sample data.

The sample products are generated once into a user cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``,
``ai4cop/demo/s5p-co``), small enough that the whole demo, first generation included, takes seconds.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.common.aoi import parse_time
from components.common.cache import cache_root, unusable_cache

logger = logging.getLogger(__name__)

BLUEPRINT = Path(__file__).with_name("co_blueprint.json")
RESULT_STEP = "comax1.analyze"

DEFAULT_AOI = "-10,35,30,60"  # Europe and the western Mediterranean, crossed by both daily sample passes
DEFAULT_START = "2024-03-01T00:00:00Z"
DEFAULT_END = "2024-03-04T00:00:00Z"


@dataclass(frozen=True)
class SampleSpec:
    """What sample data the demo uses: days x consecutive orbits per day from ``start``, reduced swaths."""

    start: str = "2024-03-01T12:00:00Z"
    days: int = 3
    per_day: int = 2
    scanlines: int = 600
    seed: int = 0

    @property
    def tag(self) -> str:
        return f"{self.start[:10]}-{self.days}x{self.per_day}-{self.scanlines}-{self.seed}"


def sample_folder(spec: SampleSpec = SampleSpec()) -> Path:
    return cache_root() / "demo" / "s5p-co" / spec.tag


def ensure_sample_data(spec: SampleSpec = SampleSpec(), folder: Path | None = None) -> Path:
    """The folder of the demo's sample products, generated on first use.

    Generated in a temporary sibling folder and renamed into place, so an interrupted generation never
    leaves a half-written product that would be taken for a complete one. ``FailedPrecondition`` when the
    folder cannot be written (the cache folder is a file, read-only...).
    """
    from components.comax.sample import generate_products

    folder = folder or sample_folder(spec)
    if folder.is_dir():
        return folder
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    logger.info("generating demo sample products in %s", folder)
    try:
        generate_products(tmp, parse_time(spec.start, "start"), spec.days, spec.per_day, scanlines=spec.scanlines,
                          seed=spec.seed)
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise unusable_cache(folder, err) from err
    try:
        tmp.rename(folder)
    except OSError:
        # Another process finished first: keep its copy.
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def node_defaults(folder: Path, results: Path | None = None) -> dict[str, dict[str, str]]:
    """The embedded settings per component: local sample catalogue, default AOI and period."""
    comax = {"COMAX_DATA_FOLDER": str(folder)}
    if results is not None:
        comax["COMAX_RESULTS_FOLDER"] = str(results)
    # no DATABROKER_CATALOGUE: unset, it is the local one, unless the user picks a provider (DATABROKER_PROVIDER)
    return {
        "databroker": {"DATABROKER_DIR": str(folder),
                       "DATABROKER_AOI": DEFAULT_AOI, "DATABROKER_START": DEFAULT_START,
                       "DATABROKER_END": DEFAULT_END},
        "comax": comax,
    }


def blueprint_text() -> str:
    return BLUEPRINT.read_text(encoding="utf-8")


def format_result(result: dict[str, Any]) -> str:
    """The demo's answer in one short paragraph (from the analyzer's aggregate, ``ai4cop comax --json`` fields)."""
    if result.get("max_mol_m2") is None:
        return (f"No valid CO pixel in the AOI over {result.get('products_analyzed', 0)} product(s) "
                f"({result.get('start')} .. {result.get('end')}).")
    return (
        f"Maximum CO column: {result['max_mol_m2']:.5f} mol/m2 ({result['max_molecules_cm2']:.3e} molecules/cm2)\n"
        f"  where: latitude {result['latitude']:.3f}, longitude {result['longitude']:.3f}\n"
        f"  when:  {result['time']}\n"
        f"  product: {result['product']}\n"
        f"  over {result['products_analyzed']} product(s), {result['valid_pixels']} valid pixels, "
        f"AOI {result['aoi_wkt']}, {result['start']} .. {result['end']}"
    )
