"""One small hierarchy of domain errors, mapped to gRPC status codes and HTTP statuses in one place."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterator
from typing import Any, NoReturn, TypeVar

import grpc

logger = logging.getLogger(__name__)

# Trailing metadata of every error our components answer, naming its class. It tells a caller that the component
# itself answered (after retrying what was worth retrying, e.g. a catalogue's transient failures), so an
# orchestrator does not retry the call on top: retries stay in one layer instead of multiplying.
ERROR_KEY = "ai4cop-error"


class Ai4copError(Exception):
    """Base of every error a component reports to its clients."""


class InvalidInput(Ai4copError):
    """The request itself is wrong (bad AOI, end before start, unknown option...)."""


class NotFound(Ai4copError):
    """The thing asked for does not exist."""


class Exhausted(NotFound):
    """A source has no more items (the platform's end-of-data signal)."""


class PermissionDenied(Ai4copError):
    """The caller may not read what it asked for (outside the shared folder, denied key...)."""


class Unavailable(Ai4copError):
    """A dependency is temporarily unreachable; retrying later may work."""


class UpstreamError(Ai4copError):
    """A remote service answered, but with an error or a response we cannot use."""


class FailedPrecondition(Ai4copError):
    """The system is not in a state where the request can run (not configured, not initialized...)."""


class UnreadableData(Ai4copError):
    """A data file or object exists but cannot be decoded (corrupt, truncated, wrong format)."""


_TABLE: list[tuple[type[Ai4copError], grpc.StatusCode, int]] = [
    (Exhausted, grpc.StatusCode.NOT_FOUND, 404),
    (InvalidInput, grpc.StatusCode.INVALID_ARGUMENT, 422),
    (NotFound, grpc.StatusCode.NOT_FOUND, 404),
    (PermissionDenied, grpc.StatusCode.PERMISSION_DENIED, 403),
    (Unavailable, grpc.StatusCode.UNAVAILABLE, 503),
    (UpstreamError, grpc.StatusCode.UNAVAILABLE, 502),
    (FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION, 409),
    (UnreadableData, grpc.StatusCode.DATA_LOSS, 422),
]


def grpc_code(err: BaseException) -> grpc.StatusCode:
    """The gRPC status code for an error (INTERNAL for anything outside the hierarchy)."""
    for cls, code, _ in _TABLE:
        if isinstance(err, cls):
            return code
    return grpc.StatusCode.INTERNAL


def http_status(err: BaseException) -> int:
    """The HTTP status for an error (500 for anything outside the hierarchy)."""
    for cls, _, status in _TABLE:
        if isinstance(err, cls):
            return status
    return 500


def abort(context: grpc.ServicerContext, err: BaseException) -> NoReturn:
    """End an rpc with the status mapped from ``err`` and its message."""
    # ServicerContext.code() exists in grpcio (marked experimental there); types-grpcio does not declare it
    if context.code() is not None:  # type: ignore[attr-defined]
        # The servicer already aborted with its own status: keep it.
        raise err
    code = grpc_code(err)
    context.set_trailing_metadata(((ERROR_KEY, type(err).__name__),))
    if code is grpc.StatusCode.INTERNAL:
        logger.exception("internal error", exc_info=err)
        context.abort(code, f"internal error: {type(err).__name__}: {err}")
    context.abort(code, str(err))
    raise AssertionError("context.abort returned")  # pragma: no cover


F = TypeVar("F", bound=Callable[..., Any])


def grpc_errors(method: F) -> F:
    """Decorate a servicer method (unary or streaming) so domain errors become gRPC statuses."""
    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def stream(self: Any, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            try:
                yield from method(self, request, context)
            except Exception as err:
                abort(context, err)

        return stream  # type: ignore[return-value]

    @functools.wraps(method)
    def unary(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return method(self, request, context)
        except Exception as err:
            abort(context, err)

    return unary  # type: ignore[return-value]
