"""Write text chunks from a thread, so that writing (encoding and the system call, which releases the GIL) overlaps
with making the next chunk."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable

_DONE = None


def write_behind(chunks: Iterable[str], write: Callable[[bytes], object], depth: int = 4) -> None:
    """Write each chunk, UTF-8 encoded, with ``write`` in a writer thread; at most ``depth`` chunks wait for it.

    An error of ``write`` (disk full, broken pipe) is raised here, after the chunks already queued are dropped.
    """
    pending: queue.Queue[str | None] = queue.Queue(maxsize=depth)
    failed: list[BaseException] = []

    def writer() -> None:
        while (chunk := pending.get()) is not _DONE:
            if not failed:
                try:
                    write(chunk.encode("utf-8"))
                except BaseException as err:  # handed to the producing thread, which raises it
                    failed.append(err)

    thread = threading.Thread(target=writer, name="geotriples-writer", daemon=True)
    thread.start()
    try:
        for chunk in chunks:
            if failed:
                break
            pending.put(chunk)
    finally:
        pending.put(_DONE)
        thread.join()
    if failed:
        raise failed[0]
