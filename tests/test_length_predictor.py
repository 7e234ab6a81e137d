"""The length predictor (issue 22, item 3): text -> frames, trained on the layout's captions,
saved beside a model, used by the pipeline, `ramotion generate` and the API when no length is given."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ramotion.cli import main
from ramotion.data.layout import CaptionLine, write_captions, write_split
from ramotion.model.config import RAMConfig
from ramotion.model.length import (
    CONFIG_NAME,
    WEIGHTS_NAME,
    LengthConfig,
    LengthPredictor,
    frames_to_bins,
    load_length_predictor,
    save_length_predictor,
)
from ramotion.model.ram import RAM
from ramotion.motion.normalize import Normalizer
from ramotion.pipeline import RAMPipeline
from ramotion.train.length import LengthTrainSettings, fit_length_predictor, length_examples, train_length_predictor

TINY = dict(latent_dim=16, enc_layers=1, enc_heads=2, enc_ff=32, dim=32, layers=2, heads=2, ff=64)
# Actions whose motions have their own typical length (frames), as real ones do.
ACTIONS = {"jumps once": 48, "waves with the right hand": 84, "walks forward": 124, "dances for a long time": 180}
WHO = ("a person", "a man", "someone", "a woman", "the figure")


def length_corpus(root: Path, per_action: dict[str, int] | None = None, seed: int = 0) -> Path:
    """A HumanML3D layout whose motion lengths depend on the action their captions name
    (random features; train/val/test splits; each motion with three captions)."""
    rng = np.random.default_rng(seed)
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "texts").mkdir()
    counts = per_action or {"train": 12, "val": 4, "test": 4}
    splits: dict[str, list[str]] = {split: [] for split in counts}
    for a, (action, frames) in enumerate(ACTIONS.items()):
        for split, n in counts.items():
            for k in range(n):
                mid = f"{split}_{a}_{k}"
                length = int(frames + rng.integers(-6, 7))
                np.save(root / "new_joint_vecs" / f"{mid}.npy", rng.normal(size=(length, 263)).astype(np.float32) * 0.1)
                who = rng.choice(len(WHO), 3, replace=False)
                write_captions(root / "texts" / f"{mid}.txt", [CaptionLine(f"{WHO[w]} {action}", [f"{action.split()[0]}/VERB"]) for w in who])
                splits[split].append(mid)
    for split, ids in splits.items():
        write_split(root / f"{split}.txt", ids)
    np.save(root / "Mean.npy", np.zeros(263, np.float32))
    np.save(root / "Std.npy", np.ones(263, np.float32))
    return root


def fixed_predictor(frames_bin: int = 12, **config) -> LengthPredictor:
    """A predictor that always says bin `frames_bin` (bin 12: frames 49..52 -> 51)."""
    p = LengthPredictor(LengthConfig(**config))
    with torch.no_grad():
        last = p.net[-1]
        last.weight.zero_()
        last.bias.fill_(-30.0)
        last.bias[frames_bin] = 30.0
    return p.eval()


def tiny_pipeline(text_encoder, length_predictor: LengthPredictor | None = None) -> RAMPipeline:
    torch.manual_seed(0)
    norm = Normalizer(np.zeros(263, np.float32), np.full(263, 0.1, np.float32))
    return RAMPipeline(RAM(RAMConfig(**TINY)), norm, text_encoder, device="cpu", dtype="float32", length_predictor=length_predictor)


@pytest.fixture(scope="module")
def text_encoder():
    from ramotion.text.encoder import TextEncoder

    return TextEncoder(device="cpu")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """(corpus, output folder, report) of one training on the synthetic corpus (token features
    cached in the corpus's parent folder, under "cache")."""
    base = tmp_path_factory.mktemp("length")
    root = length_corpus(base / "corpus")
    report = train_length_predictor(root, base / "out", LengthTrainSettings(epochs=30, batch_size=32, lr=3e-3), text_cache=base / "cache")
    return root, base / "out", report


# --------------------------------------------------------------------------- bins and readings


def test_bins_cover_every_length_the_model_makes() -> None:
    p = LengthPredictor()
    assert p.config.num_bins == 49 and p.config.unit == 4 and p.config.max_frames == 196
    assert frames_to_bins(torch.tensor([1, 4, 5, 40, 196]), 4).tolist() == [0, 0, 1, 9, 48]
    lo, hi = p.bin_edges()
    assert lo[0] == 1 and hi[-1] == 196 and torch.equal(lo[1:], hi[:-1] + 1)  # no gaps, no overlaps
    odd = LengthPredictor(LengthConfig(max_frames=198))  # a last bin shorter than the unit
    assert odd.config.num_bins == 50 and odd.bin_edges()[1][-1] == 198
    assert sum(p.numel() for p in p.parameters()) * 4 < 1_000_000  # under 1 MB of float32


def test_readings_of_the_distribution() -> None:
    p = fixed_predictor(12)  # all mass on bin 12 (49..52)
    logits = p(torch.zeros(1, 384))
    assert [int(p.frames_from_logits(logits, r)) for r in ("mean", "median", "mode")] == [51, 51, 51]
    two = torch.full((1, 49), -50.0)
    two[0, 9], two[0, 39] = 0.5, 0.0  # 62% on 37..40, 38% on 157..160
    assert int(p.frames_from_logits(two, "mean")) == 84  # between the two: a length neither bin holds
    assert int(p.frames_from_logits(two, "median")) == 40  # 36.5 + 4 * 0.5 / 0.62: within the first bin
    assert int(p.frames_from_logits(two, "mode")) == 39  # the likeliest bin's centre, 38.5
    extreme = torch.full((2, 49), -50.0)
    extreme[0, 0], extreme[1, 48] = 50.0, 50.0
    for r in ("mean", "median", "mode"):
        assert all(1 <= f <= 196 for f in p.frames_from_logits(extreme, r).tolist())
    with pytest.raises(ValueError, match="point must be one of mean, median, mode"):
        p.frames_from_logits(logits, "average")


# --------------------------------------------------------------------------- targets and training


def test_targets_follow_the_loader_rules(tmp_path: Path) -> None:
    root = tmp_path / "r"
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "texts").mkdir()
    for mid, n in {"long": 199, "short": 39, "ok": 60}.items():
        np.save(root / "new_joint_vecs" / f"{mid}.npy", np.zeros((n, 263), np.float32))
    write_captions(root / "texts" / "long.txt", [CaptionLine("whole", []), CaptionLine("a span", [], 1.0, 3.5), CaptionLine("too short", [], 1.0, 2.0)])
    write_captions(root / "texts" / "short.txt", [CaptionLine("short one", [])])
    write_captions(root / "texts" / "ok.txt", [CaptionLine("ok one", []), CaptionLine("ok two", [])])
    write_split(root / "train.txt", ["long", "short", "ok"])
    np.save(root / "Mean.npy", np.zeros(263, np.float32))
    np.save(root / "Std.npy", np.ones(263, np.float32))
    captions, lengths = length_examples(root, "train")
    got = dict(zip(captions, lengths.tolist()))
    # A span is its own (sub)motion (frames 20..70); 199 frames are capped at 196; under 40 frames is dropped.
    assert got == {"a span": 50, "whole": 196, "ok one": 60, "ok two": 60}


def test_training_learns_length_from_the_caption(trained: tuple[Path, Path, dict]) -> None:
    root, out, report = trained
    table = report["test_table"]
    ours, mean, median = (table[k]["mae_frames"] for k in ("predictor", "train mean", "train median"))
    assert ours < 0.5 * mean and ours < 0.5 * median, table  # the actions' lengths differ by 36+ frames; jitter is +-6
    assert table["examples"] == 4 * 4 * 3 and report["examples"]["train"] == 4 * 12 * 3
    assert report["point"] in ("mean", "median", "mode") and 1 <= report["epoch"] <= 30
    assert report["val"][report["point"]] == min(report["val"].values())
    assert {WEIGHTS_NAME, CONFIG_NAME} <= {p.name for p in out.iterdir()}
    assert (out / WEIGHTS_NAME).stat().st_size < 1_000_000


def test_training_is_deterministic_under_a_seed() -> None:
    gen = torch.Generator().manual_seed(0)
    x, xv = torch.randn(64, 384, generator=gen), torch.randn(16, 384, generator=gen)
    y, yv = np.arange(64) * 3 % 196 + 1, np.arange(16) * 7 % 196 + 1
    settings = LengthTrainSettings(epochs=3, batch_size=16, seed=5)
    rng_before = torch.get_rng_state()
    a, _ = fit_length_predictor(x, y, xv, yv, LengthConfig(), settings)
    assert torch.equal(torch.get_rng_state(), rng_before)  # the caller's RNG is left alone
    b, _ = fit_length_predictor(x, y, xv, yv, LengthConfig(), settings)
    c, _ = fit_length_predictor(x, y, xv, yv, LengthConfig(), LengthTrainSettings(epochs=3, batch_size=16, seed=6))
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert not all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), c.state_dict().values()))


def test_bad_training_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="epochs must be a positive whole number"):
        LengthTrainSettings(epochs=0).validate()
    with pytest.raises(ValueError, match="dropout must be in"):
        LengthTrainSettings(dropout=1.0).validate()
    with pytest.raises(FileNotFoundError, match="dataset root not found"):
        train_length_predictor(tmp_path / "nowhere", tmp_path / "out")
    root = length_corpus(tmp_path / "c", {"train": 2, "test": 1})  # no val split
    with pytest.raises(FileNotFoundError, match="has no val.txt"):
        train_length_predictor(root, tmp_path / "out")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file"):
        train_length_predictor(root, tmp_path / "file")
    with pytest.raises(ValueError, match="point must be one of"):
        LengthConfig(point="average")


# --------------------------------------------------------------------------- files


def test_save_load_round_trip(trained: tuple[Path, Path, dict], text_encoder, tmp_path: Path) -> None:
    _, out, report = trained
    loaded = load_length_predictor(out)
    assert loaded is not None and loaded.config.point == report["point"] and loaded.training_report["test_table"] == report["test_table"]
    save_length_predictor(tmp_path / "again", loaded, loaded.training_report)
    again = load_length_predictor(tmp_path / "again")
    assert again.config == loaded.config
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), again.state_dict().values()))
    prompts = ["a person jumps once", "someone dances for a long time", "a person jumps once"]
    frames = again.predict(text_encoder, prompts)
    assert frames == loaded.predict(text_encoder, prompts) and frames[0] == frames[2]
    assert frames[0] < 90 < frames[1]  # 48 vs 180 frames in its data
    assert load_length_predictor(tmp_path) is None  # no predictor: None, not an error
    assert json.loads((out / CONFIG_NAME).read_text())["format"] == "ramotion-length"


def test_corrupt_and_foreign_files_are_refused(tmp_path: Path) -> None:
    good = save_length_predictor(tmp_path / "good", fixed_predictor())

    def variant(name: str) -> Path:
        d = tmp_path / name
        d.mkdir()
        for f in (WEIGHTS_NAME, CONFIG_NAME):
            (d / f).write_bytes((good / f).read_bytes())
        return d

    d = variant("bad_json")
    (d / CONFIG_NAME).write_text("{not json")
    with pytest.raises(ValueError, match="is not valid JSON"):
        load_length_predictor(d)
    d = variant("foreign_json")
    (d / CONFIG_NAME).write_text(json.dumps({"format": "ramotion-ram", "version": 1}))
    with pytest.raises(ValueError, match="is not a ramotion length predictor config"):
        load_length_predictor(d)
    d = variant("version")
    payload = json.loads((good / CONFIG_NAME).read_text())
    (d / CONFIG_NAME).write_text(json.dumps({**payload, "version": 99}))
    with pytest.raises(ValueError, match="format version 99"):
        load_length_predictor(d)
    d = variant("unknown_key")
    (d / CONFIG_NAME).write_text(json.dumps({**payload, "config": {**payload["config"], "layers": 3}}))
    with pytest.raises(ValueError, match="unknown length predictor config keys: layers"):
        load_length_predictor(d)
    d = variant("other_size")
    (d / CONFIG_NAME).write_text(json.dumps({**payload, "config": {**payload["config"], "hidden": 64}}))
    with pytest.raises(ValueError, match="implies"):
        load_length_predictor(d)
    d = variant("garbage")
    (d / WEIGHTS_NAME).write_bytes(b"\x00garbage" * 10)
    with pytest.raises(ValueError, match="is corrupt or not a safetensors file"):
        load_length_predictor(d)
    d = variant("foreign_weights")
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(d / WEIGHTS_NAME), metadata={"format": "ramotion-ram"})
    with pytest.raises(ValueError, match="is not a ramotion length predictor"):
        load_length_predictor(d)
    d = variant("no_weights")
    (d / WEIGHTS_NAME).unlink()
    with pytest.raises(FileNotFoundError, match=f"has no {WEIGHTS_NAME}"):
        load_length_predictor(d)
    d = variant("no_config")
    (d / CONFIG_NAME).unlink()
    with pytest.raises(FileNotFoundError, match=f"no {CONFIG_NAME}"):
        load_length_predictor(d)
    d = variant("nan")
    broken = fixed_predictor()
    with torch.no_grad():
        broken.net[1].weight[0, 0] = float("nan")
    save_length_predictor(d, broken)
    with pytest.raises(ValueError, match="NaN or infinite"):
        load_length_predictor(d)
    # The pipeline refuses the folder with the same message.
    folder = tmp_path / "model"
    tiny_pipeline(None).save_pretrained(folder)
    (folder / WEIGHTS_NAME).write_bytes(b"junk")
    (folder / CONFIG_NAME).write_bytes((good / CONFIG_NAME).read_bytes())
    with pytest.raises(ValueError, match="is corrupt"):
        RAMPipeline.from_pretrained(folder, device="cpu")


# --------------------------------------------------------------------------- the pipeline


def test_pipeline_uses_it_when_no_length_is_given(text_encoder, tmp_path: Path) -> None:
    pipe = tiny_pipeline(text_encoder, fixed_predictor(12))
    assert pipe.predict_frames(["a person walks", "a person jumps"]) == [51, 51]
    motions = pipe(["a person walks", "a person jumps"], seed=0, steps=4)
    assert [m.num_frames for m in motions] == [51, 51]
    assert [m.num_frames for m in pipe("a person walks", seconds=2.0, seed=0, steps=4)] == [40]  # a given length wins
    assert [m.num_frames for m in pipe("a person walks", frames=30, seed=0, steps=4)] == [30]
    alone = pipe("a person walks", seed=3, steps=4)[0]
    same = pipe("a person walks", frames=51, seed=3, steps=4)[0]
    np.testing.assert_array_equal(alone.features, same.features)  # the predicted length, nothing else changed

    # Saved and loaded with the model; a pipeline without one removes a stale one from the folder.
    pipe.save_pretrained(tmp_path / "m")
    assert (tmp_path / "m" / WEIGHTS_NAME).is_file()
    loaded = RAMPipeline.from_pretrained(tmp_path / "m", device="cpu", text_encoder=text_encoder)
    assert loaded.length_predictor is not None and loaded.predict_frames("a person walks") == [51]
    plain = tiny_pipeline(text_encoder)
    assert plain.predict_frames(["a person walks", "a person jumps"]) == [120, 120]  # 6 s without one
    assert [m.num_frames for m in plain("a person walks", seed=0, steps=4)] == [120]
    plain.save_pretrained(tmp_path / "m")
    assert not (tmp_path / "m" / WEIGHTS_NAME).exists() and not (tmp_path / "m" / CONFIG_NAME).exists()
    assert RAMPipeline.from_pretrained(tmp_path / "m", device="cpu", text_encoder=text_encoder).length_predictor is None


def test_predictions_are_clamped_to_the_model(text_encoder) -> None:
    short = RAMPipeline(RAM(RAMConfig(**{**TINY, "max_frames": 60})), Normalizer(np.zeros(263, np.float32), np.ones(263, np.float32)), text_encoder,
                        device="cpu", length_predictor=fixed_predictor(40))  # fmt: skip  # 161..164 frames
    assert short.predict_frames(["a person walks"]) == [60]


@pytest.mark.parametrize(
    "prompts, error, message",
    [([], ValueError, "no prompts given"), ([""], ValueError, "is empty"), (["  "], ValueError, "is empty"), ([3], ValueError, "must be a string")],
)
def test_bad_prompts(text_encoder, prompts: list, error: type, message: str) -> None:
    pipe = tiny_pipeline(text_encoder, fixed_predictor())
    with pytest.raises(error, match=message):
        pipe.predict_frames(prompts)
    with pytest.raises(ValueError):
        pipe(prompts, seed=0, steps=4)


def test_predictor_input_checks(text_encoder) -> None:
    p = fixed_predictor()
    with pytest.raises(ValueError, match="no prompts given"):
        p.predict(text_encoder, [])
    with pytest.raises(TypeError, match="not one string"):
        p.predict(text_encoder, "a person walks")
    wrong = fixed_predictor(text_dim=768, text_model="distilbert-base-uncased")
    with pytest.raises(ValueError, match="gives 384-d features; this length predictor reads 768-d"):
        wrong.predict(text_encoder, ["a person walks"])
    with pytest.raises(ValueError, match="must share the text model"):
        tiny_pipeline(text_encoder, wrong)


# --------------------------------------------------------------------------- the CLI and the API


def test_cli_train_evaluate_predict_and_generate(trained: tuple[Path, Path, dict], text_encoder, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root, _, _ = trained
    model = tmp_path / "model"
    tiny_pipeline(text_encoder).save_pretrained(model)
    cache = str(root.parent / "cache")
    argv = ["length", "train", "--data", str(root), "--out", str(model), "--epochs", "20", "--text-cache", cache, "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "chosen on val: epoch" in out and "| length predictor |" in out and "baseline: the training mean" in out
    assert main(argv) == 2 and "pass --force" in capsys.readouterr().err
    assert main(["length", "evaluate", "--data", str(root), "--model", str(model), "--text-cache", cache]) == 0
    assert "test split (48 captions)" in capsys.readouterr().out
    assert main(["length", "predict", "a person jumps once", "a woman dances for a long time", "--model", str(model)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    jump, dance = (int(line.split("\t")[0]) for line in lines)
    assert jump < 90 < dance

    # generate: no --seconds -> the predicted length; --seconds wins; a prompt file mixes both.
    expected = RAMPipeline.from_pretrained(model, device="cpu", text_encoder=text_encoder).predict_frames(["a person jumps once", "someone dances for a long time"])
    npy = tmp_path / "jump.npy"
    assert main(["generate", "a person jumps once", "--model", str(model), "-o", str(npy), "--steps", "4", "--quiet"]) == 0
    assert np.load(npy).shape == (expected[0], 22, 3)
    assert main(["generate", "a person jumps once", "--model", str(model), "-o", str(npy), "--steps", "4", "--seconds", "1", "--quiet"]) == 0
    assert np.load(npy).shape == (20, 22, 3)
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a person jumps once#1.5\nsomeone dances for a long time\n")
    assert main(["generate", "--prompts", str(prompts), "--out-dir", str(tmp_path / "o"), "--format", "npy", "--model", str(model), "--steps", "4", "--quiet"]) == 0
    files = sorted((tmp_path / "o").glob("*.npy"))
    assert [np.load(f).shape[0] for f in files] == [30, expected[1]]
    assert main(["length", "predict", "x", "--model", str(tmp_path)]) == 2 and "holds no length predictor" in capsys.readouterr().err
    assert main(["length", "train", "--data", str(tmp_path / "nope"), "--out", str(model)]) == 2


def test_api_uses_it_when_no_seconds_are_given(text_encoder) -> None:
    from fastapi.testclient import TestClient

    from ramotion.server import ServerLimits, create_app

    limits = ServerLimits(max_seconds=6.0, max_samples=2, steps=4)
    with TestClient(create_app(tiny_pipeline(text_encoder, fixed_predictor(12)), limits, warmup=False)) as client:
        assert client.get("/api/info").json()["model"]["length_predictor"] is True
        body = client.post("/api/generate", json={"prompt": "a person walks", "seed": 0, "num_samples": 2}).json()
        assert [s["num_frames"] for s in body["samples"]] == [51, 51] and body["seconds"] == pytest.approx(51 / 20)
        body = client.post("/api/generate", json={"prompt": "a person walks", "seed": 0, "seconds": None}).json()
        assert body["samples"][0]["num_frames"] == 51
        body = client.post("/api/generate", json={"prompt": "a person walks", "seed": 0, "seconds": 1.0}).json()
        assert body["samples"][0]["num_frames"] == 20 and body["seconds"] == 1.0
    # Beyond this server's limit (6 s): held to it. Without a predictor: 4 s, as before.
    with TestClient(create_app(tiny_pipeline(text_encoder, fixed_predictor(45)), limits, warmup=False)) as client:  # 181..184 frames
        assert client.post("/api/generate", json={"prompt": "a person walks", "seed": 0}).json()["samples"][0]["num_frames"] == 120
    with TestClient(create_app(tiny_pipeline(text_encoder), limits, warmup=False)) as client:
        assert client.get("/api/info").json()["model"]["length_predictor"] is False
        assert client.post("/api/generate", json={"prompt": "a person walks", "seed": 0}).json()["samples"][0]["num_frames"] == 80


# --------------------------------------------------------------------------- the bundled model


def test_bundled_model_has_one(text_encoder) -> None:
    from ramotion.pipeline import default_model_dir

    folder = default_model_dir()
    if folder is None:
        pytest.skip("this installation has no bundled model")
    predictor = load_length_predictor(folder)
    assert predictor is not None, "the bundled model ships a length predictor (ramotion length train --out src/ramotion/assets/default_model)"
    assert (folder / WEIGHTS_NAME).stat().st_size < 1_000_000
    report = predictor.training_report
    table = report["test_table"]
    assert table["predictor"]["mae_frames"] < table["train mean"]["mae_frames"] and table["predictor"]["mae_frames"] < table["train median"]["mae_frames"]
    pipe = RAMPipeline.from_pretrained(folder, device="cpu", text_encoder=text_encoder)
    prompts = ["a person walks forward", "a person bows", "an elderly person walks forward slowly", "a person waves with the right hand happily"]
    frames = pipe.predict_frames(prompts)
    assert all(1 <= f <= pipe.config.max_frames for f in frames) and all(isinstance(f, int) for f in frames)
    assert all(40 <= f <= 196 for f in frames)  # the corpus's lengths
    card = (folder / "MODEL_CARD.md").read_text()
    assert "## Length predictor" in card and f"| length predictor | {table['predictor']['mae_frames']:.1f} |" in card
