"""Axis ticks for the page's chart: round values (1, 2 or 5 times a power of ten) and round UTC times."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime

_MINUTE, _HOUR, _DAY = 60, 3600, 86400
# steps up to a day divide a day, so counted from the epoch (a UTC midnight) they land on round clock times
_TIME_STEPS = (_MINUTE, 2 * _MINUTE, 5 * _MINUTE, 10 * _MINUTE, 15 * _MINUTE, 30 * _MINUTE, _HOUR, 2 * _HOUR,
               3 * _HOUR, 6 * _HOUR, 12 * _HOUR, _DAY, 2 * _DAY, 7 * _DAY)
_MONTH_STEPS = (1, 2, 3, 6, 12)


def _nearest(raw: float, steps: list[float]) -> float:
    """The step nearest ``raw`` on a log scale (so neither far fewer nor far more ticks than asked)."""
    return min(steps, key=lambda step: abs(math.log(step / raw)))


def value_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` evenly spaced round values within ``[low, high]``."""
    if not high > low:
        return [low]
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = _nearest(raw, [m * power for m in (1, 2, 5, 10)])
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [round(n * step, 12) for n in range(first, last + 1)]


def value_label(value: float, ticks: list[float]) -> str:
    """``value`` with as many decimals as the spacing of ``ticks`` needs."""
    step = min((b - a for a, b in itertools.pairwise(ticks)), default=abs(value) or 1.0)
    decimals = max(0, -math.floor(math.log10(step)))
    return f"{value:.{decimals}f}"


def time_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round UTC times (POSIX seconds) within ``[low, high]``: whole minutes, hours, days,
    weeks, months or years, whichever spacing is nearest ``count`` ticks."""
    if not high > low:
        return [low]
    raw = (high - low) / count
    if raw <= 14 * _DAY:
        step = int(_nearest(raw, list(_TIME_STEPS)))
        # weeks start on Mondays: the epoch was a Thursday, the first Monday after it 4 days later
        offset = 4 * _DAY if step == 7 * _DAY else 0
        return [n * step + offset for n in range(math.ceil((low - offset) / step),
                                                 math.floor((high - offset) / step) + 1)]
    months = int(_nearest(raw / (30 * _DAY), [*_MONTH_STEPS, 12 * max(1, round(raw / (365 * _DAY)))]))
    start = datetime.fromtimestamp(low, UTC)
    index = start.year * 12 + start.month - 1
    index += -index % months
    ticks = []
    while (stamp := datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC).timestamp()) <= high:
        if stamp >= low:
            ticks.append(stamp)
        index += months
    return ticks


def time_labels(ticks: list[float]) -> list[tuple[str, str]]:
    """Two lines per tick: the finest unit the spacing needs, then the date or year where it changes."""
    stamps = [datetime.fromtimestamp(t, UTC) for t in ticks]
    step = min((b - a for a, b in itertools.pairwise(ticks)), default=_HOUR)
    labels = []
    previous: datetime | None = None
    for stamp in stamps:
        if step < _DAY:
            first, second = f"{stamp:%H:%M}", f"{stamp:%Y-%m-%d}"
            new = previous is None or stamp.date() != previous.date()
        elif step < 28 * _DAY:
            first, second = f"{stamp:%b} {stamp.day}", f"{stamp:%Y}"
            new = previous is None or stamp.year != previous.year
        else:
            first, second = (f"{stamp:%b}", f"{stamp:%Y}") if step < 365 * _DAY else (f"{stamp:%Y}", "")
            new = previous is None or stamp.year != previous.year
        labels.append((first, second if new else ""))
        previous = stamp
    return labels


def padded(low: float, high: float, share: float, minimum: float) -> tuple[float, float]:
    """``[low, high]`` widened by ``share`` of its span on each side, and to at least ``minimum`` wide."""
    margin = max((high - low) * share, (minimum - (high - low)) / 2, 0.0)
    return low - margin, high + margin

