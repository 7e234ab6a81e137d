"""Helpers shared by the CLI verbs."""

from __future__ import annotations

import os
from pathlib import Path


class UserError(Exception):
    """An error caused by the user's input; the CLI prints it as one line."""


def output_path(path: str | os.PathLike, allowed: tuple[str, ...]) -> Path:
    """Validate an output path: a known extension and a writable, existing parent folder."""
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in allowed:
        raise UserError(f"unknown output extension {suffix or '(none)'!r} for {out}: expected one of {', '.join(allowed)}")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UserError(f"cannot write {out}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise UserError(f"cannot write {out}: folder {parent} is not writable")
    return out


def input_path(path: str | os.PathLike) -> Path:
    """Validate that an input file exists and is a file."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"no such file: {p}")
    if not p.is_file():
        raise UserError(f"not a file: {p}")
    return p
