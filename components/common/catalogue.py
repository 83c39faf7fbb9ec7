"""The component catalogue: every ai4cop component, once, in a plain table (no imports of its own).

The registry (``python -m components.<name>``, ``ai4cop serve``), the CLI dispatch, the local runner, the image
builds and the solution export all read this table. Adding a component is: its folder ``components/<name>/``
(with the rooms every component has), its service in the root ``model.proto``, and one entry here
(``docs/architecture.md`` walks the recipe).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ComponentEntry:
    """One component: ``name`` is its folder under ``components/`` and the one name it goes by."""

    name: str
    service: str  # the gRPC service of its proto (the platform calls /<service>/<rpc>)
    prefix: str  # its settings' environment prefix, e.g. COMAX_
    extra: str  # the pip extra with its dependencies ("" = the base install is enough)
    image: str  # the image repository name (without registry and tag); its part after "ai4cop-" is a short
    # name `ai4cop serve` also accepts
    proto: str = "model.proto"  # its proto file in its folder: what its image carries as /model.proto
    port: int = 8061  # gRPC
    web_port: int = 8062  # HTTP (page, REST, /healthz)
    # Kubernetes requests and limits, (cpu, memory) each, in the solutions ``ai4cop export`` writes
    requests: tuple[str, str] = ("100m", "128Mi")
    limits: tuple[str, str] = ("1", "512Mi")

    @property
    def package(self) -> str:
        """The Python package, e.g. ``components.comax``."""
        return f"components.{self.name}"

    @property
    def folder(self) -> str:
        """The folder, relative to the repository root."""
        return f"components/{self.name}"


CATALOGUE: tuple[ComponentEntry, ...] = (
    ComponentEntry("databroker", "DataBroker", "DATABROKER_", "databroker", "ai4cop-databroker"),
    # the analyzer holds a product's AOI arrays and its read cache in memory
    ComponentEntry("comax", "COMax", "COMAX_", "comax", "ai4cop-comax",
                   requests=("500m", "512Mi"), limits=("2", "2Gi")),
    ComponentEntry("geotriples_adapter", "GeoTriples", "GEOTRIPLES_", "geotriples", "ai4cop-geotriples",
                   requests=("250m", "256Mi"), limits=("1", "1Gi")),
    ComponentEntry("orchestrator", "Orchestrator", "ORCHESTRATOR_", "", "ai4cop-orchestrator",
                   proto="orchestrator.proto"),
    ComponentEntry("interlinking", "Interlinking", "INTERLINKING_", "interlinking", "ai4cop-interlinking",
                   requests=("500m", "512Mi"), limits=("2", "2Gi")),
    # the store's RocksDB caches and the R-tree with every geometry live in memory
    ComponentEntry("geostore", "GeoStore", "GEOSTORE_", "geostore", "ai4cop-geostore",
                   requests=("500m", "512Mi"), limits=("2", "4Gi")),
)
