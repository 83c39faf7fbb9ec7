"""S3 access for the analyzer: the client (signed, or unsigned for public buckets) and ranged GETs of one
object, each request in a slot of the endpoint's quota and retried with backoff while throttled.

An href may name the product's object or, as CDSE's ``S3Path`` does for some products, a folder (the product
name without ``.nc``) holding ``NAME.nc``: such a folder is listed for its product file. Requests are never
pre-signed (CDSE refuses pre-signed URLs).
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from components.comax.quota import RequestLimiter
from components.comax.rangeio import LinkEstimate
from components.common.errors import (
    Ai4copError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unavailable,
    UnreadableData,
    UpstreamError,
)

if TYPE_CHECKING:
    from components.comax.sources import SourceConfig

logger = logging.getLogger(__name__)

_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
PRODUCT_SUFFIXES = (".nc", ".nc4", ".h5", ".he5")
# S3 answers worth retrying: throttling (CDSE's 503 SlowDown) and the server's own transient failures
_RETRY_CODES = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests",
                          "ServiceUnavailable", "InternalError", "RequestTimeout"})
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


def make_s3_client(config: SourceConfig) -> Any:
    """A boto3 S3 client; endpoint and keys from ``config`` or the standard AWS settings (path-style when an
    endpoint is given, as S3-compatible stores such as CREODIAS/CDSE ``eodata`` need); unsigned when asked to
    be or when no credentials are configured anywhere (public buckets such as the S5P archive on AWS).

    botocore's own retries are off: every request goes through the endpoint's limiter, retries included.
    """
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    options: dict[str, Any] = {}
    if config.s3_endpoint:
        options["endpoint_url"] = config.s3_endpoint
    if config.s3_access_key and config.s3_secret_key:
        options["aws_access_key_id"] = config.s3_access_key
        options["aws_secret_access_key"] = config.s3_secret_key
    if config.s3_region:
        options["region_name"] = config.s3_region
    session = boto3.session.Session()
    anonymous = config.s3_anonymous or ("aws_access_key_id" not in options and session.get_credentials() is None)
    if anonymous:
        logger.info("S3 requests are unsigned (%s)", "COMAX_S3_ANONYMOUS" if config.s3_anonymous
                    else "no S3 credentials configured")
    connections = min(config.max_requests, config.s3_max_connections or config.max_requests)

    def client(style: str) -> Any:
        botocfg = Config(s3={"addressing_style": style}, connect_timeout=config.http_timeout,
                         read_timeout=config.http_timeout, retries={"total_max_attempts": 1},
                         max_pool_connections=connections, signature_version=UNSIGNED if anonymous else None)
        return session.client("s3", config=botocfg, **options)

    s3 = client("auto")
    # an endpoint from the settings or the AWS environment (AWS_ENDPOINT_URL_S3...) is not AWS: use path style
    if "amazonaws.com" not in (urlparse(s3.meta.endpoint_url).hostname or ""):
        s3 = client("path")
    return s3


class S3Fetcher:
    """Ranged GETs of one S3 object; the constructor finds the object (a product folder is listed for its
    ``.nc``), reads the head of it and learns its size."""

    def __init__(self, client: Any, bucket: str, key: str, head_bytes: int, limiter: RequestLimiter | None = None,
                 retries: int = 0, backoff_s: float = 0.5):
        self._client = client
        self._limiter = limiter or RequestLimiter(str(client.meta.endpoint_url))
        self._retries = retries
        self._backoff_s = backoff_s
        self.bucket, self.key = bucket, key
        self.link = LinkEstimate()
        if not key.lower().endswith(PRODUCT_SUFFIXES):
            self.key = self._product_in_folder(key.rstrip("/"))
        response, self.head = self._get(f"bytes=0-{head_bytes - 1}")
        match = _CONTENT_RANGE.match(response.get("ContentRange") or "")
        self.size = int(match.group(3)) if match and match.group(3) != "*" else len(self.head)

    def fetch(self, start: int, end: int) -> bytes:
        return self._get(f"bytes={start}-{end - 1}")[1]

    def _product_in_folder(self, folder: str) -> str:
        """The product file in ``folder/`` (CDSE's layout for some products), or ``folder`` itself if it holds
        none (an object whose name has no suffix)."""
        answer = self._call(lambda: self._client.list_objects_v2(Bucket=self.bucket, Prefix=folder + "/",
                                                                 MaxKeys=100))
        keys = [item["Key"] for item in answer.get("Contents") or []
                if str(item["Key"]).lower().endswith(PRODUCT_SUFFIXES)]
        if not keys:
            return folder
        named = f"{folder}/{PurePosixPath(folder).name}.nc"
        if named in keys or len(keys) == 1:
            chosen = named if named in keys else keys[0]
            logger.debug("s3://%s/%s is a product folder: reading %s", self.bucket, folder, chosen)
            return chosen
        raise InvalidInput(f"s3://{self.bucket}/{folder}/ holds {len(keys)} product files, none named after the "
                           f"folder; give one of them (e.g. s3://{self.bucket}/{keys[0]})")

    def _get(self, byte_range: str) -> tuple[Any, bytes]:
        timing: list[float] = []

        def get() -> tuple[Any, bytes]:
            sent = time.perf_counter()
            response = self._client.get_object(Bucket=self.bucket, Key=self.key, Range=byte_range)
            headers = time.perf_counter()
            body = bytes(response["Body"].read())
            timing[:] = [headers - sent, time.perf_counter() - headers]
            return response, body

        response, body = self._call(get)
        self.link.record(timing[0], timing[1], len(body))
        return response, body

    def _call(self, request: Any) -> Any:
        """One S3 request in a slot of the endpoint's quota, retried while throttled or failing transiently."""
        from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, NoCredentialsError
        from botocore.exceptions import ConnectionError as BotoConnectionError

        where = f"s3://{self.bucket}/{self.key}"
        attempt = 0
        while True:
            try:
                with self._limiter.request():
                    return request()
            except NoCredentialsError as err:
                raise PermissionDenied(f"{where}: no S3 credentials configured") from err
            except ClientError as err:
                if attempt < self._retries and _transient(err):
                    attempt += 1
                    self._limiter.backoff(attempt, self._backoff_s)
                    continue
                raise _client_error(where, err, self._client) from err
            except (BotoConnectionError, HTTPClientError) as err:
                if attempt < self._retries:
                    attempt += 1
                    self._limiter.backoff(attempt, self._backoff_s)
                    continue
                raise Unavailable(f"{where}: S3 endpoint unreachable: {err}") from err
            except BotoCoreError as err:
                raise Unavailable(f"{where}: S3 endpoint unreachable: {err}") from err


def _transient(err: Any) -> bool:
    code = str(err.response.get("Error", {}).get("Code", ""))
    status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in _RETRY_CODES or status in _RETRY_STATUS


def _client_error(where: str, err: Any, client: Any) -> Ai4copError:
    from botocore import UNSIGNED

    code = str(err.response.get("Error", {}).get("Code", ""))
    message = err.response.get("Error", {}).get("Message", "") or code
    if code in ("NoSuchKey", "NoSuchBucket", "404", "NotFound"):
        return NotFound(f"{where}: no such object ({code})")
    if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled"):
        unsigned = client.meta.config.signature_version is UNSIGNED
        how = "; the request was unsigned: set COMAX_S3_ACCESS_KEY and COMAX_S3_SECRET_KEY" if unsigned else ""
        return PermissionDenied(f"{where}: access denied ({message}){how}")
    if code == "InvalidRange":
        return UnreadableData(f"{where}: empty object")
    if _transient(err):
        return Unavailable(f"{where}: S3 endpoint busy or failing ({code}: {message}), also on every retry")
    return UpstreamError(f"{where}: S3 error {code}: {message}")
