"""The bundled default model's build: the script at tiny scale, the model card, the size check, the sweep rule."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import numpy as np
import pytest

from ramotion.experiments.default_model import FULL, MAX_WEIGHT_MB, TINY, TINY_MOCAP, check_weight_size, choose_guidance, weights_megabytes
from ramotion.experiments.model_card import MODEL_CARD_NAME, TEMPLATE, render_model_card

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "build_default_model.py"


def _package_assets_state() -> dict[str, int]:
    from ramotion.pipeline import DEFAULT_MODEL_DIR

    return {p.name: p.stat().st_mtime_ns for p in DEFAULT_MODEL_DIR.iterdir()} if DEFAULT_MODEL_DIR.is_dir() else {}


def test_full_build_settings_fit_the_limits():
    from ramotion.train.config import resolve_config

    cfg = resolve_config(dict(FULL.train))
    assert cfg.preset == "small" and cfg.variant == "ours" and cfg.steps == 16000
    assert FULL.corpus == "mocap" and TINY.corpus == "synth" and len(FULL.gif_prompts) == 6
    from ramotion.model import RAM

    params = sum(p.numel() for p in RAM(cfg.model).parameters())
    assert params * 4 / 1e6 < MAX_WEIGHT_MB  # fp32 weights under the package limit
    assert (5.0, 1.5) in FULL.grid and (0.0, 0.0) in FULL.grid and len(FULL.grid) == 9


def test_weight_size_check(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"\0" * 2_000_000)
    (tmp_path / "stats.safetensors").write_bytes(b"\0" * 100_000)
    (tmp_path / "MODEL_CARD.md").write_bytes(b"\0" * 5_000_000)  # not weights: not counted
    assert weights_megabytes(tmp_path) == pytest.approx(2.1)
    assert check_weight_size(tmp_path, limit_mb=25) == pytest.approx(2.1)
    with pytest.raises(ValueError, match=r"take 2\.1 MB, over the 2 MB limit"):
        check_weight_size(tmp_path, limit_mb=2)


def test_choose_guidance_on_validation_rows():
    def row(wr, wc, fid, acc=None):
        r = {"w_reg": wr, "w_cfg": wc, "metrics": {"fid": {"mean": fid, "ci95": 0.0}}}
        if acc is not None:
            r["semantic"] = {"overall": {"accuracy": acc, "checked": 100, "passed": int(acc * 100)}}
        return r

    # Semantic accuracy first (to 0.01), then FID.
    assert choose_guidance([row(0, 0, 1.0, 0.50), row(5, 1.5, 2.0, 0.70), row(5, 0, 0.5, 0.698)]) == {"w_reg": 5, "w_cfg": 0}
    assert choose_guidance([row(0, 0, 1.0, 0.50), row(5, 1.5, 2.0, 0.70)]) == {"w_reg": 5, "w_cfg": 1.5}
    assert choose_guidance([row(0, 0, 1.0), row(2.5, 1.5, 0.3)]) == {"w_reg": 2.5, "w_cfg": 1.5}  # no programs: FID
    with pytest.raises(ValueError, match="empty"):
        choose_guidance([])


def test_choose_guidance_with_realism():
    def row(wr, wc, fid, accel, skate):
        return {"w_reg": wr, "w_cfg": wc, "metrics": {"fid": {"mean": fid, "ci95": 0.0}}, "realism": {"ratios": {"acceleration": accel, "skating": skate}}}

    # The best FID is jittery (acceleration 2.4x real): the best FID among realistic settings wins.
    rows = [row(0, 0, 3.0, 1.2, 1.1), row(5, 0, 1.0, 2.4, 1.0), row(2.5, 0, 2.0, 1.4, 0.8)]
    assert choose_guidance(rows) == {"w_reg": 2.5, "w_cfg": 0}
    # Too smooth counts as unrealistic too (1 / 0.5 = 2 > 1.5).
    assert choose_guidance([row(0, 0, 3.0, 1.2, 1.1), row(5, 0, 1.0, 0.5, 1.0)]) == {"w_reg": 0, "w_cfg": 0}
    # None realistic: the one closest to real.
    assert choose_guidance([row(0, 0, 3.0, 3.0, 1.1), row(5, 0, 1.0, 2.0, 1.9)]) == {"w_reg": 5, "w_cfg": 0}


def _info() -> dict:
    stat = {"mean": 0.4321, "ci95": 0.0123, "values": [0.4321]}
    metrics = {k: stat for k in ("fid", "r_top1", "r_top2", "r_top3", "mm_dist", "diversity")}
    sem = {"overall": {"checked": 50, "passed": 37, "accuracy": 0.74}, "seen": {"checked": 30, "passed": 25, "accuracy": 25 / 30},
           "held_out": {"checked": 20, "passed": 12, "accuracy": 0.6}, "per_action": {"walk": {"checked": 50, "passed": 37, "accuracy": 0.74}}}  # fmt: skip
    return {
        "built": "2026-01-01 00:00 UTC", "version": "0.1.0",
        "corpus": {"kind": "synth", "motions": 2000, "seed": 0, "hours": 3.5, "splits": {"train": 3000, "val": 200, "test": 800}, "held_out_pairs": 12},
        "train": {"preset": "small", "variant": "ours", "overrides": {"steps": 6000}, "steps": 6000, "batch_size": 16},
        "model": {"enc_layers": 2, "latent_dim": 128, "layers": 4, "dim": 128, "text_model": "all-MiniLM-L6-v2"},
        "params": 1_260_000, "train_seconds": 3540.0, "hardware": "a CPU (2 cores)", "weights_mb": 5.06, "limit_mb": 25.0,
        "chosen": {"w_reg": 2.5, "w_cfg": 1.5}, "rule": "the rule",
        "sweep": [{"w_reg": 2.5, "w_cfg": 1.5, "metrics": metrics, "semantic": sem}, {"w_reg": 0.0, "w_cfg": 0.0, "metrics": metrics}],
        "val_protocol": "3 replications", "test_protocol": "20 replications",
        "test": {"ground truth": metrics, "default model": metrics}, "semantic": {"ground truth": sem, "default model": sem},
        "actions": ["walk", "wave"], "max_seconds": 9.8, "rebuild": "python scripts/build_default_model.py",
        "commands": ["ramotion synth --motions 2000 --seed 0 --out build/default_model/corpus"],
    }  # fmt: skip


def test_model_card_is_filled_from_the_measured_numbers():
    card = render_model_card(_info())
    assert "$" not in card  # every placeholder filled
    for text in ("2000 procedural motions (seed 0)", "6000 steps of batch 16, 59 min", "5.1 MB (limit 25 MB)", "**w_r = 2.5, w_c = 1.5**",
                 "| 2.5 | 1.5 | 0.432±0.012 | 0.432±0.012 | 0.740 [", "**chosen**", "| default model | 0.432±0.012", "held-out compositions 0.600 [",
                 "2 actions (walk, wave)", "python scripts/build_default_model.py", "ramotion synth --motions 2000", "What it cannot do"):  # fmt: skip
        assert text in card, text
    info = _info()
    info["chosen"] = {"w_reg": 0.0, "w_cfg": 0.0}
    assert "REG off, **w_r = 0, w_c = 0**" in render_model_card(info)
    assert set(TEMPLATE.get_identifiers()) >= {"w_reg", "w_cfg", "licence", "rebuild", "train_minutes", "length_section"}
    assert "Licence of the weights: MIT" in card
    assert "## Length predictor" not in card  # a build without one
    row = lambda mae: {"mae_frames": mae, "mae_seconds": mae / 20, "within_1s": 0.5}  # noqa: E731
    info["length"] = {"parameters": 56369, "settings": {"unit": 4}, "epoch": 23, "point": "mean", "val": {"mean": 8.6, "median": 8.9, "mode": 10.3},
                      "train_mean": 85.7, "train_median": 72.0, "test_table": {"examples": 3508, "predictor": row(8.86), "train mean": row(34.48), "train median": row(35.72)}}  # fmt: skip
    card = render_model_card(info)
    for text in ("## Length predictor", "its **mean**", "| length predictor | 8.9 | 0.44 |", "| baseline: the training mean | 34.5 |", "test split (3508 captions)"):
        assert text in card, text


def test_mocap_model_card_names_the_data_licence_and_realism():
    info = _info()
    info["semantic"] = {}
    info["corpus"] = {"kind": "mocap", "seed": 0, "hours": 8.3, "splits": {"train": 5194, "val": 602, "test": 1170}, "held_out_pairs": 5,
                      "mocap": {"motions": 3483, "hours": 4.2, "per_source": {"bandai-namco": 3119, "hdm05": 288, "cmu": 76},
                                "attribution": {"bandai-namco": "Bandai-Namco ... CC BY-NC 4.0", "cmu": "CMU ..."},
                                "held_out": [["bn2", "raise-up-left-hand", "elderly"]]}}  # fmt: skip
    real = {"acceleration": 3.5, "skating": 0.08}
    info["mocap"] = {
        "realism": {"real": real, "real_motions": 1170, "prompts": 29,
                    "models": {"default model": {"metrics": {"acceleration": 4.2, "skating": 0.1}, "s_per_sentence": 0.2}}},
        "held_out": {"ground truth": info["test"]["ground truth"], "default model": info["test"]["default model"]},
        "style": {"walk": {"styles": {"elderly": {"real_clips": 30, "frames": 120, "prompts": [], "real": {"speed": 0.8}, "default model": {"speed": 0.7}},
                                      "active": {"real_clips": 30, "frames": 120, "prompts": [], "real": {"speed": 1.4}, "default model": {"speed": 1.2}}},
                          "spearman": {"default model": {"speed": 1.0}}}},
    }  # fmt: skip
    info["sweep"][0]["realism"] = {"ratios": {"acceleration": 1.2, "skating": 1.25}}
    card = render_model_card(info)
    assert "$" not in card
    for text in ("non-commercial use only (CC BY-NC 4.0)", "bandai-namco 3119", "raise-up-left-hand × elderly", "## Realism against real motion",
                 "| acceleration", "1.2", "## Style steering", "Spearman", "### Held-out (action, style) pairs", "| 1.2 | 1.25 |"):  # fmt: skip
        assert text in card, text


def test_build_script_tiny(tmp_path, monkeypatch, capsys):
    """The whole build at tiny scale into a temporary folder; the package's assets are untouched."""
    monkeypatch.setenv("RAMOTION_CACHE", str(tmp_path / "cache"))
    before = _package_assets_state()
    work = tmp_path / "work"
    monkeypatch.setattr("sys.argv", [str(SCRIPT), "--tiny", "--work", str(work), "--quiet"])
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(SCRIPT), run_name="__main__")
    assert done.value.code == 0
    assert _package_assets_state() == before
    dest = work / "default_model"
    assert "default model written to " + str(dest) in capsys.readouterr().out
    for name in ("config.json", "model.safetensors", "stats.safetensors", MODEL_CARD_NAME):
        assert (dest / name).is_file(), name
    assert weights_megabytes(dest) < MAX_WEIGHT_MB
    info = json.loads((work / "build_report.json").read_text())
    assert len(info["sweep"]) == len(TINY.grid) and all(r["protocol"] and r["pairs"] == 8 for r in info["sweep"])
    assert info["chosen"] == choose_guidance(info["sweep"])
    card = (dest / MODEL_CARD_NAME).read_text()
    fid = info["test"]["default model"]["fid"]
    assert f"| default model | {info['test']['default model']['r_top1']['mean']:.3f}±" in card and f"{fid['mean']:.3f}±{fid['ci95']:.3f}" in card
    assert "held-out compositions" in card and "python scripts/build_default_model.py --tiny" in card
    assert [c.split()[1] for c in info["commands"]] == ["synth", "train", "evaluator", "length"]
    assert {"length_predictor.safetensors", "length_predictor.json"} <= {p.name for p in dest.iterdir()}
    assert "## Length predictor" in card and info["length"]["test_table"]["predictor"]["mae_frames"] > 0
    extra = json.loads((dest / "config.json").read_text())["extra"]
    assert extra["sampler"]["w_reg"] == info["chosen"]["w_reg"] and extra["sampler"]["w_cfg"] == info["chosen"]["w_cfg"]
    assert info["semantic"]["default model"]["overall"]["checked"] > 0

    # The saved folder is a working pipeline.
    from ramotion.pipeline import RAMPipeline

    pipe = RAMPipeline.from_pretrained(dest, device="cpu")
    motion = pipe("a person walks forward", frames=40, seed=0, **extra["sampler"])[0]
    assert motion.features.shape == (40, 263) and np.isfinite(motion.features).all()
    assert pipe.length_predictor is not None and 1 <= pipe.predict_frames("a person walks forward")[0] <= 196

    # Rerunning finds every stage finished.
    capsys.readouterr()
    with pytest.raises(SystemExit):
        runpy.run_path(str(SCRIPT), run_name="__main__")
    out = capsys.readouterr().out
    assert "$ ramotion" not in out  # no command ran again
    info2 = json.loads((work / "build_report.json").read_text())
    assert info2["test"] == info["test"] and all(c.endswith("# found finished") for c in info2["commands"])


@pytest.mark.shared
def test_build_tiny_on_real_mocap(tmp_path, monkeypatch, mocap_root):
    """The build on 8 clips per mocap source: realism in the sweep, the mocap sections of the card."""
    from ramotion.experiments.default_model import build_default_model

    monkeypatch.setenv("RAMOTION_CACHE", str(tmp_path / "cache"))
    settings = __import__("dataclasses").replace(TINY_MOCAP, mocap_root=str(mocap_root))
    info = build_default_model(tmp_path / "work", tmp_path / "model", settings, progress=False)
    assert [c.split()[1] for c in info["commands"]] == ["data", "train", "evaluator", "length"]
    assert all(r["realism"]["ratios"]["acceleration"] > 0 for r in info["sweep"])
    assert info["chosen"] == choose_guidance(info["sweep"])
    assert set(info["corpus"]["mocap"]["per_source"]) == {"bandai-namco", "hdm05", "cmu"}
    card = (tmp_path / "model" / MODEL_CARD_NAME).read_text()
    assert "non-commercial" in card and "## Realism against real motion" in card


def test_validated_examples_keep_only_prompts_that_pass(tmp_path):
    """Example prompts for the web page: the corpus's own motions pass the checker, a body standing still does not."""
    from ramotion.cli import main
    from ramotion.data.layout import Layout, load_npy, read_captions, read_split
    from ramotion.experiments.default_model import validated_examples

    root = tmp_path / "corpus"
    assert main(["synth", "--motions", "60", "--seed", "3", "--out", str(root), "--workers", "1", "--quiet"]) == 0
    layout = Layout.of(root)
    by_caption = {}
    for i in read_split(layout.split("test")):
        feats = load_npy(layout.features(i))
        for c in read_captions(layout.text(i)):
            by_caption.setdefault((c.caption, len(feats)), feats)  # a program's num_frames is its feature frames

    def dataset_motion(captions, frames, seeds):
        return [by_caption[(c, f)] for c, f in zip(captions, frames)]

    def standing(captions, frames, seeds):
        still = next(iter(by_caption.values()))[:1]
        return [np.repeat(still, f, axis=0) for f in frames]

    found = validated_examples(root, dataset_motion, candidates=20, seeds=2, keep=4)
    assert 0 < len(found) <= 4
    assert len({tuple(e["actions"]) for e in found}) == len(found)  # one per action combination
    assert [len(e["prompt"]) for e in found] == sorted(len(e["prompt"]) for e in found)
    assert all(1 <= len(e["actions"]) <= 2 and e["seconds"] > 0 for e in found)
    assert validated_examples(root, standing, candidates=20, seeds=1) == []


def test_bundled_default_model(tmp_path, capsys):
    """The model shipped in the package: small, carries its validated sampler and examples, and
    `ramotion generate` uses it when no --model is given."""
    from ramotion.cli import main
    from ramotion.pipeline import DEFAULT_MODEL_DIR, default_model_dir

    assert default_model_dir() == DEFAULT_MODEL_DIR, "the package has no bundled model: python scripts/build_default_model.py"
    assert check_weight_size(DEFAULT_MODEL_DIR) < MAX_WEIGHT_MB
    extra = json.loads((DEFAULT_MODEL_DIR / "config.json").read_text())["extra"]
    assert set(extra["sampler"]) == {"steps", "w_reg", "w_cfg", "reg_steps"} and extra["example_prompts"]
    card = (DEFAULT_MODEL_DIR / MODEL_CARD_NAME).read_text()
    assert f"**w_r = {extra['sampler']['w_reg']:g}, w_c = {extra['sampler']['w_cfg']:g}**" in card
    assert all(f'"{p}"' in card for p in extra["example_prompts"])

    out = tmp_path / "walk.npy"
    assert main(["generate", "a person walks forward then waves with the left hand", "--seconds", "3", "-o", str(out), "--quiet"]) == 0
    joints = np.load(out)
    assert joints.shape == (60, 22, 3) and np.isfinite(joints).all()
    assert 0.5 < joints[:, 15, 1].mean() - joints[:, 0, 1].mean() < 1.0  # head above the pelvis: an upright body


@pytest.mark.shared
def test_build_tiny_on_mixed_corpus(tmp_path, monkeypatch, mocap_root):
    """Procedural + mocap merged: the semantic checks and the mocap measurements (which read the
    mocap part's own ids) both run."""
    from ramotion.experiments.default_model import build_default_model

    monkeypatch.setenv("RAMOTION_CACHE", str(tmp_path / "cache"))
    settings = __import__("dataclasses").replace(TINY_MOCAP, corpus="mixed", mocap_root=str(mocap_root))
    info = build_default_model(tmp_path / "work", tmp_path / "model", settings, progress=False)
    assert [c.split()[1] for c in info["commands"]] == ["synth", "data", "data", "train", "evaluator", "length"]
    assert info["semantic"]["default model"]["overall"]["checked"] > 0
    assert info["mocap"]["realism"]["prompts"] > 0 and info["mocap"]["realism"]["models"]["default model"]["metrics"]["acceleration"] > 0
    assert "non-commercial" in (tmp_path / "model" / MODEL_CARD_NAME).read_text()
