"""Atomic file writing: outputs and checkpoints appear whole or not at all; checked .npy reading."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import tempfile
from collections.abc import Iterator
from typing import BinaryIO
from pathlib import Path

import numpy as np


def current_umask() -> int:
    """The process's umask (reading it needs setting it; restored at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it is renamed onto `path`.

    The temporary file keeps the final suffix (writers such as ffmpeg choose the
    format from it). On any exception it is removed and `path` is left untouched.
    """
    final = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=f".tmp{final.suffix}", dir=final.parent or ".")
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp makes the file private (0600); give it the permissions a plain open() would,
    # again before the rename, because some writers (safetensors >= 0.8) replace the file
    # with one of their own that is 0600 too.
    mode = 0o666 & ~current_umask()
    os.chmod(tmp_path, mode)
    try:
        yield tmp_path
        os.chmod(tmp_path, mode)
        os.replace(tmp_path, final)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def save_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    """np.save, atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, array)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write a text file atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def read_npy_header(f: BinaryIO) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) from the header of the .npy file open at its start in `f`, with numpy's
    own readers (np.lib.format); the file is left at the start of the data. ValueError for a
    file that is not a .npy of format 1.0 or 2.0."""
    fmt = np.lib.format
    version = fmt.read_magic(f)
    if version == (1, 0):
        shape, _, dtype = fmt.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, _, dtype = fmt.read_array_header_2_0(f)
    else:  # 3.0 differs only for non-Latin-1 field names, which no motion array has
        raise ValueError(f"unsupported .npy format version {version[0]}.{version[1]}")
    return tuple(shape), dtype


def load_npy_checked(path: str | os.PathLike) -> np.ndarray:
    """np.load of one array saved by numpy.save, refusing what it should not read.

    The header is read first with numpy's own readers (np.lib.format), and the data it
    declares (shape x itemsize) is checked against the bytes the file holds before anything
    is allocated: a 192-byte file declaring a huge shape is a clear ValueError, not a
    MemoryError. Pickles (object arrays) are never loaded. Raises FileNotFoundError for a
    missing file, PermissionError, and ValueError naming the file and the problem ("not a
    .npy file", "an .npz archive", "it holds Python objects", "a damaged .npy file (...)").
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such file: {p}")
    if not p.is_file():
        raise ValueError(f"not a file: {p}")
    try:
        f = open(p, "rb")
    except PermissionError:
        raise PermissionError(f"cannot read {p}: permission denied") from None
    with f:
        return _load_npy_from(f, os.fstat(f.fileno()).st_size, str(p))


def load_npy_bytes(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """`load_npy_checked` for the bytes of a .npy file held in memory (e.g. an upload): the same
    checks (header before data, declared size against the bytes there, never a pickle), and
    ValueErrors that name `name`."""
    return _load_npy_from(io.BytesIO(data), len(data), name)


def _load_npy_from(f: BinaryIO, size: int, name: str) -> np.ndarray:
    """The checked read behind `load_npy_checked` / `load_npy_bytes`: `f` is open at the start of
    a .npy file of `size` bytes."""
    fmt = np.lib.format
    magic = f.read(len(fmt.MAGIC_PREFIX))
    if magic != fmt.MAGIC_PREFIX:
        kind = "an .npz archive" if magic.startswith(b"PK") else "not a .npy file"
        raise ValueError(f"cannot read {name}: {kind} (expected one array saved with numpy.save)")
    f.seek(0)
    try:
        shape, dtype = read_npy_header(f)
    except ValueError as exc:
        raise ValueError(f"cannot read {name}: a damaged .npy file ({' '.join(str(exc).split())[:200]})") from None
    if dtype.hasobject:
        raise ValueError(f"cannot read {name}: it holds Python objects (pickles are never loaded)")
    need = math.prod(shape) * dtype.itemsize
    have = size - f.tell()
    if need > have:
        raise ValueError(
            f"cannot read {name}: a damaged .npy file (its header declares shape {tuple(shape)} of {dtype}, "
            f"{need} bytes, but only {have} bytes of data follow)"
        )
    f.seek(0)
    try:
        return np.load(f, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"cannot read {name}: a damaged .npy file ({' '.join(str(exc).split())[:200]})") from None


def read_tagged_json(path: str | os.PathLike, fmt: str, what: str) -> dict:
    """A JSON object whose "format" field is `fmt` (the project's config and state files).

    FileNotFoundError when the file is missing; ValueError naming the file when it is not valid
    UTF-8 JSON, not an object, or tagged otherwise (`what` says what it should have been).
    """
    path = Path(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != fmt:
        raise ValueError(f"{path} is not {what} (missing format {fmt!r})")
    return payload
