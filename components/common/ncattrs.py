"""Read netCDF attributes as h5py returns them, whoever wrote the file.

netCDF-C (which writes every real Sentinel product) stores each attribute with a one-dimensional dataspace, so
h5py reads a number as a 1-element array (``array([12367], dtype=int32)``) and text as ``bytes`` or, for an
NC_STRING, a 1-element array of ``str``. Files written through h5py hold 0-d scalars instead. numpy 2 refuses
``float()`` of a 1-element array, so attribute values are read only through these functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from components.common.errors import UnreadableData

__all__ = ["attr_float", "attr_int", "attr_text", "attr_value"]


def attr_value(attrs: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """The single value of attribute ``name`` as a Python or numpy scalar (``default`` when absent or empty).

    ``UnreadableData`` when the attribute holds several values where one is expected.
    """
    value = attrs.get(name)
    if value is None:
        return default
    if isinstance(value, np.ndarray):
        if value.size == 0:
            return default
        if value.size > 1:
            raise UnreadableData(f"attribute {name!r} holds {value.size} values where one is expected")
        return value.reshape(-1)[0]
    return value


def attr_float(attrs: Mapping[str, Any], name: str, default: float) -> float:
    """Attribute ``name`` as a float (``UnreadableData`` if it is not a number)."""
    value = attr_value(attrs, name, default)
    try:
        return float(value)
    except (TypeError, ValueError) as err:
        raise UnreadableData(f"attribute {name!r} is not a number: {_text(value)[:60]!r}") from err


def attr_int(attrs: Mapping[str, Any], name: str, default: int) -> int:
    """Attribute ``name`` as an int (``UnreadableData`` if it is not an integer)."""
    value = attr_value(attrs, name, default)
    try:
        return int(value)
    except (TypeError, ValueError) as err:
        raise UnreadableData(f"attribute {name!r} is not an integer: {_text(value)[:60]!r}") from err


def attr_text(attrs: Mapping[str, Any], name: str, default: str = "") -> str:
    """Attribute ``name`` as text (fixed-length ``bytes``, NC_STRING or a number written out)."""
    value = attrs.get(name)
    if isinstance(value, np.ndarray) and value.size > 1 and value.dtype.kind in "SUO":
        # an NC_STRING attribute with several strings: one text, as ncdump shows it
        return ", ".join(_text(item) for item in value.reshape(-1))
    return _text(attr_value(attrs, name, default))


def _text(value: object) -> str:
    if isinstance(value, bytes | np.bytes_):
        return value.decode("utf-8", "replace")
    return str(value)
