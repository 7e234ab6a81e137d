"""Training never lies about success: crashes at awkward moments resume, divergence stops with
an error instead of a NaN model, wrong config types get one line naming the field."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

sys.path.insert(0, str(Path(__file__).parent))
from _train_toy import make_toy_dataset  # noqa: E402

from ramotion.cli import main as cli_main  # noqa: E402
from ramotion.train import resolve_config  # noqa: E402
from ramotion.train.curves import MetricsFormatError  # noqa: E402
from ramotion.train.state import checkpoint_dirs  # noqa: E402
from ramotion.train.text_features import cached_caption_features  # noqa: E402
from ramotion.train.trainer import Trainer, TrainingDiverged, read_run_config, resume_run, train  # noqa: E402

# tiny: 6 steps, checkpoints at 3 and 6; validation only at the end.
OVERRIDES = ["val_every=100"]


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_toy_dataset(tmp_path_factory.mktemp("toy") / "data", n_train=14, n_val=4)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("text_cache")


@pytest.fixture(scope="module")
def text(cache_dir: Path):
    return cached_caption_features(None, "cpu", cache_dir)


@pytest.fixture(scope="module")
def straight(toy: Path, text, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run trained without incident, started with a data root relative to the working directory."""
    run = tmp_path_factory.mktemp("straight") / "run"
    here = os.getcwd()
    os.chdir(toy.parent)
    try:
        train(resolve_config("tiny", OVERRIDES), "data", run, text_features=text, progress=False)
    finally:
        os.chdir(here)
    return run


def _tensors(ckpt: Path) -> dict[str, torch.Tensor]:
    out = {f"model.{k}": v for k, v in load_file(str(ckpt / "model.safetensors")).items()}
    out.update({f"ema.{k}": v for k, v in load_file(str(ckpt / "ema.safetensors")).items()})
    return out


def _losses(run: Path) -> list[tuple[int, str, float]]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [(r["step"], r["split"], r["loss"]) for r in rows]


def _same_export(a: Path, b: Path) -> bool:
    """Whether two folders export the same model: config.json bytes, and tensors and metadata
    of the safetensors files (safetensors writes its metadata keys in no fixed order)."""
    from safetensors import safe_open

    if (a / "config.json").read_bytes() != (b / "config.json").read_bytes():
        return False
    for name in ("model.safetensors", "stats.safetensors"):
        ta, tb = load_file(str(a / name)), load_file(str(b / name))
        if ta.keys() != tb.keys() or not all(torch.equal(ta[k], tb[k]) for k in ta):
            return False
        with safe_open(str(a / name), "pt") as fa, safe_open(str(b / name), "pt") as fb:
            if fa.metadata() != fb.metadata():
                return False
    return True


def _copy(run: Path, dest: Path) -> Path:
    shutil.copytree(run, dest)
    return dest


def test_crash_between_checkpoint_and_export_is_reexported_on_resume(straight: Path, toy: Path, text, cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    real_export = Trainer._export

    def export_then_crash_at_6(self: Trainer) -> None:
        if self.step == 6:
            raise RuntimeError("injected crash before the export")
        real_export(self)

    monkeypatch.setattr(Trainer, "_export", export_then_crash_at_6)
    run = tmp_path / "run"
    with pytest.raises(RuntimeError, match="injected crash"):
        train(resolve_config("tiny", OVERRIDES), toy, run, text_features=text, progress=False)
    monkeypatch.undo()
    assert [p.name for p in checkpoint_dirs(run)] == ["step_00000003", "step_00000006"]
    assert json.loads((run / "config.json").read_text())["extra"]["step"] == 3  # the stale export
    capsys.readouterr()
    result = resume_run(run, text_features=text, progress=False)
    out = capsys.readouterr().out
    assert result.step == 6
    assert f"{run / 'model.safetensors'} was from step 3: re-exported the model from checkpoint step_00000006 (step 6)" in out
    assert "nothing to train" in out
    assert _same_export(run, straight)  # as if nothing had happened
    # A missing export is written again too; an up-to-date one is left alone, and the run says it is done.
    (run / "model.safetensors").unlink()
    resume_run(run, text_features=text, progress=False)
    assert "model.safetensors was missing: re-exported" in capsys.readouterr().out
    assert _same_export(run, straight)
    assert cli_main(["train", "--resume", str(run), "--no-progress", "--text-cache", str(cache_dir)]) == 0
    out = capsys.readouterr().out
    assert "re-exported" not in out and f"{run} is at step 6 and stops at step 6: nothing to train (pass --set steps=N to train it longer)" in out


def test_torn_last_metrics_line_is_dropped_other_damage_named(straight: Path, text, cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _copy(straight, tmp_path / "run")
    metrics = run / "metrics.jsonl"
    good = metrics.read_text()
    metrics.write_text(good + '{"step": 7, "split": "train", "lo')  # a crash mid-write
    capsys.readouterr()
    assert resume_run(run, text_features=text, progress=False).step == 6
    assert f"""{metrics}: dropped its last line, cut short by a crash while it was written: '{{"step": 7, "split": "train", "lo'""" in capsys.readouterr().out
    assert metrics.read_text() == good
    lines = good.splitlines(keepends=True)
    metrics.write_text(lines[0] + "garbage\n" + "".join(lines[1:]))
    with pytest.raises(MetricsFormatError, match=rf"^{metrics}:2: not a metrics row \(JSONDecodeError: .*\); fix or delete this line$"):
        resume_run(run, text_features=text, progress=False)
    metrics.write_text(good + "[1, 2]\n")  # a complete last line that is not a row is damage, not a tear
    assert cli_main(["train", "--resume", str(run), "--no-progress", "--text-cache", str(cache_dir)]) == 2
    assert f"{metrics}:{len(lines) + 1}: not a metrics row (not a JSON object)" in capsys.readouterr().err


def test_crash_in_the_first_checkpoint_resumes_from_step_0(straight: Path, toy: Path, text, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def crash(*args, **kwargs):
        raise RuntimeError("injected crash while publishing the checkpoint")

    monkeypatch.setattr("ramotion.train.trainer.publish_checkpoint", crash)
    run = tmp_path / "run"
    with pytest.raises(RuntimeError, match="injected crash"):
        train(resolve_config("tiny", OVERRIDES), toy, run, text_features=text, progress=False)
    monkeypatch.undo()
    assert checkpoint_dirs(run) == [] and (run / "checkpoints" / ".tmp-step_00000003").is_dir()
    # A fresh train into it says what to do.
    with pytest.raises(ValueError, match=rf"^run folder {run} already exists and holds a run that stopped before its first checkpoint: pass --resume {run} to start it again from step 0 with its saved config, or choose a new --out$"):
        train(resolve_config("tiny", OVERRIDES), toy, run, text_features=text, progress=False)
    capsys.readouterr()
    result = resume_run(run, text_features=text, progress=False)
    out = capsys.readouterr().out
    assert f"{run} has no complete checkpoint (it stopped before its first): starting it again from step 0 with its saved config" in out
    assert f"removed {run / 'checkpoints' / '.tmp-step_00000003'}, a checkpoint left half-written by a crash" in out
    assert result.step == 6 and [p.name for p in checkpoint_dirs(run)] == ["step_00000003", "step_00000006"]
    assert not (run / "checkpoints" / ".tmp-step_00000003").exists()
    a, b = _tensors(checkpoint_dirs(straight)[-1]), _tensors(checkpoint_dirs(run)[-1])
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # the same run as without the crash
    assert _losses(run) == _losses(straight)
    assert _same_export(run, straight)
    # A folder that is not a run is refused with what to do.
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="is not empty \\(and is not a training run\\): choose a new --out, or empty the folder"):
        train(resolve_config("tiny", OVERRIDES), toy, other, text_features=text, progress=False)


def test_data_root_is_stored_absolute_and_old_relative_roots_are_found(straight: Path, toy: Path, text, cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    payload = json.loads((straight / "train_config.json").read_text())
    assert payload["data_root"] == str(toy.resolve()) and payload["working_dir"] == str(toy.parent)
    run = _copy(straight, tmp_path / "run")
    # An older run: a relative root and no working directory recorded.
    payload["data_root"] = "data"
    del payload["working_dir"]
    (run / "train_config.json").write_text(json.dumps(payload))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with pytest.raises(FileNotFoundError) as err:
        resume_run(run, text_features=text, progress=False)
    assert str(err.value) == f"the dataset root of run {run} was not found at {elsewhere / 'data'} or {run / 'data'} (from {run / 'train_config.json'}): pass --data ROOT"
    assert cli_main(["train", "--resume", str(run), "--no-progress", "--text-cache", str(cache_dir)]) == 2
    (run / "data").symlink_to(toy)  # relative to the run folder
    assert read_run_config(run)[1] == run / "data"
    (run / "data").unlink()
    assert resume_run(run, toy, text_features=text, progress=False).step == 6  # --data wins
    monkeypatch.chdir(toy.parent)  # relative to the working directory
    assert read_run_config(run)[1] == toy.parent / "data"
    assert resume_run(run, text_features=text, progress=False).step == 6
    payload["working_dir"] = str(toy.parent)  # recorded: found from anywhere
    (run / "train_config.json").write_text(json.dumps(payload))
    monkeypatch.chdir(elsewhere)
    assert read_run_config(run)[1] == toy.parent / "data"
    assert resume_run(run, text_features=text, progress=False).step == 6


def test_divergence_stops_with_an_error_and_saves_nothing(toy: Path, cache_dir: Path, text, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "nan"
    code = cli_main(["train", "--config", "tiny", "--data", str(toy), "--out", str(run), "--set", "lr=1e30", "--text-cache", str(cache_dir), "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]  # after the language model's loading bar
    assert err == (
        f"ramotion train: error: training diverged at step 2: the loss is NaN or infinite; stopped without saving anything from that step on "
        f"(no checkpoint was written). Lower lr (now 1e+30) or set max_grad_norm: ramotion train --resume {run} --set lr=..."
    )
    assert checkpoint_dirs(run) == [] and not (run / "model.safetensors").exists()
    assert all(r["step"] < 2 for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()))
    # --set lr on resume is what the run then trains with (not the checkpoint's saved value).
    assert resume_run(run, overrides={"lr": 1e-3, "steps": 3}, text_features=text, progress=False).step == 3
    assert all(torch.isfinite(v).all() for v in load_file(str(run / "model.safetensors")).values())
    # Weights that are not finite are never checkpointed, even when the loss looked fine.
    trainer = Trainer(resolve_config("tiny", OVERRIDES), toy, tmp_path / "w", text_features=text, progress=False)
    try:
        with torch.no_grad():
            trainer.model.denoiser.output_proj.weight[0, 0] = float("inf")
        with pytest.raises(TrainingDiverged, match=r"^training diverged at step 0: the model weights are NaN or infinite \(first: denoiser\.output_proj\.weight\);"):
            trainer.save_checkpoint()
        assert checkpoint_dirs(tmp_path / "w") == [] and not (tmp_path / "w" / "model.safetensors").exists()
    finally:
        from accelerate.state import AcceleratorState

        trainer.accelerator.end_training()
        AcceleratorState._reset_state(reset_partial_state=True)


@pytest.mark.parametrize(
    "override, message",
    [
        ("lr=abc", "train config lr must be a finite number > 0, got 'abc' (a string)"),
        ("lr=NaN", "train config lr must be a finite number > 0, got nan"),
        ("betas=5", "train config betas must be a list of two numbers in [0, 1) (AdamW's, e.g. [0.9, 0.999]), got 5"),
        ("betas=[0.9, 1.5]", "train config betas[1] must be a number in [0, 1), got 1.5"),
        ("model.dropout=null", "RAMConfig.dropout must be a number in [0, 1), got null"),
        ("model.dim=1000000000", "RAMConfig.dim must be an integer in [1, 8192], got 1000000000"),
        ("model.use_motion_encoder=\"no\"", "RAMConfig.use_motion_encoder must be true or false, got 'no' (a string)"),
        ("steps=2.5", "train config steps must be a positive integer, got 2.5"),
        ("max_grad_norm=-1", "train config max_grad_norm must be a finite number > 0, or null (no clipping), got -1"),
        ("ema_decay=false", "train config ema_decay must be a number in (0, 1), or null (no EMA), got false (a boolean)"),
        ("seed=-3", "train config seed must be an integer in [0, 4294967295], got -3"),
        ("mixed_precision=[1]", "train config mixed_precision must be one of no, bf16, fp16; got [1] (a list)"),
        ("loss.nce_tau=0", "loss setting nce_tau (a temperature) must be a finite number > 0, got 0"),
        ("variant=[1]", "unknown variant [1]; choose from ours, two_stream, sr_only, A, B, C, D, E, baseline"),
    ],
)
def test_wrong_config_types_are_one_line_naming_the_field(override: str, message: str, toy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError) as err:
        resolve_config("tiny", [override])
    assert str(err.value) == message
    assert cli_main(["train", "--config", "tiny", "--data", str(toy), "--out", str(tmp_path / "r"), "--set", override]) == 2
    assert capsys.readouterr().err == f"ramotion train: error: {message}\n"
    assert not (tmp_path / "r").exists()


def test_a_run_config_with_wrong_types_names_the_file(straight: Path, tmp_path: Path) -> None:
    run = _copy(straight, tmp_path / "run")
    payload = json.loads((run / "train_config.json").read_text())
    payload["config"]["lr"] = "fast"
    (run / "train_config.json").write_text(json.dumps(payload))
    with pytest.raises(ValueError, match=rf"^{run / 'train_config.json'}: train config lr must be a finite number > 0, got 'fast' \(a string\)$"):
        read_run_config(run)
    with pytest.raises(ValueError, match="cannot change model"):
        resume_run(straight, overrides={"model": {"dim": 64}})
    with pytest.raises(ValueError, match=r"train config steps must be a positive integer, got 'many' \(a string\)"):
        resume_run(straight, overrides={"steps": "many"})


def test_a_non_finite_checkpoint_from_an_older_version_is_not_resumed(straight: Path, text, tmp_path: Path) -> None:
    from safetensors.torch import save_file

    run = _copy(straight, tmp_path / "run")
    ckpt = checkpoint_dirs(run)[-1]
    ema = load_file(str(ckpt / "ema.safetensors"))
    key = next(k for k in ema if k.endswith("output_proj.weight"))
    ema[key][0, 0] = float("nan")
    save_file(ema, str(ckpt / "ema.safetensors"), metadata={"format": "ramotion-ram"})
    with pytest.raises(ValueError, match=rf"^{ckpt} cannot be resumed: the EMA weights are NaN or infinite \(first: {key.removeprefix('module.')}\); delete that folder to resume from an earlier checkpoint, or start a new run with a lower lr$"):
        resume_run(run, text_features=text, progress=False)
