"""The evaluation protocol, evaluator training and the `evaluator` / `evaluate` verbs on a toy dataset."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from ramotion.cli import main
from ramotion.evaluation.data import EvalDataset
from ramotion.evaluation.evaluator import EvaluatorConfig, T2MEvaluator
from ramotion.evaluation.protocol import GT_ROW, Protocol, ProtocolConfig
from ramotion.evaluation.report import markdown_table
from ramotion.evaluation.train_evaluator import TrainEvaluatorConfig, contrastive_loss, train_evaluator

from ._eval_toy import ACTIONS, make_toy_root


TINY = dict(movement_hidden=64, movement_latent=64, motion_hidden=64, text_hidden=64, embed_dim=64)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small GRUs run fastest on one thread (and do not fight other processes for cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return make_toy_root(tmp_path_factory.mktemp("toy") / "root", per_action=40)


@pytest.fixture(scope="module")
def trained(one_thread, toy, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("ev") / "evaluator"
    report = train_evaluator(toy, out, TrainEvaluatorConfig(preset="small", sizes=TINY, epochs=12, warmup_epochs=8, lr=3e-3), progress=False)
    return out, report


def _action_generator(dataset: EvalDataset):
    """Returns, for a caption, a real train motion of the action it names (a 'perfect' model)."""
    by_action = {a: [e.motion for e in dataset.entries if a in e.captions[0][0]] for a in ACTIONS}

    def generate(captions, lengths, seeds):
        out = []
        for cap, n, s in zip(captions, lengths, seeds):
            action = next(a for a in ACTIONS if a in cap)
            pool = by_action[action]
            m = pool[s % len(pool)]
            reps = -(-n // len(m))
            out.append(np.tile(m, (reps, 1))[:n])
        return out

    return generate


def _noise_generator(captions, lengths, seeds):
    rng = np.random.default_rng(int(seeds[0]))
    return torch.tensor(rng.normal(size=(len(lengths), max(lengths), 263)), dtype=torch.float32)


def test_contrastive_loss_is_the_hinge_of_the_original():
    text = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    motion = torch.tensor([[0.0, 1.0], [3.0, 4.0]])
    # matched: d = 1, 0 -> mean d² = 0.5; rolled by 1: d(t0, m1) = 5, d(t1, m0) = sqrt(9 + 9)
    expected = 0.5 + ((10 - 5.0) ** 2 + (10 - np.sqrt(18)) ** 2) / 2
    assert float(contrastive_loss(text, motion, margin=10.0, shift=1)) == pytest.approx(expected, rel=1e-6)


def test_trained_evaluator_separates_matched_from_mismatched_pairs(trained):
    out, report = trained
    assert (out / "evaluator.json").is_file() and (out / "train_report.json").is_file()
    # 8 actions in batches of 32: even a perfect evaluator confuses same-action pairs, so
    # top-3 above chance (3/32) is the bar; matched pairs must be much closer than mismatched.
    assert report["r_top1"] > 1 / 32 and report["r_top3"] > 1.5 * 3 / 32
    assert report["mm_dist"] < 0.7 * report["mm_dist_mismatched"]
    assert report["fid_two_passes"] < 0.25 * report["mm_dist"] ** 2
    ev = T2MEvaluator.from_pretrained(out)
    assert ev.config.word_dim == 384 and "kick" in ev.word_vectors.index


def test_protocol_ranks_a_good_generator_above_noise_and_resumes(trained, toy, tmp_path):
    ev = T2MEvaluator.from_pretrained(trained[0])
    data = EvalDataset(toy, "test")
    config = ProtocolConfig(replications=2, diversity_times=50, generation_batch=40)
    protocol = Protocol(ev, data, config, out_dir=tmp_path / "run", progress=False)
    rows = {GT_ROW: None, "retrieval": _action_generator(EvalDataset(toy, "train")), "noise": _noise_generator}
    res = protocol.run(rows)
    gt, good, noise = res[GT_ROW], res["retrieval"], res["noise"]
    assert len(gt["fid"]["values"]) == 2 and gt["r_top1"]["ci95"] >= 0
    assert gt["fid"]["mean"] < noise["fid"]["mean"] and good["fid"]["mean"] < noise["fid"]["mean"]
    assert good["r_top3"]["mean"] > noise["r_top3"]["mean"]
    assert good["mm_dist"]["mean"] < noise["mm_dist"]["mean"]
    assert len(list((tmp_path / "run" / "replications").rglob("*.json"))) == 6

    def fail(*_):
        raise AssertionError("a finished replication was generated again")

    again = Protocol(ev, data, config, out_dir=tmp_path / "run", progress=False).run({GT_ROW: None, "retrieval": fail, "noise": fail})
    assert again["noise"]["fid"]["values"] == noise["fid"]["values"]
    # Other settings (model, sampler, ...) never reuse the saved replications.
    other = Protocol(ev, data, config, out_dir=tmp_path / "run", progress=False, identity={"sampler": {"w_reg": 0.0}})
    with pytest.raises(AssertionError, match="generated again"):
        other.run({"noise": fail})
    table = markdown_table(res)
    assert "| retrieval |" in table and "±" in table


def test_generation_sees_ground_truth_lengths_and_per_sample_seeds(trained, toy):
    ev = T2MEvaluator.from_pretrained(trained[0])
    data = EvalDataset(toy, "test")
    seen = []

    def spy(captions, lengths, seeds):
        seen.append((list(lengths), list(seeds)))
        return [np.zeros((n, 263), np.float32) for n in lengths]

    protocol = Protocol(ev, data, ProtocolConfig(replications=1, diversity_times=50, generation_batch=48), progress=False)
    protocol.replication(0, {"spy": spy})
    lengths = [n for ln, _ in seen for n in ln]
    seeds = [s for _, ss in seen for s in ss]
    assert len(lengths) == data.num_batches() * 32 and all(n % 4 == 0 and 36 <= n <= 196 for n in lengths)
    assert all(len(ln) <= 48 for ln, _ in seen) and lengths == sorted(lengths, reverse=True)
    assert len(set(seeds)) == len(seeds)


def test_feature_size_mismatch_is_refused_before_generation(toy):
    ev = T2MEvaluator(EvaluatorConfig.small(dim_pose=251), np.zeros(251), np.ones(251))
    with pytest.raises(ValueError, match="263 dims but the evaluator expects 251"):
        Protocol(ev, EvalDataset(toy, "test"), ProtocolConfig(), progress=False)


def test_evaluator_and_evaluate_verbs(toy, trained, tmp_path, capsys):
    # evaluator train refuses to overwrite, and a bad root is one line.
    assert main(["evaluator", "train", "--data", str(toy), "--out", str(trained[0]), "--preset", "small", "--epochs", "1"]) == 2
    assert "already holds an evaluator" in capsys.readouterr().err
    assert main(["evaluator", "train", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "e")]) == 2
    assert "dataset root not found" in capsys.readouterr().err
    # evaluate: a bad evaluator path, then the ground-truth row with the trained evaluator.
    assert main(["evaluate", "gt", "--data", str(toy), "--evaluator", str(tmp_path / "missing"), "--quick"]) == 2
    assert "evaluator not found" in capsys.readouterr().err
    out = tmp_path / "gt_eval"
    code = main(["evaluate", "gt", "--data", str(toy), "--evaluator", str(trained[0]), "--quick", "--max-samples", "160",
                 "--replications", "2", "--out", str(out), "--quiet"])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0 and "| ground truth |" in printed
    results = json.loads((out / "results.json").read_text())
    assert results["settings"]["protocol"]["replications"] == 2
    assert results["settings"]["test_pairs_per_replication"] == 128
    assert results["rows"]["ground truth"]["r_top1"]["mean"] > 1 / 32
    assert (out / "results.md").read_text().count("| ground truth |") == 1


def _tiny_model(folder: Path, feature_dim: int = 263) -> Path:
    from ramotion.model.checkpoint import save_model
    from ramotion.model.config import RAMConfig
    from ramotion.model.ram import RAM

    torch.manual_seed(0)
    config = RAMConfig(feature_dim=feature_dim, latent_dim=16, enc_layers=1, enc_heads=2, enc_ff=32, dim=32, layers=1, heads=2, ff=64)
    save_model(folder, RAM(config), np.zeros(feature_dim, np.float32), np.ones(feature_dim, np.float32))
    return folder


def test_evaluate_a_model_end_to_end_and_refuse_mismatches_first(toy, trained, tmp_path, capsys):
    model = _tiny_model(tmp_path / "model")
    out = tmp_path / "eval"
    args = ["evaluate", str(model), "--data", str(toy), "--evaluator", str(trained[0]), "--quick", "--replications", "1",
            "--max-samples", "128", "--steps", "4", "--reg-steps", "none", "--w-reg", "0", "--dtype", "float32",
            "--out", str(out), "--quiet"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "| model |" in printed and "| ground truth |" in printed
    results = json.loads((out / "results.json").read_text())
    row = results["rows"]["model"]
    assert np.isfinite(row["fid"]["mean"]) and row["fid"]["mean"] > results["rows"]["ground truth"]["fid"]["mean"]
    assert results["settings"]["sampler"]["steps"] == 4 and results["settings"]["seconds_per_replication"] > 0
    # A model of another feature size is refused before anything is generated.
    other = _tiny_model(tmp_path / "kit", feature_dim=251)
    assert main(["evaluate", str(other), "--data", str(toy), "--evaluator", str(trained[0]), "--quick", "--out", str(tmp_path / "o2")]) == 2
    assert "the model makes 251-dim features" in capsys.readouterr().err
    assert not (tmp_path / "o2" / "replications").exists()


def test_multimodality_row_measures_spread_across_seeds(trained, toy):
    ev = T2MEvaluator.from_pretrained(trained[0])
    data = EvalDataset(toy, "test")
    config = ProtocolConfig(replications=1, diversity_times=50, mm=True, mm_captions=6, mm_generations=8, mm_times=4)
    calls = []

    def deterministic(captions, lengths, seeds):  # ignores the seed: no multimodality
        calls.append(len(captions))
        return [np.tile(np.random.default_rng(zlib.crc32(c.encode())).normal(size=(1, 263)), (n, 1)).astype(np.float32)
                for c, n in zip(captions, lengths)]  # fmt: skip

    res = Protocol(ev, data, config, progress=False).run({GT_ROW: None, "det": deterministic, "noise": _noise_generator})
    assert "multimodality" not in res[GT_ROW]
    assert res["det"]["multimodality"]["mean"] < 1e-4
    assert res["noise"]["multimodality"]["mean"] > 0.1
    assert sum(calls) == data.num_batches() * 32 + 6 * 8  # the evaluation pass, then 6 captions x 8 generations
