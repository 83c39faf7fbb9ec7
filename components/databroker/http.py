"""HTTP for catalogue clients: one session, explicit timeouts, retries only for transient failures.

Transient = connection errors, timeouts, 429 (honouring ``Retry-After``) and 5xx; they are retried with
capped exponential backoff. Any other 4xx fails at once with the server's own message. An answer that is
not JSON is reported as a wrong URL, since every catalogue API here speaks JSON.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from components.common.errors import InvalidInput, PermissionDenied, Unavailable, UpstreamError

logger = logging.getLogger(__name__)

_ERROR_KEYS = ("detail", "message", "description", "ErrorMessage", "error_description", "error")


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts and retry policy of a catalogue client."""

    timeout: float = 30.0
    retries: int = 4
    backoff: float = 0.5
    backoff_cap: float = 30.0


class JsonHttp:
    """GET/POST JSON with one ``requests.Session``; domain errors out, never raw ``requests`` ones."""

    def __init__(
        self,
        policy: HttpPolicy | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.policy = policy or HttpPolicy()
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", "User-Agent": "ai4cop-databroker"})
        self.session.headers.update(headers or {})
        self.session.auth = auth
        self._sleep = sleep

    def close(self) -> None:
        self.session.close()

    def get(self, url: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", url, params=params)

    def request(self, method: str, url: str, *, params: dict[str, Any] | None = None,
                json_body: Any = None) -> Any:
        """The decoded JSON answer of ``method url``, after retrying transient failures."""
        attempts = self.policy.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                response = self.session.request(method, url, params=params, json=json_body,
                                                timeout=self.policy.timeout)
            except requests.Timeout as err:
                failure = f"no answer within {self.policy.timeout:g} s ({type(err).__name__})"
                wait = self._backoff(attempt)
            except requests.ConnectionError as err:
                failure = f"connection failed: {_root_cause(err)}"
                wait = self._backoff(attempt)
            except requests.RequestException as err:
                raise InvalidInput(f"cannot request {url}: {err}") from err
            else:
                if response.status_code == 429 or response.status_code >= 500:
                    failure = f"HTTP {response.status_code}: {_server_message(response)}"
                    asked = _retry_after(response) if response.status_code == 429 else None
                    wait = self._backoff(attempt) if asked is None else min(asked, self.policy.backoff_cap)
                else:
                    return _decode(response)
            if attempt == attempts:
                raise Unavailable(f"catalogue {url} failed after {attempts} attempts: {failure}")
            logger.warning("catalogue %s: %s; retry %d/%d in %.1f s", url, failure, attempt,
                           attempts - 1, wait)
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        return float(min(self.policy.backoff * 2 ** (attempt - 1), self.policy.backoff_cap))


def _decode(response: requests.Response) -> Any:
    url = response.url
    if response.status_code >= 400:
        message = f"catalogue {url} answered HTTP {response.status_code}: {_server_message(response)}"
        if response.status_code in (401, 403):
            raise PermissionDenied(message)
        # 404 too: the configured URL is wrong. NOT_FOUND would read as end-of-data to the platform.
        if response.status_code in (400, 404, 405, 406, 409, 413, 414, 422):
            raise InvalidInput(message)
        raise UpstreamError(message)
    try:
        return json.loads(response.content)
    except ValueError as err:
        kind = response.headers.get("Content-Type", "no content type")
        snippet = response.text[:80].replace("\n", " ")
        raise InvalidInput(f"{url} did not answer JSON ({kind}): {snippet!r}; is it a catalogue API URL?") from err


def _server_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason or "no message"
    if isinstance(body, dict):
        for key in _ERROR_KEYS:
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("msg") or value
            if value:
                return str(value)[:300]
    return json.dumps(body)[:300]


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _root_cause(err: BaseException) -> str:
    while err.__cause__ is not None or err.__context__ is not None:
        err = err.__cause__ or err.__context__  # type: ignore[assignment]
    return str(err) or type(err).__name__

