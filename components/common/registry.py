"""Lookups in the component catalogue: by name, by image reference, and each component's ``app`` module.

Light on purpose (no server, web or settings imports), so the orchestrator's engine, the CLI and the
deployment tools can ask "which component is this image?" without loading a web framework.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from components.common.catalogue import CATALOGUE, ComponentEntry
from components.common.errors import InvalidInput

COMPONENTS: dict[str, ComponentEntry] = {entry.name: entry for entry in CATALOGUE}
IMAGE_PREFIX = "ai4cop-"


def short_name(entry: ComponentEntry) -> str:
    """The image's name without ``ai4cop-`` (``geotriples`` for ``geotriples_adapter``)."""
    return entry.image.removeprefix(IMAGE_PREFIX)


def served_names() -> list[str]:
    """Every name ``ai4cop serve`` accepts: component names and their images' short names."""
    return sorted({*COMPONENTS, *(short_name(entry) for entry in CATALOGUE)})


def component(name: str) -> ComponentEntry:
    """The component called ``name`` (or whose image is ``ai4cop-<name>``); ``InvalidInput`` naming the known."""
    if name in COMPONENTS:
        return COMPONENTS[name]
    for entry in CATALOGUE:
        if short_name(entry) == name:
            return entry
    raise InvalidInput(f"unknown component {name!r}; known: {', '.join(sorted(COMPONENTS))}")


def app_module(name: str) -> ModuleType:
    """The ``app`` module (``Settings`` and ``build``) of component ``name``."""
    return importlib.import_module(f"{component(name).package}.app")


def component_for_image(ref: str) -> str:
    """The component an image reference runs, e.g. ``ghcr.io/ai4cop/ai4cop-comax:0.1.0`` -> ``comax``.

    Registry, namespace, tag and digest are ignored; ``InvalidInput`` when the repository is not one of ours.
    """
    repository = ref.strip().rsplit("/", 1)[-1]
    repository = repository.split("@", 1)[0].split(":", 1)[0]
    for entry in CATALOGUE:
        if entry.image == repository:
            return entry.name
    known = ", ".join(sorted(entry.image for entry in CATALOGUE))
    raise InvalidInput(f"image {ref!r} is not an ai4cop component (repository names: {known})")


def is_ai4cop_image(ref: str) -> bool:
    """Whether ``ref`` is one of our components' images."""
    try:
        component_for_image(ref)
    except InvalidInput:
        return False
    return True


def image_for_component(name: str, registry: str, tag: str) -> str:
    """The image reference of component ``name`` under ``registry`` (e.g. ``ghcr.io/ai4cop``) with ``tag``."""
    prefix = registry.strip().rstrip("/")
    return f"{prefix + '/' if prefix else ''}{component(name).image}:{tag}"
