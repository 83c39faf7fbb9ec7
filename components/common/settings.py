"""Typed settings read once from the environment, one prefix per component, secrets masked."""

from __future__ import annotations

import os

from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ComponentSettings", "SecretStr", "SettingsConfigDict", "describe_invalid"]


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


def describe_invalid(err: ValidationError) -> str:
    """One line for settings that failed validation, naming the environment variable that set them."""
    first = err.errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    names = [name for name in os.environ if name.upper().endswith(f"_{field.upper()}")]
    where = f" ({', '.join(sorted(names))})" if names else ""
    # a validator's own ValueError comes back as "Value error, <its message>": the message is what the user needs
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"invalid setting {field}{where}: {message}"
