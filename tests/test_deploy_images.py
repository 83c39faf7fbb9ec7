"""Images: every component's image builds, starts, answers gRPC health on 8061, carries its files at ``/``.

The build uses docker when its daemon answers (containers then run with ``docker run -p``), else buildah (what
CI installs; containers then run daemonless, see ``tests/deploy_helpers.py``). With buildah the base image is
``$AI4COP_BASE_IMAGE``, else the Debian one ``ai4cop images base`` makes (made here when debootstrap is
installed), since no container registry may be reachable.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from onboarding.images import (
    CA_SECRET,
    DEFAULT_REGISTRY,
    IMAGES,
    REPO_ROOT,
    PipSettings,
    build_command,
    build_images,
    buildah_command,
    image_ref,
    image_size,
    package_version,
    pip_settings,
)

COMPONENTS = list(IMAGES)
TAG = "test"


def test_every_dockerfile_follows_the_image_rules() -> None:
    for spec in IMAGES.values():
        text = (REPO_ROOT / spec.dockerfile).read_text()
        assert text.count("FROM ${BASE_IMAGE}") == 2, spec.dockerfile
        assert "ARG BASE_IMAGE=python:3.11-slim" in text
        assert f"COPY {spec.proto} /model.proto" in text
        assert f"COPY {spec.license} /license.json" in text
        assert "USER 10001:10001" in text and "EXPOSE 8061 8062" in text
        assert f'CMD ["python", "-m", "components.{spec.package}"]' in text
        assert "COPY --from=builder /opt/venv /opt/venv" in text
        assert "tests" not in text.split("COPY")[-1]
        # the CA bundle comes as a build secret, never as a build argument kept in the image's history
        assert "PIP_CERT=" not in text.replace("export PIP_CERT=/run/secrets/cacert", "")
        assert "--mount=type=secret,id=cacert" in text
        extra = f'".[{spec.entry.extra}]"' if spec.entry.extra else ""
        assert (extra or " install --disable-pip-version-check .") in text


def test_dockerignore_keeps_the_context_tight() -> None:
    lines = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    assert lines[lines.index("*")] == "*"
    assert "!components/" in lines and "!tests/" not in lines and "**/__pycache__" in lines


def test_image_references_use_the_orchestrators_naming() -> None:
    assert image_ref("comax", "") == f"ai4cop-comax:{package_version()}"
    assert image_ref("geotriples", "registry.example.org/team/", "1.2") == \
        "registry.example.org/team/ai4cop-geotriples:1.2"


def test_pip_settings_pass_http_indexes_and_mount_the_ca_bundle(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("cert")
    config = {"global.index-url": "https://pypi.example.org/simple",
              "global.extra-index-url": "file:///opt/local/simple https://mirror.example.org/simple",
              "global.find-links": "/opt/wheels", "global.cert": "/nonexistent"}
    settings = pip_settings(config, {"PIP_CERT": str(ca)})
    assert settings.build_args == {"PIP_INDEX_URL": "https://pypi.example.org/simple",
                                   "PIP_EXTRA_INDEX_URL": "https://mirror.example.org/simple"}
    assert settings.ca_bundle == str(ca.resolve())
    assert pip_settings({}, {}) == PipSettings({}, None)


def test_default_references_are_the_root_blueprints_images() -> None:
    nodes = json.loads((REPO_ROOT / "blueprint.json").read_text())["nodes"]
    for node in nodes:
        component = node["image"].rsplit("/", 1)[-1].split(":")[0].removeprefix("ai4cop-")
        assert image_ref(component) == node["image"] == f"{DEFAULT_REGISTRY}/ai4cop-{component}:{package_version()}"


def test_build_commands_for_buildah_and_docker() -> None:
    pip = PipSettings({"PIP_INDEX_URL": "https://pypi.example.org/simple"}, "/etc/ca.pem")
    spec = IMAGES["comax"]
    buildah = build_command("buildah", spec, "r/ai4cop-comax:1", "base:1", pip)
    assert buildah[:6] == ["buildah", "--storage-driver", "vfs", "bud", "--isolation", "chroot"]
    assert buildah[6:8] == ["--secret", f"id={CA_SECRET},src=/etc/ca.pem"]
    assert "BASE_IMAGE=base:1" in buildah and buildah[-1] == str(REPO_ROOT)
    docker = build_command("docker", spec, "r/ai4cop-comax:1", None, pip)
    # the same build secret for docker (BuildKit), not a build argument naming a file it never mounts
    assert docker[:4] == ["docker", "build", "--secret", f"id={CA_SECRET},src=/etc/ca.pem"]
    assert not any(arg.startswith("PIP_CERT") for arg in docker + buildah)
    assert docker[-5:] == ["-f", str(REPO_ROOT / spec.dockerfile), "-t", "r/ai4cop-comax:1", str(REPO_ROOT)]
    assert build_command("docker", spec, "r:1", None, PipSettings({}))[:3] == ["docker", "build", "-f"]


def _builder_or_skip() -> str:
    from onboarding.images import docker_available

    if docker_available():
        return "docker"
    if shutil.which("buildah") is None:
        pytest.skip("no image builder: docker has no daemon answering and buildah is not installed")
    for tool in ("unshare", "nsenter", "ip"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is needed to start a container without a daemon")
    return "buildah"


def _base_image_or_skip() -> str:
    from onboarding.baseimage import DEFAULT_BASE_IMAGE, build_base_image, image_exists

    if os.environ.get("AI4COP_BASE_IMAGE"):
        return os.environ["AI4COP_BASE_IMAGE"]
    if image_exists(DEFAULT_BASE_IMAGE):
        return DEFAULT_BASE_IMAGE
    if shutil.which("debootstrap") is None:
        pytest.skip("no base image: set AI4COP_BASE_IMAGE or install debootstrap (ai4cop images base)")
    build_base_image(DEFAULT_BASE_IMAGE)
    return DEFAULT_BASE_IMAGE


@pytest.fixture(scope="session")
def builder() -> str:
    return _builder_or_skip()


@pytest.fixture(scope="session")
def built_images(builder: str) -> Iterator[dict[str, str]]:
    """Build every image once per session, yield the references, then remove them (disk).

    docker builds on ``$AI4COP_BASE_IMAGE`` or the Dockerfiles' default; buildah on a local base image.
    """
    base = os.environ.get("AI4COP_BASE_IMAGE") if builder == "docker" else _base_image_or_skip()
    built = build_images(COMPONENTS, registry="localhost", tag=TAG, base_image=base, builder=builder)
    for image in built:
        print(f"built {image.ref} in {image.seconds:.0f} s: {image_size(image.ref, builder) / 1e6:.0f} MB")
    yield {image.component: image.ref for image in built}
    refs = [image.ref for image in built]
    remove = ["docker", "rmi", "--force"] if builder == "docker" else [*buildah_command(), "rmi", "--force"]
    subprocess.run([*remove, *refs], capture_output=True, check=False, timeout=600)


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("component", COMPONENTS)
def test_image_starts_serves_health_on_8061_and_carries_its_files(built_images: dict[str, str], builder: str,
                                                                  component: str, tmp_path: Path) -> None:
    from tests.deploy_helpers import BuildahContainer, DockerContainer

    spec = IMAGES[component]
    kind = DockerContainer if builder == "docker" else BuildahContainer
    container = kind(built_images[component], tmp_path / "container.log")
    try:
        assert container.config["User"] == "10001:10001"
        assert set(container.config["ExposedPorts"]) == {"8061/tcp", "8062/tcp"}
        command = container.start()
        assert command == ["python", "-m", f"components.{spec.package}"]
        assert container.health() == "SERVING"
        assert container.run("id", "-u") == "10001"
        assert container.run("cat", "/model.proto") == (REPO_ROOT / spec.proto).read_text().strip()
        assert json.loads(container.run("cat", "/license.json")) == json.loads((REPO_ROOT / spec.license).read_text())
        # Only this component's extra: no test tools, no compilers, no other component's libraries.
        installed = container.run("python", "-m", "pip", "list", "--format", "freeze").lower()
        for absent in ("pytest", "moto", "ruff", "mypy"):
            assert f"\n{absent}==" not in f"\n{installed}", absent
        assert container.run("sh", "-c", "command -v gcc cc || echo none") == "none"
        others = {"databroker": "pystac-client", "comax": "boto3", "geotriples_adapter": "rdflib"}
        for name, package in others.items():
            assert (f"\n{package}==" in f"\n{installed}") == (name == component), (component, package)
    finally:
        container.close()


def test_build_without_any_builder_is_one_readable_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "onboarding.cli", "images", "build"], cwd=REPO_ROOT,
                          env={**os.environ, "PATH": str(tmp_path)}, capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("ai4cop images: error: no image builder: docker has no daemon answering and "
                                   "buildah is not installed (apt-get install buildah)")
