"""Helpers shared by the CLI verbs."""

from __future__ import annotations

import os
from pathlib import Path


class UserError(Exception):
    """An error caused by the user's input; the CLI prints it as one line."""


def output_path(path: str | os.PathLike, allowed: tuple[str, ...]) -> Path:
    """An output path that can be written (one of the `allowed` extensions, an existing writable
    folder, not a folder itself): `ramotion.outputs.check_output_path`, its error a UserError."""
    from ..outputs import check_output_path  # numpy: imported when a verb writes, not with the CLI

    try:
        return check_output_path(path, allowed)
    except (ValueError, OSError) as exc:
        raise UserError(str(exc)) from None


def input_path(path: str | os.PathLike) -> Path:
    """Validate that an input file exists and is a file."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"no such file: {p}")
    if not p.is_file():
        raise UserError(f"not a file: {p}")
    return p
