"""`ramotion generate`: single prompts, prompt files, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ramotion.cli import main
from ramotion.model.config import RAMConfig
from ramotion.model.ram import RAM
from ramotion.motion.normalize import Normalizer
from ramotion.pipeline import RAMPipeline


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    cfg = RAMConfig(latent_dim=16, enc_layers=1, enc_heads=2, enc_ff=32, dim=32, layers=2, heads=2, ff=64)
    pipe = RAMPipeline(RAM(cfg), Normalizer(np.zeros(263, np.float32), np.full(263, 0.1, np.float32)), device="cpu")
    out = tmp_path_factory.mktemp("cli_model")
    pipe.save_pretrained(out)
    return out


def run_cli(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    code = main(["generate", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_single_prompt_npy_and_num(model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "walk.npy"
    code, stdout, _ = run_cli(["a person walks forward", "--seconds", "2", "--seed", "3", "--model", str(model_dir), "-o", str(out), "--steps", "10"], capsys)
    assert code == 0 and f"wrote {out}" in stdout and "seed 3" in stdout
    joints = np.load(out)
    assert joints.shape == (40, 22, 3) and np.isfinite(joints).all()
    # Same seed, same motion; --num makes suffixed files with consecutive seeds.
    code, stdout, _ = run_cli(["a person walks forward", "--frames", "40", "--seed", "3", "--num", "2", "--model", str(model_dir), "-o", str(tmp_path / "w.npy"), "--steps", "10"], capsys)
    assert code == 0
    np.testing.assert_allclose(np.load(tmp_path / "w_00.npy"), joints, atol=1e-4)  # batch of 2 vs 1: float tolerance
    assert np.abs(np.load(tmp_path / "w_01.npy") - joints).max() > 1e-3


def test_features_and_bvh(model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, _, _ = run_cli(["someone jumps", "--frames", "12", "--model", str(model_dir), "-o", str(tmp_path / "f.npy"), "--npy", "features", "--quiet"], capsys)
    assert code == 0 and np.load(tmp_path / "f.npy").shape == (12, 263)
    code, stdout, _ = run_cli(["someone jumps", "--frames", "12", "--model", str(model_dir), "-o", str(tmp_path / "j.bvh"), "--quiet", "--reg-steps", "46,44"], capsys)
    assert code == 0 and stdout == ""
    assert (tmp_path / "j.bvh").read_text().startswith("HIERARCHY")


def test_prompt_file(model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("# my prompts\na person walks forward\n\na person jumps#1.5\nsomeone waves!#0.5\n")
    out_dir = tmp_path / "out" / "nested"
    code, stdout, _ = run_cli(["--prompts", str(prompts), "--out-dir", str(out_dir), "--format", "npy", "--model", str(model_dir), "--seconds", "1", "--batch-size", "2", "--steps", "8"], capsys)
    assert code == 0 and "wrote 3 motions" in stdout
    files = sorted(p.name for p in out_dir.iterdir())
    assert files == ["000_a_person_walks_forward.npy", "001_a_person_jumps.npy", "002_someone_waves.npy"]
    assert [np.load(out_dir / f).shape[0] for f in files] == [20, 30, 10]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["", "-o", "{tmp}/x.npy"], "the prompt is empty"),
        (["   ", "-o", "{tmp}/x.npy"], "the prompt is empty"),
        (["walk " * 600, "-o", "{tmp}/x.npy"], "tokens long; the text model accepts at most 512"),
        (["a person walks", "--seconds", "0", "-o", "{tmp}/x.npy"], "--seconds must be positive"),
        (["a person walks", "--seconds", "12", "-o", "{tmp}/x.npy"], r"seconds must be in \(0, 9.8\]"),
        (["a person walks", "-o", "{tmp}/x.avi"], "unknown output extension '.avi'"),
        (["a person walks", "-o", "{tmp}/no/such/x.npy"], "does not exist"),
        (["a person walks"], "give an output file with -o"),
        ([], "give a TEXT to generate"),
        (["a person walks", "--reg-steps", "often", "-o", "{tmp}/x.npy"], "bad REG schedule"),
        (["a person walks", "--reg-steps", "49", "-o", "{tmp}/x.npy"], "first sampling step"),
        (["a person walks", "--prompts", "{tmp}/p.txt", "--out-dir", "{tmp}"], "either a TEXT or --prompts"),
        (["--prompts", "{tmp}/p.txt"], "--prompts needs --out-dir"),
        (["--prompts", "{tmp}/missing.txt", "--out-dir", "{tmp}/o"], "no such file"),
        (["--prompts", "{tmp}/bad.txt", "--out-dir", "{tmp}/o"], r"bad.txt:2: seconds must be in \(0, 9.8\]"),
        (["--prompts", "{tmp}/empty.txt", "--out-dir", "{tmp}/o"], "holds no prompts"),
    ],
)
def test_errors_are_one_line(args: list[str], message: str, model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "p.txt").write_text("a person walks\n")
    (tmp_path / "bad.txt").write_text("a person walks\na person runs#20\n")
    (tmp_path / "empty.txt").write_text("# nothing\n\n")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, _, err = run_cli([*args, "--model", str(model_dir), "--steps", "2"], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ramotion generate: error: "), err
    assert __import__("re").search(message, lines[0]), lines[0]
    assert not (tmp_path / "o").exists()  # nothing is generated or created before the input is checked


def test_model_errors(tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "not_a_model").mkdir()
    code, _, err = run_cli(["a person walks", "--model", str(tmp_path / "not_a_model"), "-o", str(tmp_path / "x.npy")], capsys)
    assert code == 2 and "not a ramotion model folder" in err and len(err.strip().splitlines()) == 1
    import ramotion.pipeline as pipeline_module

    monkeypatch.setattr(pipeline_module, "DEFAULT_MODEL_DIR", tmp_path / "absent")
    code, _, err = run_cli(["a person walks", "-o", str(tmp_path / "x.npy")], capsys)
    assert code == 2 and "no bundled default model" in err and "--model" in err and "ramotion train" in err


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c.pop("format"), "not a ramotion RAM config"),  # an older or foreign format
        (lambda c: c.__setitem__("version", 0), "format version 0"),
        (lambda c: c["model"].__setitem__("feature_dim", 251), "config implies"),  # weights of another feature size
    ],
)
def test_model_of_another_format_or_feature_size_is_refused(edit, message: str, model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """--model at a folder ramotion cannot use: one clear line, no output, no fallback to the bundled model."""
    import json
    import shutil

    bad = tmp_path / "model"
    shutil.copytree(model_dir, bad)
    config = json.loads((bad / "config.json").read_text())
    edit(config)
    (bad / "config.json").write_text(json.dumps(config))
    out = tmp_path / "x.npy"
    code, stdout, err = run_cli(["a person walks", "--model", str(bad), "-o", str(out), "--seconds", "2"], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists() and "wrote" not in stdout


def test_fps_resamples_joints_and_bvh(model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """--fps 30 resamples (same duration, so the motion plays at the same speed) and says so."""
    from ramotion.mocap.bvh import read_bvh
    from ramotion.motion.resample import resample

    base = ["a person walks", "--model", str(model_dir), "--frames", "40"]
    assert run_cli([*base, "-o", str(tmp_path / "a.npy")], capsys)[0] == 0
    code, out, _ = run_cli([*base, "-o", str(tmp_path / "b.npy"), "--fps", "30"], capsys)
    assert code == 0 and "resampled to 30 fps" in out
    a, b = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    assert len(b) == 59  # (40 - 1) * 30 / 20 + 1: the same 1.95 s
    np.testing.assert_allclose(b, resample(a, 20.0, 30.0), atol=1e-5)
    assert run_cli([*base, "-o", str(tmp_path / "c.bvh"), "--fps", "30"], capsys)[0] == 0
    bvh = read_bvh(tmp_path / "c.bvh")
    assert bvh.num_frames == 59 and bvh.fps == pytest.approx(30.0)
    for bad, message in ((["--fps", "0"], "--fps must be above 0"), (["--fps", "30", "--npy", "features"], "features keep the model's frame rate")):
        code, _, err = run_cli([*base, "-o", str(tmp_path / "d.npy"), *bad], capsys)
        assert code == 2 and message in err and not (tmp_path / "d.npy").exists()


def test_no_cleanup_writes_the_raw_joints_of_a_cleaning_model(model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A model folder with extra.cleanup writes cleaned joints; --no-cleanup the features' own."""
    import json
    import shutil

    from ramotion.motion.cleanup import CleanupConfig, clean_motion
    from ramotion.motion.features import features_to_joints

    folder = tmp_path / "cleaning"
    shutil.copytree(model_dir, folder)
    config = json.loads((folder / "config.json").read_text())
    config["extra"] = {**config.get("extra", {}), "cleanup": CleanupConfig().to_dict()}
    (folder / "config.json").write_text(json.dumps(config))
    common = ["a person walks", "--frames", "40", "--seed", "5", "--model", str(folder), "--quiet"]
    assert run_cli([*common, "-o", str(tmp_path / "f.npy"), "--npy", "features"], capsys)[0] == 0
    assert run_cli([*common, "-o", str(tmp_path / "clean.npy")], capsys)[0] == 0
    assert run_cli([*common, "-o", str(tmp_path / "raw.npy"), "--no-cleanup"], capsys)[0] == 0
    raw = np.asarray(features_to_joints(np.load(tmp_path / "f.npy")), dtype=np.float32)
    np.testing.assert_allclose(np.load(tmp_path / "raw.npy"), raw, atol=1e-5)
    np.testing.assert_allclose(np.load(tmp_path / "clean.npy"), clean_motion(raw), atol=1e-4)


def test_absurd_guidance_is_one_line_and_writes_nothing(model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "nan.npy"
    code, _, err = run_cli(["a person jumps", "--frames", "20", "--model", str(model_dir), "-o", str(out), "--w-cfg", "1e30", "--quiet"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "w_cfg must be within" in err
    assert not out.exists()


def test_num_is_generated_in_batches_of_batch_size(model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """--num 5 --batch-size 2: three batches, files _0.._4 with seeds 3..7, each the motion its
    seed gives in one batch of 5 (float32: batch-invariant)."""
    common = ["a person walks forward", "--frames", "30", "--seed", "3", "--model", str(model_dir), "--steps", "4", "--dtype", "float32"]
    code, stdout, _ = run_cli([*common, "--num", "5", "--batch-size", "2", "-o", str(tmp_path / "b.npy")], capsys)
    assert code == 0 and [f"seed {s}" in stdout for s in range(3, 8)] == [True] * 5
    assert run_cli([*common, "--num", "5", "-o", str(tmp_path / "one" / "b.npy")] if (tmp_path / "one").mkdir() is None else [], capsys)[0] == 0
    for i in range(5):
        np.testing.assert_allclose(np.load(tmp_path / f"b_{i:02d}.npy"), np.load(tmp_path / "one" / f"b_{i:02d}.npy"), atol=1e-4)
