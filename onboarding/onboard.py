"""Onboarding packages: a component's proto, license and image reference, and the platform's REST upload.

The REST call is the platform's ``POST <host>/onboarding-app/v2/advancedModel`` (docs/platform.md, section 1):
multipart parts ``protobuf`` and ``license``, headers ``modelname``, ``Authorization: <user>:<token>``,
``dockerFileURL`` and ``isCreateMicroservice: false``; success is HTTP 201 with ``result.solutionId``.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from components.common.errors import InvalidInput, Unavailable, UpstreamError
from onboarding.images import REPO_ROOT, image_spec

logger = logging.getLogger(__name__)

ONBOARDING_PATH = "/onboarding-app/v2/advancedModel"
LICENSE_SCHEMA = Path(__file__).parent / "assets" / "license-profile-1.0.0.schema.json"
MANIFEST = "onboarding.json"

# An image reference as container tools parse it (the distribution reference grammar): [registry[:port]/]path with
# lowercase path components, then an optional :tag and @algorithm:digest. The first component is a registry only
# when it has a '.' or a ':' or is localhost, as docker decides.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REGISTRY = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
                       r"|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?$")
_REPOSITORY = re.compile(
    rf"^{_COMPONENT}(?:/{_COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$")


@functools.cache
def license_schema() -> dict[str, Any]:
    """The Acumos license profile 1.0.0 JSON schema."""
    schema: dict[str, Any] = json.loads(LICENSE_SCHEMA.read_text(encoding="utf-8"))
    return schema


def check_license(path: Path) -> dict[str, Any]:
    """Parse ``path`` and validate it against the license profile schema; ``InvalidInput`` saying what is wrong."""
    import jsonschema

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise InvalidInput(f"{path}: not a readable JSON license: {err}") from err
    errors = sorted(jsonschema.Draft4Validator(license_schema()).iter_errors(document), key=str)
    if errors:
        first = errors[0]
        where = "/".join(str(part) for part in first.absolute_path) or "(top level)"
        raise InvalidInput(f"{path}: not an Acumos license profile 1.0.0: {where}: {first.message}")
    result: dict[str, Any] = document
    return result


def check_proto(path: Path) -> None:
    """``InvalidInput`` listing the platform-rule violations of ``path`` (as ``ai4cop proto check`` prints them)."""
    from onboarding.protocheck import check_files

    violations = check_files([path])
    if violations:
        raise InvalidInput(f"{len(violations)} platform rule violation(s): " + "; ".join(map(str, violations[:3])))


@dataclass(frozen=True)
class OnboardingPackage:
    """A written package: the directory and the files the REST upload sends."""

    directory: Path
    model_name: str
    image: str

    @property
    def proto(self) -> Path:
        return self.directory / "model.proto"

    @property
    def license(self) -> Path:
        return self.directory / "license.json"


def write_package(component: str, image: str, out_dir: Path, model_name: str | None = None,
                  root: Path = REPO_ROOT) -> OnboardingPackage:
    """Check and copy ``component``'s proto and license into ``out_dir`` with a manifest naming ``image``."""
    check_image_ref(image)
    if out_dir.exists() and not out_dir.is_dir():
        raise InvalidInput(f"-o {out_dir} is a file, not a folder")
    spec = image_spec(component)
    proto, license_file = root / spec.proto, root / spec.license
    check_proto(proto)
    check_license(license_file)
    out_dir.mkdir(parents=True, exist_ok=True)
    package = OnboardingPackage(out_dir, model_name or spec.repository, image.strip())
    shutil.copyfile(proto, package.proto)
    shutil.copyfile(license_file, package.license)
    manifest = {"modelname": package.model_name, "component": component, "dockerFileURL": package.image,
                "protobuf": package.proto.name, "license": package.license.name}
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return package


def check_image_ref(image: str) -> None:
    """``InvalidInput`` unless ``image`` is a pullable image reference: the platform stores it as given and
    only fails when it deploys the model."""
    ref = image.strip()
    if not ref:
        raise InvalidInput("the image reference is empty")
    first, _, rest = ref.partition("/")
    registry = rest and ("." in first or ":" in first or first == "localhost")
    valid = bool(_REGISTRY.match(first) and _REPOSITORY.match(rest)) if registry else bool(_REPOSITORY.match(ref))
    if not valid or len(ref) > 255:
        raise InvalidInput(f"image reference {ref!r} is not valid: expected [registry/]repository[:tag][@digest] "
                           "with a lowercase repository, e.g. ghcr.io/ai4cop/ai4cop-comax:0.1.0")


def onboarding_url(base: str) -> str:
    """The advancedModel endpoint for a platform base URL (a full endpoint URL is kept as it is)."""
    base = base.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise InvalidInput(f"--push needs an http(s) URL, got {base!r}")
    return base if base.endswith(ONBOARDING_PATH) else base + ONBOARDING_PATH


def push(package: OnboardingPackage, url: str, user: str, token: SecretStr, timeout: float = 120.0) -> str:
    """Upload ``package`` to the platform's onboarding API and return the new solution id.

    Not retried: the POST creates a solution, so a retry after a lost answer could create two.
    """
    import requests

    if not user or not token.get_secret_value():
        raise InvalidInput("onboarding needs a user and an API token")
    endpoint = onboarding_url(url)
    headers = {
        "modelname": package.model_name,
        "Authorization": f"{user}:{token.get_secret_value()}",
        "dockerFileURL": package.image,
        "isCreateMicroservice": "false",
    }
    logger.info("onboarding %s (%s) at %s as %s", package.model_name, package.image, endpoint, user)
    with package.proto.open("rb") as proto, package.license.open("rb") as license_file, requests.Session() as s:
        files = {"protobuf": ("model.proto", proto, "text/plain"),
                 "license": ("license.json", license_file, "application/json")}
        try:
            response = s.post(endpoint, headers=headers, files=files, timeout=timeout)
        except requests.RequestException as err:
            raise Unavailable(f"cannot reach the onboarding API at {endpoint}: {type(err).__name__}") from err
    return _solution_id(response.status_code, response.text, endpoint)


def _solution_id(status: int, text: str, endpoint: str) -> str:
    try:
        body = json.loads(text) if text else {}
    except json.JSONDecodeError:
        body = {}
    if status != 201:
        message = _server_message(body) or text.strip()[:300] or "no message"
        raise UpstreamError(f"onboarding API answered HTTP {status}: {message}")
    solution = body.get("result", {}).get("solutionId") if isinstance(body, dict) else None
    if not solution:
        raise UpstreamError(f"onboarding API at {endpoint} answered 201 without result.solutionId")
    return str(solution)


def _server_message(body: object) -> str:
    if not isinstance(body, dict):
        return ""
    for key in ("message", "resultMessage", "error", "errorMessage", "status"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    return ""
