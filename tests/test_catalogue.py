"""The component catalogue is the one place a component's identity lives, and every component has the same rooms."""

from __future__ import annotations

import ast
import configparser
import importlib
import re
from pathlib import Path

import pytest

from components.common.catalogue import CATALOGUE, ComponentEntry
from components.common.errors import InvalidInput
from components.common.registry import component, component_for_image, image_for_component, served_names

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("__init__.py", "__main__.py", "settings.py", "service.py", "servicer.py", "app.py", "license.json")


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda entry: entry.name)
def test_every_component_has_the_same_rooms(entry: ComponentEntry) -> None:
    folder = ROOT / entry.folder
    missing = [room for room in (*ROOMS, entry.proto) if not (folder / room).is_file()]
    assert not missing, f"{entry.folder} lacks {missing}"
    assert f'main("{entry.name}")' in (folder / "__main__.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda entry: entry.name)
def test_the_catalogue_agrees_with_each_components_code(entry: ComponentEntry) -> None:
    app = importlib.import_module(f"{entry.package}.app")
    assert app.Settings.model_config["env_prefix"] == entry.prefix
    proto = (ROOT / entry.folder / entry.proto).read_text(encoding="utf-8")
    assert re.findall(r"^service (\w+) \{", proto, re.MULTILINE) == [entry.service]
    extras = configparser.ConfigParser()
    extras.read(ROOT / "setup.cfg", encoding="utf-8")
    if entry.extra:
        assert entry.extra in extras["options.extras_require"], f"no pip extra {entry.extra!r} in setup.cfg"
    assert image_for_component(entry.name, "", "1") == f"{entry.image}:1"
    assert component_for_image(f"ghcr.io/x/{entry.image}:1") == entry.name


def test_names_are_unique_and_the_catalogue_imports_nothing() -> None:
    for field in ("name", "service", "prefix", "image"):
        values = [getattr(entry, field) for entry in CATALOGUE]
        assert len(values) == len(set(values)), field
    tree = ast.parse((ROOT / "components/common/catalogue.py").read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert imported <= {"__future__", "dataclasses"}


def test_lookups_accept_the_image_short_name_and_list_the_known_ones() -> None:
    assert component("geotriples").name == component("geotriples_adapter").name == "geotriples_adapter"
    assert {"geotriples", "geotriples_adapter", "comax", "databroker", "orchestrator"} <= set(served_names())
    with pytest.raises(InvalidInput, match="unknown component 'nope'; known: comax, databroker"):
        component("nope")
    with pytest.raises(InvalidInput, match="repository names: ai4cop-comax"):
        component_for_image("ghcr.io/x/other:1")
