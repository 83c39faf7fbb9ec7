"""Container images of the components: what each one is, and building them with docker or buildah.

Every image comes from the one ``onboarding/Dockerfile``, filled by build arguments from the component's
catalogue entry (its folder, pip extra and proto file). ``docker`` is used when its daemon answers; otherwise
``buildah`` builds without a daemon (``--storage-driver vfs``, ``--isolation chroot``). The build context is
the repository root.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from components.common.catalogue import CATALOGUE, ComponentEntry
from components.common.errors import Unavailable, UpstreamError
from components.common.registry import component as catalogue_entry
from components.common.registry import image_for_component

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
# Where the root blueprint.json's images come from (their tag is the package version).
DEFAULT_REGISTRY = "ghcr.io/ai4cop"
# The build secret carrying the host's CA bundle; the Dockerfile points PIP_CERT at /run/secrets/<id>.
CA_SECRET = "cacert"
# The one Dockerfile of every component image, relative to the repository root.
DOCKERFILE = "onboarding/Dockerfile"


@dataclass(frozen=True)
class ImageSpec:
    """One component's image, from its catalogue entry: the build arguments, the proto and the license it carries."""

    entry: ComponentEntry

    @property
    def component(self) -> str:
        return self.entry.name

    @property
    def package(self) -> str:
        """The folder under ``components/`` (``python -m components.<package>`` runs it)."""
        return self.entry.name

    @property
    def repository(self) -> str:
        return self.entry.image

    @property
    def build_args(self) -> dict[str, str]:
        """The Dockerfile's build arguments for this component: folder, pip extra, proto file."""
        return {"COMPONENT": self.entry.name, "EXTRA": self.entry.extra, "PROTO": self.entry.proto}

    @property
    def proto(self) -> str:
        return f"{self.entry.folder}/{self.entry.proto}"

    @property
    def license(self) -> str:
        return f"{self.entry.folder}/license.json"


IMAGES: dict[str, ImageSpec] = {entry.name: ImageSpec(entry) for entry in CATALOGUE}


def image_spec(component: str) -> ImageSpec:
    """The image of ``component`` (its name or its image's short name); ``InvalidInput`` naming the known ones."""
    return IMAGES[catalogue_entry(component).name]


def package_version() -> str:
    """The ai4cop version: the installed distribution's, else ``setup.cfg``'s (a bare checkout)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ai4cop")
    except PackageNotFoundError:
        import configparser

        config = configparser.ConfigParser()
        config.read(REPO_ROOT / "setup.cfg", encoding="utf-8")
        return config.get("metadata", "version", fallback="latest")


def image_ref(component: str, registry: str = DEFAULT_REGISTRY, tag: str | None = None) -> str:
    """``[registry/]ai4cop-<name>:tag`` for ``component`` (the orchestrator's naming, one place); the tag
    defaults to the package version, so the defaults name the images the root ``blueprint.json`` uses."""
    return image_for_component(image_spec(component).component, registry, tag or package_version())


def docker_available() -> bool:
    """True when a ``docker`` client is installed and its daemon answers."""
    if shutil.which("docker") is None:
        return False
    try:
        proc = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True,
                              text=True, timeout=15, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and bool(proc.stdout.strip())


def buildah_command() -> list[str]:
    """``buildah`` with the storage every command here shares (vfs works everywhere, no overlay needed)."""
    return ["buildah", "--storage-driver", "vfs"]


def detect_builder() -> str:
    """``"docker"`` when a daemon answers, else ``"buildah"``; ``Unavailable`` saying why when neither works."""
    if docker_available():
        return "docker"
    if shutil.which("buildah"):
        return "buildah"
    raise Unavailable("no image builder: docker has no daemon answering and buildah is not installed "
                      "(apt-get install buildah)")


@dataclass(frozen=True)
class PipSettings:
    """How pip inside a build reaches the package index: build arguments, and the CA bundle file pip trusts
    (passed as the build secret ``cacert``, which both docker/BuildKit and buildah mount for one RUN step)."""

    build_args: dict[str, str]
    ca_bundle: str | None = None


def pip_settings(config: Mapping[str, str], env: Mapping[str, str]) -> PipSettings:
    """The host's pip index settings, as a build should use them.

    ``config`` is ``pip config list`` parsed (``{"global.index-url": ...}``), ``env`` the environment, which
    wins as it does for pip. Only http(s) indexes pass: ``file://`` indexes and local find-links are the
    host's own caches. The CA bundle pip trusts goes in as a build secret, so TLS stays verified.
    """

    def setting(key: str) -> str:
        env_value = env.get(f"PIP_{key.upper().replace('-', '_')}")
        if env_value is not None:
            return env_value
        for section in (":env:", "install", "global"):
            if f"{section}.{key}" in config:
                return config[f"{section}.{key}"]
        return ""

    args: dict[str, str] = {}
    index = setting("index-url")
    if index.startswith(("http://", "https://")):
        args["PIP_INDEX_URL"] = index
    extra = " ".join(url for url in setting("extra-index-url").split() if url.startswith(("http://", "https://")))
    if extra:
        args["PIP_EXTRA_INDEX_URL"] = extra
    cert = setting("cert") or env.get("REQUESTS_CA_BUNDLE", "") or env.get("SSL_CERT_FILE", "")
    return PipSettings(args, str(Path(cert).resolve()) if cert and Path(cert).is_file() else None)


def host_pip_config() -> dict[str, str]:
    """``pip config list`` of the host, as ``{"section.key": value}`` (empty when pip cannot tell)."""
    proc = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True,
                          check=False, timeout=60)
    result = {}
    for line in proc.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            result[key.strip()] = value.strip().strip("'\"")
    return result


def build_command(builder: str, spec: ImageSpec, ref: str, base_image: str | None, pip: PipSettings,
                  context: Path = REPO_ROOT) -> list[str]:
    """The command that builds ``spec`` as ``ref`` with ``builder`` from the repository root."""
    args = {**pip.build_args, **spec.build_args}
    if base_image:
        args["BASE_IMAGE"] = base_image
    cmd = ["docker", "build"] if builder == "docker" else [*buildah_command(), "bud", "--isolation", "chroot"]
    if pip.ca_bundle:
        cmd += ["--secret", f"id={CA_SECRET},src={pip.ca_bundle}"]
    for key, value in sorted(args.items()):
        cmd += ["--build-arg", f"{key}={value}"]
    return [*cmd, "-f", str(context / DOCKERFILE), "-t", ref, str(context)]


@dataclass(frozen=True)
class BuiltImage:
    component: str
    ref: str
    seconds: float


def build_images(components: Sequence[str], registry: str = DEFAULT_REGISTRY, tag: str | None = None,
                 base_image: str | None = None, builder: str | None = None,
                 context: Path = REPO_ROOT) -> list[BuiltImage]:
    """Build the images of ``components`` (in order) and return their references and build times."""
    specs = [image_spec(name) for name in components]
    builder = builder or detect_builder()
    pip = pip_settings(host_pip_config(), os.environ)
    built = []
    for spec in specs:
        ref = image_ref(spec.component, registry, tag)
        cmd = build_command(builder, spec, ref, base_image, pip, context)
        logger.info("building %s: %s", ref, " ".join(cmd))
        started = time.monotonic()
        # The builder's progress goes to stderr, so stdout keeps only what the caller prints (the references).
        # RUN --mount needs BuildKit: docker's default builder since 23.0, asked for explicitly for older ones.
        proc = subprocess.run(cmd, stdout=sys.stderr, check=False, env={**os.environ, "DOCKER_BUILDKIT": "1"})
        if proc.returncode != 0:
            raise UpstreamError(f"{builder} failed building {ref} (exit {proc.returncode}); see its output above")
        built.append(BuiltImage(spec.component, ref, time.monotonic() - started))
    return built


def image_size(ref: str, builder: str | None = None) -> int:
    """The size in bytes of local image ``ref``."""
    builder = builder or detect_builder()
    if builder == "docker":
        cmd = ["docker", "image", "inspect", "--format", "{{.Size}}", ref]
    else:
        cmd = [*buildah_command(), "images", "--format", "{{.Size}}", "--noheading", ref]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=60)
    if proc.returncode != 0:
        raise UpstreamError(f"cannot inspect image {ref}: {proc.stderr.strip()}")
    return _parse_size(proc.stdout.strip().splitlines()[0])


def _parse_size(text: str) -> int:
    """``"123"`` or buildah's ``"215 MB"`` as bytes (decimal units, as buildah prints them)."""
    units = {"B": 1, "KB": 10**3, "kB": 10**3, "MB": 10**6, "GB": 10**9}
    number, _, unit = text.partition(" ")
    return int(float(number) * units.get(unit.strip(), 1))
