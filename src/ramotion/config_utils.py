"""Building config dataclasses from JSON dicts, refusing what they do not know."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def dataclass_from_dict(cls: type[T], data: Any, what: str) -> T:
    """`cls(**data)` after checking that data is a dict whose keys are all fields of cls;
    errors name `what` (e.g. "RAM config") and the unknown keys."""
    if not isinstance(data, dict):
        raise ValueError(f"{what} must be a JSON object, got {type(data).__name__}")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown {what} keys: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return cls(**data)
