"""Images: every component's image builds from the one ``onboarding/Dockerfile``, starts, answers gRPC health on
8061, carries its files at ``/`` and holds only ``components/common`` plus its own component.

The build uses docker when its daemon answers (containers then run with ``docker run -p``), else buildah (what
CI installs; containers then run daemonless, see ``tests/deploy_helpers.py``). With buildah the base image is
``$AI4COP_BASE_IMAGE``, else the Debian one ``ai4cop images base`` makes (made here when debootstrap is
installed), since no container registry may be reachable.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from onboarding.images import (
    CA_SECRET,
    DEFAULT_REGISTRY,
    DOCKERFILE,
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
# Own tag per test run: several checkouts may build and remove images in one builder storage at the same time.
TAG = f"test-{os.getpid()}"
CMD = ["/bin/sh", "-c", 'exec python -m "components.${AI4COP_COMPONENT}"']
# Run in an image: what its venv holds, as JSON; argv names the modules to look for.
INSIDE = """
import importlib.metadata, importlib.util, json, pathlib, re, shutil, sys
components = importlib.util.find_spec("components").submodule_search_locations[0]
print(json.dumps({
    "components": sorted(path.name for path in pathlib.Path(components).iterdir()),
    "importable": {name: importlib.util.find_spec(name) is not None for name in sys.argv[1:]},
    "entry_points": [point.name for point in importlib.metadata.distribution("ai4cop").entry_points],
    "scripts": [name for name in ("ai4cop", "pip", "pip3") if pathlib.Path(sys.prefix, "bin", name).exists()],
    "compilers": [name for name in ("gcc", "cc") if shutil.which(name)],
    "pyc": sum(1 for _ in pathlib.Path(sys.prefix).rglob("*.pyc")),
    "distributions": sorted(re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower()
                            for dist in importlib.metadata.distributions()),
}))
"""


def test_one_dockerfile_for_every_component() -> None:
    found = sorted(str(path.relative_to(REPO_ROOT)) for folder in ("components", "onboarding")
                   for path in (REPO_ROOT / folder).rglob("Dockerfile"))
    assert found == [DOCKERFILE]


def test_the_dockerfile_follows_the_image_rules() -> None:
    text = (REPO_ROOT / DOCKERFILE).read_text()
    lines = text.splitlines()
    assert text.count("FROM ${BASE_IMAGE}") == 2 and "ARG BASE_IMAGE=python:3.11-slim" in lines
    # from the build context: package metadata, the runtime, the one component and its proto and license
    copies = [line.split()[1:] for line in lines if line.startswith("COPY ")]
    assert copies == [["setup.cfg", "pyproject.toml", "README.md", "./"],
                      ["components/__init__.py", "./components/"],
                      ["components/common", "./components/common"],
                      ["components/${COMPONENT}", "./components/${COMPONENT}"],
                      ["--from=builder", "/opt/venv", "/opt/venv"],
                      ["components/${COMPONENT}/${PROTO}", "/model.proto"],
                      ["components/${COMPONENT}/license.json", "/license.json"]]
    assert "USER 10001:10001" in lines and "EXPOSE 8061 8062" in lines
    assert "    AI4COP_COMPONENT=${COMPONENT}" in lines and lines[-1] == f"CMD {CMD[2]}"
    # base install plus the extra (none for ""), no `ai4cop` script, no pip and no .pyc left in the venv
    assert '/opt/venv/bin/pip install --disable-pip-version-check --no-compile ".${EXTRA:+[${EXTRA}]}"' in text
    assert "/opt/venv/bin/pip uninstall --disable-pip-version-check --yes pip" in text
    # the CA bundle comes as a build secret, never as a build argument kept in the image's history
    assert "PIP_CERT=" not in text.replace("export PIP_CERT=/run/secrets/cacert", "")
    assert "--mount=type=secret,id=cacert" in text
    assert 'ARG PIP_INDEX_URL=""' in lines and 'ARG PIP_EXTRA_INDEX_URL=""' in lines


def test_the_image_installs_setup_cfg_without_its_console_script(tmp_path: Path) -> None:
    """The Dockerfile's awk program drops ``[options.entry_points]`` (``ai4cop`` = onboarding.cli) and nothing else."""
    program = re.search(r"awk '([^']+)' setup.cfg", (REPO_ROOT / DOCKERFILE).read_text())
    assert program is not None
    trimmed = subprocess.run(["awk", program.group(1), str(REPO_ROOT / "setup.cfg")], capture_output=True,
                             text=True, check=True).stdout
    original, image = configparser.ConfigParser(interpolation=None), configparser.ConfigParser(interpolation=None)
    original.read(REPO_ROOT / "setup.cfg")
    image.read_string(trimmed)
    assert original.get("options.entry_points", "console_scripts").strip() == "ai4cop = onboarding.cli:main"
    assert image.sections() == [name for name in original.sections() if name != "options.entry_points"]
    assert all(dict(image[name]) == dict(original[name]) for name in image.sections())


def test_the_catalogue_fills_the_dockerfiles_build_arguments() -> None:
    text = (REPO_ROOT / DOCKERFILE).read_text()
    header = text.splitlines()[0]
    assert header.startswith("# ") and f"-f {DOCKERFILE}" in header
    for spec in IMAGES.values():
        assert set(spec.build_args) == {"COMPONENT", "EXTRA", "PROTO"}
        for key in spec.build_args:
            assert f"--build-arg {key}=" in header and f"\nARG {key}=" in text
        folder = REPO_ROOT / "components" / spec.build_args["COMPONENT"]
        assert (folder / "__main__.py").is_file() and (folder / "license.json").is_file()
        assert str((folder / spec.build_args["PROTO"]).relative_to(REPO_ROOT)) == spec.proto
    assert IMAGES["orchestrator"].build_args == {"COMPONENT": "orchestrator", "EXTRA": "",
                                                 "PROTO": "orchestrator.proto"}
    assert IMAGES["geotriples_adapter"].build_args == {"COMPONENT": "geotriples_adapter", "EXTRA": "geotriples",
                                                       "PROTO": "model.proto"}


def test_dockerignore_keeps_the_context_tight() -> None:
    lines = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    assert lines[lines.index("*")] == "*"
    assert "!components/" in lines and "**/__pycache__" in lines
    assert "!tests/" not in lines and "!onboarding/" not in lines


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
    for arg in ("COMPONENT=comax", "EXTRA=comax", "PROTO=model.proto"):
        assert buildah[buildah.index(arg) - 1] == "--build-arg"
    docker = build_command("docker", spec, "r/ai4cop-comax:1", None, pip)
    # the same build secret for docker (BuildKit), not a build argument naming a file it never mounts
    assert docker[:4] == ["docker", "build", "--secret", f"id={CA_SECRET},src=/etc/ca.pem"]
    assert not any(arg.startswith("PIP_CERT") for arg in docker + buildah)
    assert docker[-5:] == ["-f", str(REPO_ROOT / DOCKERFILE), "-t", "r/ai4cop-comax:1", str(REPO_ROOT)]
    orchestrator = build_command("docker", IMAGES["orchestrator"], "r:1", None, PipSettings({}))
    assert orchestrator == ["docker", "build", "--build-arg", "COMPONENT=orchestrator", "--build-arg", "EXTRA=",
                            "--build-arg", "PROTO=orchestrator.proto", "-f", str(REPO_ROOT / DOCKERFILE), "-t",
                            "r:1", str(REPO_ROOT)]


def _extra_packages(extra: str) -> tuple[set[str], set[str]]:
    """From setup.cfg: the packages ``extra`` names, and those only other components' extras name (not the base
    install, not ``extra``), as normalised distribution names."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(REPO_ROOT / "setup.cfg")

    def names(text: str) -> set[str]:
        lines = (line.split("#")[0].strip() for line in text.splitlines())
        return {re.sub(r"[-_.]+", "-", re.split(r"[<>=!~;\[ ]", line)[0]).lower() for line in lines if line}

    extras = {entry.entry.extra for entry in IMAGES.values() if entry.entry.extra}
    base = names(config.get("options", "install_requires"))
    own = names(config.get("options.extras_require", extra)) if extra else set()
    others = set().union(*(names(config.get("options.extras_require", name)) for name in extras - {extra}))
    return own, others - base - own


def test_extra_packages_come_from_setup_cfg() -> None:
    own, others_only = _extra_packages("comax")
    assert {"boto3", "h5py"} <= own and "pystac-client" in others_only and "rdflib" in others_only
    assert "h5py" not in others_only and "shapely" not in others_only
    assert _extra_packages("")[0] == set() and "boto3" in _extra_packages("")[1]


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

    docker builds on ``$AI4COP_BASE_IMAGE`` or the Dockerfile's default; buildah on a local base image.
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
        assert f"AI4COP_COMPONENT={spec.package}" in container.config["Env"]
        assert container.start() == CMD
        assert container.health() == "SERVING"
        assert container.run("id", "-u") == "10001"
        assert container.run("cat", "/model.proto") == (REPO_ROOT / spec.proto).read_text().strip()
        assert json.loads(container.run("cat", "/license.json")) == json.loads((REPO_ROOT / spec.license).read_text())
        others = [f"components.{name}" for name in [*IMAGES, "runner"] if name != spec.package]
        inside = json.loads(container.run("python", "-c", INSIDE, "onboarding", *others, "components.common",
                                          f"components.{spec.package}"))
        # The runtime and this component only: no deployment tools, no local runner, no other component.
        assert inside["components"] == sorted(["__init__.py", "common", spec.package])
        assert inside["importable"] == {"onboarding": False, **dict.fromkeys(others, False),
                                        "components.common": True, f"components.{spec.package}": True}
        # No `ai4cop` script pointing at the absent onboarding package, no pip in the venv (the base image's own
        # python3-pip stays), no compilers, no .pyc files.
        assert inside["entry_points"] == [] and inside["scripts"] == [] and inside["compilers"] == []
        assert inside["pyc"] == 0
        # Only this component's extra: no test tools, no other component's libraries.
        for absent in ("pip", "pytest", "moto", "ruff", "mypy", "import-linter", "pyyaml", "kubernetes-validate"):
            assert absent not in inside["distributions"], absent
        own, others_only = _extra_packages(spec.entry.extra)
        assert own <= set(inside["distributions"]), own - set(inside["distributions"])
        assert not others_only & set(inside["distributions"]), others_only & set(inside["distributions"])
    finally:
        container.close()


def test_build_without_any_builder_is_one_readable_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "onboarding.cli", "images", "build"], cwd=REPO_ROOT,
                          env={**os.environ, "PATH": str(tmp_path)}, capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("ai4cop images: error: no image builder: docker has no daemon answering and "
                                   "buildah is not installed (apt-get install buildah)")
