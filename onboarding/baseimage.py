"""A Python base image made from Debian packages, for machines that reach no container registry.

``debootstrap --variant=minbase`` lays out Debian bookworm (whose ``python3`` is 3.11) with python3, venv
and pip; docs, man pages, locales and apt's caches are dropped; ``buildah`` commits the tree as an image
that ``onboarding/Dockerfile`` takes as ``BASE_IMAGE``.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from components.common.errors import Unavailable, UpstreamError
from onboarding.images import buildah_command

logger = logging.getLogger(__name__)

DEFAULT_BASE_IMAGE = "localhost/ai4cop-base:bookworm"
SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv", "python3-pip", "ca-certificates")
# Not needed at run time and a third of the tree.
PRUNED = ("var/cache/apt", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/locale",
          "usr/share/info")


def image_exists(ref: str) -> bool:
    """True when buildah's local storage holds image ``ref``."""
    proc = subprocess.run([*buildah_command(), "inspect", "--type", "image", ref], capture_output=True,
                          check=False, timeout=120)
    return proc.returncode == 0


def _run(cmd: list[str], what: str) -> str:
    logger.info("%s: %s", what, " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise UpstreamError(f"{what} failed (exit {proc.returncode}): {' | '.join(tail)}")
    return proc.stdout.strip()


def make_rootfs(root: Path, mirror: str | None = None) -> None:
    """Debootstrap a minimal bookworm with Python into ``root`` and prune what a runtime never reads."""
    if shutil.which("debootstrap") is None:
        raise Unavailable("debootstrap is not installed (apt-get install debootstrap)")
    cmd = ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(root)]
    _run([*cmd, mirror] if mirror else cmd, "debootstrap")
    for relative in PRUNED:
        directory = root / relative
        if directory.is_dir():
            for child in directory.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()


def commit_rootfs(root: Path, ref: str) -> None:
    """Commit directory ``root`` as image ``ref`` (``buildah from scratch`` + ``copy`` + ``commit``)."""
    buildah = buildah_command()
    container = _run([*buildah, "from", "scratch"], "buildah from scratch")
    try:
        _run([*buildah, "copy", container, str(root), "/"], "buildah copy")
        _run([*buildah, "config", "--env", "LANG=C.UTF-8", "--cmd", "python3",
              "--label", f"org.opencontainers.image.description=Debian {SUITE} with Python 3", container],
             "buildah config")
        _run([*buildah, "commit", "--rm", container, ref], "buildah commit")
    except UpstreamError:
        subprocess.run([*buildah, "rm", container], capture_output=True, check=False)
        raise


def build_base_image(ref: str = DEFAULT_BASE_IMAGE, mirror: str | None = None, force: bool = False,
                     workdir: Path | None = None) -> bool:
    """Make base image ``ref`` unless it exists (or ``force``); return True when it was built now."""
    if shutil.which("buildah") is None:
        raise Unavailable("buildah is not installed (apt-get install buildah)")
    if not force and image_exists(ref):
        logger.info("base image %s already exists", ref)
        return False
    with tempfile.TemporaryDirectory(prefix="ai4cop-base-", dir=workdir) as tmp:
        root = Path(tmp) / "rootfs"
        make_rootfs(root, mirror)
        commit_rootfs(root, ref)
    return True
