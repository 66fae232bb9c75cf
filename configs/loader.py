"""Load a config: embedded YAML < a user YAML file < NUDGE_ environment < explicit overrides.

Environment keys are `NUDGE_<CONFIG>__<FIELD>[__<SUBFIELD>]`, e.g.
`NUDGE_SIMULATION__CUSTOMERS=1000` or `NUDGE_TRAINING__CHURN__HORIZON_DAYS=60`.
Values are parsed as YAML scalars.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)

_PREFIX = "NUDGE_"


class ConfigError(ValueError):
    """A config file, environment variable or override is invalid; the message says which."""


def load_config(
    name: str,
    model: type[ModelT],
    path: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ModelT:
    """Resolve config `name` (e.g. "simulation") into a validated `model`."""
    merged = _read_yaml(resources.files("configs").joinpath(f"{name}.yaml"), f"configs/{name}.yaml")
    if path is not None:
        merged = _deep_merge(merged, _read_yaml(path, str(path)))
    merged = _deep_merge(merged, _from_environment(name, os.environ if environ is None else environ))
    merged = _deep_merge(merged, {k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return model.model_validate(merged)
    except ValidationError as err:
        raise ConfigError(f"invalid {name} config (defaults < {path or 'no file'} < env):\n{err}") from None


def _read_yaml(source: Any, label: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(source.read_text()) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"{label}: cannot read config: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{label}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def _from_environment(name: str, environ: Mapping[str, str]) -> dict[str, Any]:
    prefix = f"{_PREFIX}{name.upper()}__"
    tree: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith(prefix):
            continue
        *parents, leaf = key[len(prefix) :].lower().split("__")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        try:
            node[leaf] = yaml.safe_load(raw)
        except yaml.YAMLError as err:
            problem = str(err).splitlines()[0]
            raise ConfigError(f"environment variable {key}={raw!r} is not a YAML value: {problem}") from None
    return tree


def _deep_merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
