"""The orchestrator's settings (``ORCHESTRATOR_*``): run defaults for every pipeline it runs."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from components.common.settings import ComponentSettings, SettingsConfigDict
from components.orchestrator.engine import RunOptions

MIN_KEEPALIVE = 10.0


class Settings(ComponentSettings):
    """``ORCHESTRATOR_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="ORCHESTRATOR_", extra="ignore", frozen=True)

    default_queuesize: int = 64
    startup_timeout: float = 60.0
    call_timeout: float = 0.0
    retries: int = 2
    continue_on_error: bool = False
    concurrency: int = Field(default=1, ge=1)
    # JSON, e.g. ORCHESTRATOR_NODE_CONCURRENCY='{"comax1": 4}': calls in flight to a node with 4 replicas.
    node_concurrency: dict[str, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)
    keepalive_seconds: float = Field(default=30.0, ge=0)

    @field_validator("keepalive_seconds")
    @classmethod
    def _within_server_policy(cls, value: float) -> float:
        # Our servers accept a ping every 10 s while a call is silent; faster pings would get connections closed.
        if 0 < value < MIN_KEEPALIVE:
            raise ValueError(f"must be 0 (no pings) or at least {MIN_KEEPALIVE:g} seconds")
        return value

    def run_options(self) -> RunOptions:
        """The run defaults these settings give (``queuesize``/``iterations`` come from ``initialize``)."""
        return RunOptions(queuesize=self.default_queuesize, startup_timeout=self.startup_timeout,
                          call_timeout=self.call_timeout or None, retries=self.retries,
                          continue_on_error=self.continue_on_error, concurrency=self.concurrency,
                          node_concurrency=dict(self.node_concurrency), keepalive=self.keepalive_seconds)
