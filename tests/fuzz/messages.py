"""Hypothesis strategies for protobuf messages, built from their descriptors (the contract is the only source).

``message_strategy(descriptor, hints)`` draws every field of a message by its proto type (strings with any
Unicode including NUL, now and then very long; integers over the whole range of their type; doubles with
NaN and infinities; nested and repeated messages; maps), each field sometimes left unset. ``hints`` add, per
field name, values that reach further into the code (a valid AOI, a date at the end of the calendar, a file in
the shared folder) to the plain drawing, or replace it where the plain drawing could leave loopback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import descriptor, message_factory
from hypothesis import strategies as st

FD = descriptor.FieldDescriptor
Hints = Mapping[str, st.SearchStrategy[Any]]

INT_RANGES = {
    FD.TYPE_INT32: (-(2**31), 2**31 - 1), FD.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FD.TYPE_SFIXED32: (-(2**31), 2**31 - 1), FD.TYPE_UINT32: (0, 2**32 - 1), FD.TYPE_FIXED32: (0, 2**32 - 1),
    FD.TYPE_INT64: (-(2**63), 2**63 - 1), FD.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FD.TYPE_SFIXED64: (-(2**63), 2**63 - 1), FD.TYPE_UINT64: (0, 2**64 - 1), FD.TYPE_FIXED64: (0, 2**64 - 1),
}

# Text as hostile clients write it: anything Unicode allows in a proto string (no lone surrogates: protobuf
# refuses to encode them), path and markup metacharacters, and, now and then, a lot of it.
TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from("\x00/\\.:%?#&=*'\"<>{}[](), \n\t-_aZ09éü€\U0001d518"), max_size=40),
    st.builds(lambda piece, times: piece * times, st.text(min_size=1, max_size=3), st.integers(1_000, 20_000)),
)
BLOB = st.one_of(st.binary(max_size=64), st.builds(lambda b, n: b * n, st.binary(min_size=1, max_size=4),
                                                   st.integers(1_000, 300_000)))


def _scalar(field: FD) -> st.SearchStrategy[Any]:
    if field.type == FD.TYPE_STRING:
        return TEXT
    if field.type == FD.TYPE_BYTES:
        return BLOB
    if field.type == FD.TYPE_BOOL:
        return st.booleans()
    if field.type == FD.TYPE_DOUBLE:
        return st.floats()
    if field.type == FD.TYPE_FLOAT:
        return st.floats(width=32)
    if field.type in INT_RANGES:
        low, high = INT_RANGES[field.type]
        return st.one_of(st.integers(low, high), st.sampled_from([low, -1, 0, 1, high]).filter(lambda v: v >= low))
    if field.type == FD.TYPE_ENUM:
        return st.sampled_from([value.number for value in field.enum_type.values])
    raise TypeError(f"no strategy for field {field.full_name} of type {field.type}")


def _field(field: FD, hints: Hints, only: Hints, depth: int, plausible: bool) -> st.SearchStrategy[Any]:
    if field.name in only:
        return only[field.name]
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key, value = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
        keys, values = (_single(f, hints, only, depth, plausible) for f in (key, value))
        return st.dictionaries(keys, values, max_size=4)
    single = _single(field, hints, only, depth, plausible)
    if field.is_repeated:
        return st.lists(single, max_size=4)
    return single


def _single(field: FD, hints: Hints, only: Hints, depth: int, plausible: bool) -> st.SearchStrategy[Any]:
    if field.message_type is not None:
        return message_strategy(field.message_type, hints, only, plausible, depth + 1)
    plain = _scalar(field)
    hint = hints.get(field.name)
    if hint is None:
        return plain
    return hint if plausible else st.one_of(hint, plain)


def message_strategy(desc: descriptor.Descriptor, hints: Hints | None = None, only: Hints | None = None,
                     plausible: bool = False, depth: int = 0) -> st.SearchStrategy[Any]:
    """Messages of type ``desc``; ``only`` replaces a field's whole drawing, at any depth (for fields naming a
    server: fuzzing sends traffic to loopback only); ``plausible`` draws hinted fields from their hints alone,
    so that some messages get past the first check and reach the deeper code."""
    cls = message_factory.GetMessageClass(desc)
    if depth > 2:
        return st.just(cls())
    fields = {f.name: _field(f, hints or {}, only or {}, depth, plausible) for f in desc.fields}
    return st.fixed_dictionaries({}, optional=fields).map(lambda values: cls(**values))


def mutated(serialized: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """Malformed wire bytes: random bytes, and valid messages truncated, extended or with bytes flipped."""

    def flip(data: bytes, where: int, value: int) -> bytes:
        if not data:
            return bytes([value])
        i = where % len(data)
        return data[:i] + bytes([value]) + data[i + 1:]

    return st.one_of(
        st.binary(max_size=200),
        st.builds(lambda data, cut: data[:cut], serialized, st.integers(0, 200)),
        st.builds(lambda data, tail: data + tail, serialized, st.binary(min_size=1, max_size=20)),
        st.builds(flip, serialized, st.integers(0, 10_000), st.integers(0, 255)),
    )
