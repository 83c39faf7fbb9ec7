"""Stream the objects of a top-level array member (GeoJSON's ``features``) a block at a time, decoded by msgspec.

ijson parses one value at a time; msgspec decodes a whole block of objects about twice as fast (and the parse is
most of a GeoJSON conversion). A block ends at the last ``}`` ``,`` ``{`` in the bytes read so far; that such a
place is between two objects of the array, not inside one or inside a string, is proven by the block decoding
as a JSON array (anywhere else leaves a bracket or a string open); when it does not, an earlier candidate is
tried, then more bytes are read. Memory is one block plus one object.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from components.common.errors import UnreadableData

BLOCK = 1 << 20
_HEAD = 1 << 16
_SPACE = b" \t\r\n"


def array_objects(path: Path, key: str, block: int = BLOCK) -> Iterator[Any] | None:
    """The items of the array member ``key`` of the top-level object of ``path`` when it is an array of objects
    that starts within the file's first 64 KiB; None otherwise (then the caller reads the file otherwise)."""
    with path.open("rb") as handle:
        head = handle.read(_HEAD)
    start = _array_start(head, key)
    if start is None or head[start + 1:].lstrip(_SPACE)[:1] not in (b"{", b"]"):
        return None
    return _items(path, head, start, block)


def _items(path: Path, head: bytes, start: int, size: int) -> Iterator[Any]:
    import msgspec

    decode = msgspec.json.Decoder().decode
    try:
        decode(head[:start].lstrip(b"\xef\xbb\xbf") + b"[]}")  # the members before the array are valid JSON
    except msgspec.DecodeError as err:
        raise UnreadableData(f"{path.name} is not valid JSON: {err}") from err
    with path.open("rb") as handle:
        handle.seek(start + 1)
        buffer = b""
        retry_at = 0
        while block := handle.read(size):
            buffer += block
            if len(buffer) < retry_at:
                continue
            try:
                items, end = _last_items(buffer, decode) or _one_by_one(buffer)
            except UnreadableData as err:
                raise UnreadableData(f"{path.name} is not valid JSON: {err}") from err
            # an item longer than the buffer: read twice as much before looking again (linear, not quadratic)
            retry_at = 0 if items else 2 * len(buffer)
            yield from items
            rest = buffer[end:].lstrip(_SPACE)
            buffer = rest[1:] if rest[:1] == b"," else rest
        yield from _tail(path, buffer)


def _last_items(buffer: bytes, decode: Any) -> tuple[list[Any], int] | None:
    """The whole items at the start of ``buffer`` and where they end (just past a ``}``), if one of the last few
    ``}`` ``,`` ``{`` places is the end of an item."""
    import msgspec

    high = len(buffer)
    for _ in range(8):
        opening = buffer.rfind(b"{", 0, high)
        if opening < 0:
            return None
        high = opening
        low = max(0, opening - 64)
        before = buffer[low:opening].rstrip(_SPACE)
        if not before.endswith(b","):
            continue
        before = before[:-1].rstrip(_SPACE)
        if not before.endswith(b"}"):
            continue
        end = low + len(before)
        try:
            return decode(b"[" + buffer[:end] + b"]"), end
        except msgspec.DecodeError:
            continue
    return None


def _one_by_one(buffer: bytes) -> tuple[list[Any], int]:
    """The whole items at the start of ``buffer`` (and where they end), one at a time: for items full of nested
    objects, where the quick boundary search gives up."""
    try:
        text = buffer.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start < len(buffer) - 3:
            raise UnreadableData(f"not UTF-8 text: {err}") from err
        text = buffer[:err.start].decode("utf-8")  # a character cut at the block's end comes whole next time
    scan = json.JSONDecoder().raw_decode
    items: list[Any] = []
    consumed = 0
    position = len(text) - len(text.lstrip())
    if text[position:position + 1] == "]":
        return items, consumed  # the end of the array: the tail is read last
    while True:
        try:
            item, position = scan(text, position)
        except json.JSONDecodeError as err:
            # cut off by the end of the buffer (a string still open, or an error near the end): read on
            if not err.msg.startswith("Unterminated string") and err.pos < len(text) - 64:
                raise UnreadableData(str(err)) from err
            break
        items.append(item)
        consumed = position
        rest = text[position:].lstrip()
        if not rest.startswith(","):
            break
        position = len(text) - len(rest[1:].lstrip())
    return items, len(text[:consumed].encode())


def _tail(path: Path, buffer: bytes) -> list[Any]:
    """The last items (up to the array's ``]``), checking that the rest closes the top-level object."""
    try:
        text = "[" + buffer.decode("utf-8")
        items, end = json.JSONDecoder().raw_decode(text)
        rest = text[end:].strip()
        if rest != "}":
            if not rest.startswith(","):
                raise ValueError(f"unexpected {rest[:20]!r} after the array")
            json.loads("{" + rest[1:])
    except ValueError as err:
        raise UnreadableData(f"{path.name} is not valid JSON: {err}") from err
    return items


def _array_start(head: bytes, key: str) -> int | None:
    """The index of the ``[`` opening member ``key`` of the top-level object, if ``head`` gets there."""
    target = json.dumps(key).encode()
    i = len(head) - len(head.lstrip(b"\xef\xbb\xbf" + _SPACE))
    if head[i:i + 1] != b"{":
        return None
    depth, i = 1, i + 1
    expect_key = True
    while i < len(head):
        char = head[i:i + 1]
        if char == b'"':
            end = _string_end(head, i)
            if end is None:
                return None
            if depth == 1 and expect_key:
                after = head[end:].lstrip(_SPACE)
                if head[i:end] == target and after[:1] == b":" and after[1:].lstrip(_SPACE)[:1] == b"[":
                    return len(head) - len(after[1:].lstrip(_SPACE))
                expect_key = False
            i = end
            continue
        if char in b"{[":
            depth += 1
        elif char in b"}]":
            depth -= 1
            if depth == 0:
                return None
        elif char == b"," and depth == 1:
            expect_key = True
        i += 1
    return None


def _string_end(data: bytes, start: int) -> int | None:
    """Index just past the string literal opening at ``start``."""
    i = start + 1
    while True:
        i = data.find(b'"', i)
        if i < 0:
            return None
        j = i - 1
        while data[j] == 0x5C:  # backslashes before the quote: an odd number escapes it
            j -= 1
        if (i - 1 - j) % 2 == 0:
            return i + 1
        i += 1
