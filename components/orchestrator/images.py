"""Image references <-> ai4cop components: repositories are named exactly ``ai4cop-<component>``.

The one place this mapping lives (the deployment tooling imports it too).
"""

from __future__ import annotations

from components.common.errors import InvalidInput
from components.common.registry import COMPONENTS

PREFIX = "ai4cop-"


def component_for_image(ref: str) -> str:
    """The component an image reference runs, e.g. ``ghcr.io/ai4cop/ai4cop-comax:0.1.0`` -> ``comax``.

    Registry, namespace, tag and digest are ignored; ``InvalidInput`` when the repository is not one of ours.
    """
    name = ref.strip().rsplit("/", 1)[-1]
    name = name.split("@", 1)[0].split(":", 1)[0]
    component = name.removeprefix(PREFIX) if name.startswith(PREFIX) else ""
    if component not in COMPONENTS:
        known = ", ".join(PREFIX + c for c in sorted(COMPONENTS))
        raise InvalidInput(f"image {ref!r} is not an ai4cop component (repository names: {known})")
    return component


def is_ai4cop_image(ref: str) -> bool:
    """Whether ``ref`` is one of our components' images."""
    try:
        component_for_image(ref)
    except InvalidInput:
        return False
    return True


def image_for_component(name: str, registry: str, tag: str) -> str:
    """The image reference of component ``name`` under ``registry`` (e.g. ``ghcr.io/ai4cop``) with ``tag``."""
    if name not in COMPONENTS:
        raise InvalidInput(f"unknown component {name!r}; known: {', '.join(sorted(COMPONENTS))}")
    prefix = registry.strip().rstrip("/")
    return f"{prefix + '/' if prefix else ''}{PREFIX}{name}:{tag}"
