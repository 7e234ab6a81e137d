"""The prompt files of `ramotion generate --prompts FILE`: one prompt per line, `TEXT` or
`TEXT#SECONDS`; blank lines and lines starting with '#' are skipped."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path


def iter_prompt_file(path: str | os.PathLike) -> Iterator[tuple[int, str, float | None]]:
    """(line number, prompt, seconds or None) per line of a prompt file: `TEXT` or `TEXT#SECONDS`;
    blank lines and lines starting with '#' are skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a UTF-8 text file") from None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        prompt, sep, length = line.rpartition("#")
        if not sep:
            yield number, line, None
            continue
        try:
            seconds = float(length)
        except ValueError:
            raise ValueError(f"{path}:{number}: bad length {length.strip()!r} after '#': expected seconds, e.g. 'a person jumps#3.5'") from None
        if not prompt.strip():
            raise ValueError(f"{path}:{number}: empty prompt before the length")
        yield number, prompt.strip(), seconds
