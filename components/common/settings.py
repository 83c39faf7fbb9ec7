"""Typed settings read once from the environment, one prefix per component, secrets masked."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ComponentSettings", "SecretStr", "SettingsConfigDict"]


class ComponentSettings(BaseSettings):
    """Network settings every component has; subclasses add their own fields and ``env_prefix``.

    ``SecretStr`` fields print as ``**********`` in ``repr``, ``str`` and logs; read them with
    ``get_secret_value()`` only where they are used.
    """

    model_config = SettingsConfigDict(env_prefix="AI4COP_", extra="ignore", frozen=True)

    host: str = "0.0.0.0"
    port: int = 8061
    web_host: str = "0.0.0.0"
    web_port: int = 8062
    grace_seconds: float = 5.0
    max_workers: int = 16
