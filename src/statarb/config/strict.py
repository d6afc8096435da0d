"""Strict, typed configuration sections: unknown keys fail with the key's path and the closest name.

Every pipeline section of ``conf/base/parameters_*.yml`` is described by a frozen pydantic model
derived from :class:`StrictModel`. Why pydantic (v2, already in the lock file through kedro-viz)
rather than hand-written dataclass loaders: it gives typed coercion, nested validation, range
constraints (``Field(gt=0)``) and precise error locations for free; we only add the "did you mean"
hint and one error type (see ``docs/dev-contract.md``).

Defaults live only in the YAML files (Kedro's rule): section models declare no defaults, so a key
missing from the YAML is an error too, and code and YAML cannot disagree.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import pydantic
from pydantic import BaseModel, ConfigDict

M = TypeVar("M", bound="StrictModel")


class ConfigError(ValueError):
    """A configuration value violates its schema; the message names each key path and the rule."""


class StrictModel(BaseModel):
    """Base of every configuration section: frozen, no unknown keys, no silent coercion of
    strings to numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, validate_default=True)

    @classmethod
    def from_params(cls: type[M], raw: Mapping[str, Any] | None, path: str) -> M:
        """Validate ``raw`` (one section of the Kedro parameters) as this model.

        ``path`` is the section's key path used in messages (e.g. ``"alpha"``). Raises
        :class:`ConfigError` listing every problem, each with its full key path and, for an
        unknown key, the closest valid name.
        """
        if isinstance(raw, cls):
            return raw
        if raw is None:
            raise ConfigError(f"parameters: section {path!r} is missing")
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{path}: expected a mapping, got {type(raw).__name__}")
        try:
            return cls.model_validate(dict(raw))
        except pydantic.ValidationError as exc:
            raise ConfigError(format_errors(cls, exc, path)) from None


def _fields_at(model: type[BaseModel], loc: Iterable[Any]) -> list[str]:
    """Field names of the (nested) model reached by following ``loc`` from ``model``.

    A field holding a container of models (``dict[str, Model]``, ``list[Model]``) consumes the
    next ``loc`` part as its key or index, so errors inside ``sources.<name>`` get hints too.
    """
    current: Any = model
    parts = list(loc)
    i = 0
    while i < len(parts):
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(str(parts[i]))
        if field is None:
            return []
        i += 1
        if typing.get_origin(field.annotation) in (dict, list, tuple) and i < len(parts):
            i += 1  # the mapping key or sequence index
        current = _model_of(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_of(annotation: Any) -> Any:
    """The BaseModel inside ``annotation`` (``Model``, ``Model | None``), else the annotation."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return annotation


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate most similar to ``name`` (difflib ratio >= 0.6), or None."""
    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return match[0] if match else None


def format_errors(model: type[BaseModel], exc: pydantic.ValidationError, path: str) -> str:
    """One line per error: ``<path.to.key>: <rule>`` (+ "did you mean" for unknown keys)."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        key = ".".join([path, *loc])
        if err["type"] == "extra_forbidden":
            hint = closest(loc[-1], _fields_at(model, loc[:-1]))
            tip = f" (did you mean {'.'.join([path, *loc[:-1], hint])!r}?)" if hint else ""
            valid = ", ".join(_fields_at(model, loc[:-1]))
            lines.append(f"{key}: unknown key{tip}; valid keys here: {valid}")
        elif err["type"] == "missing":
            lines.append(f"{key}: required key is missing (defaults live in the YAML)")
        else:
            lines.append(f"{key}: {err['msg']} (got {err.get('input')!r})")
    head = f"invalid parameters in section {path!r}:"
    return "\n  ".join([head, *lines])
