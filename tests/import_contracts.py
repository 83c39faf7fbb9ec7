"""An import-linter contract type that reads the component catalogue, so a new component is layered and kept
independent of the others by its catalogue entry alone (no contract to edit).

``type = catalogue_layers`` is import-linter's ``layers`` contract in which the layer written ``CATALOGUE`` stands
for every component of ``components/common/catalogue.py``, as independent siblings.
"""

from __future__ import annotations

from typing import Any

from importlinter.contracts.layers import Layer, LayersContract, ModuleTail

from components.common.catalogue import CATALOGUE

PLACEHOLDER = "CATALOGUE"


class CatalogueLayersContract(LayersContract):
    type_name = "catalogue_layers"

    def check(self, graph: Any, verbose: bool) -> Any:
        self.layers = [_expand(layer) for layer in self.layers]  # type: ignore[has-type]
        return super().check(graph, verbose)


def _expand(layer: Layer) -> Layer:
    if {tail.name for tail in layer.module_tails} != {PLACEHOLDER}:
        return layer
    return Layer({ModuleTail(entry.package) for entry in CATALOGUE}, is_independent=True)
