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


def test_atomic_write_permissions_survive_a_writer_that_replaces_the_file(tmp_path: Path) -> None:
    """safetensors >= 0.8 writes its own 0600 file and renames it over ours."""
    import torch
    from safetensors.torch import load_file, save_file

    old = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "model.safetensors") as tmp:
            save_file({"w": torch.ones(2)}, str(tmp))
    finally:
        os.umask(old)
    assert (os.stat(tmp_path / "model.safetensors").st_mode & 0o777) == 0o644
    assert torch.equal(load_file(str(tmp_path / "model.safetensors"))["w"], torch.ones(2))


def test_atomic_write_leaves_nothing_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
