"""HTTP for catalogue clients: one session, explicit timeouts, retries only for transient failures.

Transient = connection errors, timeouts, 429 (honouring ``Retry-After``) and 5xx; they are retried with
capped exponential backoff. Any other 4xx fails at once with the server's own message. An answer that is
not JSON is reported as a wrong URL, since every catalogue API here speaks JSON.
"""

from __future__ import annotations

import email.utils
import html
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from components.common.errors import InvalidInput, PermissionDenied, Unavailable, UpstreamError

logger = logging.getLogger(__name__)

_ERROR_KEYS = ("detail", "message", "description", "ErrorMessage", "error_description", "error")
_HIDDEN = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
MESSAGE_CHARS = 300


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts and retry policy of a catalogue client."""

    timeout: float = 30.0
    retries: int = 4
    backoff: float = 0.5
    backoff_cap: float = 30.0


_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL, the port made explicit; ``("", "", 0)`` for one without a usable origin."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    except ValueError:
        return "", "", 0
    return scheme, (parts.hostname or "").lower(), port


@dataclass(frozen=True)
class Credentials:
    """Headers (``Authorization``...) for one catalogue, sent only to the origin of ``url``; repr hides them."""

    url: str
    headers: dict[str, str] = field(repr=False)


class CredentialsAdapter(HTTPAdapter):
    """A transport adapter adding credentials to the requests for one origin (scheme, host, port) only.

    Next links and redirects may name any host, and the catalogue's credentials must reach the catalogue
    alone. They are added here, as each request is sent (after a redirect to another host has dropped
    them), so they are in no session default and in no log of the prepared request.
    """

    def __init__(self, credentials: Credentials, **kwargs: Any):
        super().__init__(**kwargs)
        self._origin = origin_of(credentials.url)
        self._headers = dict(credentials.headers)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        if origin_of(request.url or "") == self._origin:
            request.headers.update(self._headers)
        return super().send(request, *args, **kwargs)


def use_credentials(session: requests.Session, credentials: Credentials | None, **adapter: Any) -> None:
    """Mount a ``CredentialsAdapter`` (``adapter`` = its ``HTTPAdapter`` arguments) for http and https."""
    if credentials is None or not credentials.headers:
        return
    for prefix in ("http://", "https://"):
        session.mount(prefix, CredentialsAdapter(credentials, **adapter))


class JsonHttp:
    """GET/POST JSON with one ``requests.Session``; domain errors out, never raw ``requests`` ones."""

    def __init__(
        self,
        policy: HttpPolicy | None = None,
        credentials: Credentials | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.policy = policy or HttpPolicy()
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", "User-Agent": "ai4cop-databroker"})
        use_credentials(self.session, credentials)
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
                raise InvalidInput(f"cannot request {short_url(url)}: {one_line(str(err))}") from err
            else:
                if response.status_code == 429 or response.status_code >= 500:
                    failure = f"HTTP {response.status_code}: {_server_message(response)}"
                    asked = _retry_after(response) if response.status_code == 429 else None
                    wait = self._backoff(attempt) if asked is None else min(asked, self.policy.backoff_cap)
                else:
                    return _decode(response)
            if attempt == attempts:
                raise Unavailable(f"catalogue {short_url(url)} failed after {attempts} attempts: {failure}")
            logger.warning("catalogue %s: %s; retry %d/%d in %.1f s", short_url(url), failure, attempt,
                           attempts - 1, wait)
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        return float(min(self.policy.backoff * 2 ** (attempt - 1), self.policy.backoff_cap))


def one_line(text: str, limit: int = MESSAGE_CHARS) -> str:
    """A server's text as one line for an error message: HTML tags dropped, whitespace collapsed, cut at ``limit``."""
    text = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", _HIDDEN.sub(" ", text)))).strip()
    return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."


def short_url(url: str) -> str:
    """``url`` without its query string and fragment: next links repeat the whole (long) query."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _decode(response: requests.Response) -> Any:
    url = short_url(response.url)
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
        snippet = one_line(response.text, 80)
        raise InvalidInput(f"{url} did not answer JSON ({kind}): {snippet!r}; is it a catalogue API URL?") from err


def _server_message(response: requests.Response) -> str:
    """The server's own message, on one line."""
    try:
        body = response.json()
    except ValueError:
        return one_line(response.text) or one_line(response.reason or "") or "no message"
    if isinstance(body, dict):
        for key in _ERROR_KEYS:
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("msg") or value
            if value:
                return one_line(str(value))
    return one_line(json.dumps(body))


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

