"""Atomic writes: whole files with ordinary permissions, or nothing."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from ramotion.io_utils import atomic_path, save_npy


def test_atomic_write_gives_umask_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        save_npy(tmp_path / "a.npy", np.arange(3))
    finally:
        os.umask(old)
    assert (os.stat(tmp_path / "a.npy").st_mode & 0o777) == 0o644
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), np.arange(3))


def test_atomic_write_leaves_nothing_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
