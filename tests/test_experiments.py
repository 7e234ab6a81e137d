"""`ramotion experiment`: table specs, the tiny-scale runs of table5 / table4 / table3, resuming, the report."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from ramotion.cli import main as cli_main
from ramotion.evaluation.protocol import GT_ROW
from ramotion.experiments import SCALES, TABLES, get_table
from ramotion.experiments.report import BEGIN, END, observations, pending_section, results_page_skeleton, small_command, update_results_page
from ramotion.experiments.provenance import run_finished
from ramotion.experiments.runs import ensure_run, run_name, train_config
from ramotion.train.config import VARIANTS

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A tiny procedural corpus (100 motions + mirrors: 38 test, 14 val ids) and a private text cache."""
    from ramotion.synth import write_corpus

    mp = pytest.MonkeyPatch()
    mp.setenv("RAMOTION_CACHE", str(tmp_path_factory.mktemp("cache")))
    root = tmp_path_factory.mktemp("synth") / "corpus"
    write_corpus(root, 100, seed=0, progress=False)
    yield root
    mp.undo()


def _table_rows(md: str) -> list[list[str]]:
    """The cells of the first Markdown table in `md` (header first, the rule line dropped)."""
    lines = [ln for ln in md.splitlines() if ln.startswith("|")]
    rows = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines]
    return [r for r in rows if not all(set(c) <= {"-"} for c in r)]


def _number(cell: str) -> float:
    return float(cell.split("±")[0].split(" [")[0])


# ----------------------------------------------------------------------------- specs


def test_specs_follow_the_paper():
    assert set(TABLES) == {"table3", "table4", "table5", "table6", "table7", "table8", "table9"}
    t5 = get_table("table5")
    assert [(r.sampler["w_reg"], r.sampler["w_cfg"]) for r in t5.rows] == [(0, 0), (3, 0), (4, 0), (5, 0), (0, 1.5), (0, 2.5), (0, 3.5), (0, 4.5), (5, 1.5)]
    assert not t5.retrains and t5.uses_shared_model
    t3 = get_table("table3")
    assert [r.sampler["reg_steps"] for r in t3.rows[1:]] == ["none", [46, 44], [46, 44, 41, 39], [46, 44, 41, 39, 36, 34], "all"]
    assert t3.rows[0].sampler == {"steps": 50, "w_reg": 0.0, "w_cfg": 1.5, "reg_steps": "none"} and t3.aits
    t4 = get_table("table4")
    assert [r.train["variant"] for r in t4.rows] == ["baseline", "two_stream", "sr_only", "ours", "ours"]
    assert [r.sampler["w_reg"] for r in t4.rows] == [0.0, 0.0, 0.0, 0.0, 5.0]
    assert [r.train["variant"] for r in get_table("table6").rows] == ["A", "B", "C", "D", "E", "ours"]
    assert all(r.sampler["w_reg"] == 0 for r in get_table("table6").rows)  # CFG only
    for spec in TABLES.values():
        assert spec.paper_best in [r.name for r in spec.rows], spec.name
        assert all(r.train is None or r.train["variant"] in VARIANTS for r in spec.rows)
    with pytest.raises(ValueError, match="unknown experiment 'table10'"):
        get_table("table10")


@pytest.mark.parametrize("scale", list(SCALES))
@pytest.mark.parametrize("skeleton", ["humanml3d", "kit"])
def test_every_training_row_resolves(scale, skeleton):
    """Every retrained row gives a valid TrainConfig at every scale; one run folder per distinct config
    (identical configs share one, e.g. Table 9's d_E=256 and "ours" at paper scale)."""
    names: dict[str, str] = {}
    for spec in TABLES.values():
        for row in spec.rows:
            if row.train is None:
                continue
            cfg = train_config(row.train, SCALES[scale], skeleton, seed=0)
            assert cfg.model.feature_dim == (251 if skeleton == "kit" else 263)
            key = json.dumps(json.loads(json.dumps({**cfg.to_dict(), "variant": None}), parse_int=float), sort_keys=True)  # 1 == 1.0
            assert names.setdefault(run_name(cfg), key) == key
    assert len(names) == len(set(names.values()))
    # Rows that are the paper's RAM under another name share its run (also across tables).
    ours = run_name(train_config({"variant": "ours"}, SCALES[scale], skeleton, 0))
    same = [get_table("table4").rows[3], get_table("table6").rows[5], get_table("table7").rows[2], get_table("table8").rows[1]]
    assert {run_name(train_config(r.train, SCALES[scale], skeleton, 0)) for r in same} == {ours}
    # Variants defined alike share a run: Table 4's "+ E_M (two-stream)" is Table 6's "A: none".
    two_stream, a = (run_name(train_config(r.train, SCALES[scale], skeleton, 0)) for r in (get_table("table4").rows[1], get_table("table6").rows[0]))
    assert two_stream == a and a.startswith("A+two_stream-")
    paper = train_config({"variant": "ours"}, SCALES["paper"], skeleton, seed=0)
    assert paper.steps == (400_000 if skeleton == "kit" else 450_000) and paper.batch_size == 64
    table9 = [train_config(r.train, SCALES[scale], skeleton, 0).model.latent_dim for r in get_table("table9").rows]
    assert table9 == [128, 192, 256, 384, 512]
    lam = [train_config(r.train, SCALES[scale], skeleton, 0).loss.align_lambda for r in get_table("table7").rows]
    assert lam == [1, 0.1, 0.01, 0, 0.01, 0.01]


# ----------------------------------------------------------------------------- report pieces


def _row(fid, ci, r1=0.5, sem=None):
    out = {"params": {}, "metrics": {"fid": {"mean": fid, "ci95": ci}, "r_top1": {"mean": r1, "ci95": 0.01}}}
    if sem is not None:
        out["semantic"] = {"overall": {"checked": 100, "passed": sem, "accuracy": sem / 100}}
    return out


def test_observations_say_agree_overlap_or_disagree():
    spec = get_table("table5")
    best = spec.paper_best
    rows = {GT_ROW: _row(0.0, 0.0, 0.9), "w_r=0, w_c=0": _row(1.0, 0.05), best: _row(0.5, 0.05)}
    fid = observations(spec, rows)[0]
    assert fid.startswith("FID:") and "agrees with the paper" in fid and "clearly ahead" in fid
    rows["w_r=0, w_c=0"] = _row(0.52, 0.05)
    assert "not a significant win" in observations(spec, rows)[0]
    rows["w_r=0, w_c=0"] = _row(0.2, 0.05, sem=90)
    rows[best] = _row(0.5, 0.05, sem=40)
    said = observations(spec, rows)
    assert "disagrees with the paper" in said[0] and "'w_r=0, w_c=0'" in said[0]
    assert said[2].startswith("semantic accuracy") and "disagrees" in said[2]  # 0.9 vs 0.4 of 100: Wilson intervals apart


def test_table3_and_table6_rows_say_what_they_are():
    """Issue 18: the 50-step row of Table 3 is the RAM denoiser, not MDM; Table 6's B-E follow
    the paper (B, C one smooth-L1 alignment; D, E TMR's filtered InfoNCE). Both tables carry a note."""
    t3 = get_table("table3")
    assert "not MDM" in t3.rows[0].name and "RAM" in t3.rows[0].name and not any(r.name.startswith("MDM") for r in t3.rows)
    assert t3.note and "not MDM" in t3.note
    t6 = get_table("table6")
    labels = " ".join(r.name + " " + str(r.params) for r in t6.rows)
    assert "MSE" not in labels and "smooth-L1(z_s, z_m), w 1'" in labels and "smooth-L1(z_s, z_m), w 1e-5" in labels
    losses = {r.train["variant"]: train_config(r.train, SCALES["small"], "humanml3d", 0).loss for r in t6.rows}
    assert (losses["B"].w_latent_smoothl1, losses["C"].w_latent_smoothl1, losses["E"].w_latent_smoothl1) == (1.0, 1e-5, 1e-5)
    assert losses["D"].nce_filter_threshold == losses["E"].nce_filter_threshold == 0.8
    assert t6.note and "issue 18" in t6.note


def test_run_names_follow_the_later_loss_settings_only_when_set():
    """Settings added later (negatives, nce_filter_threshold) at the value that means what older
    runs did stay out of the run name, so those runs keep their folders; other values change it."""
    ours = train_config({"variant": "ours"}, SCALES["small"], "humanml3d", 0)
    per_device = train_config({"variant": "ours", "loss": {"negatives": "per_device"}}, SCALES["small"], "humanml3d", 0)
    assert run_name(per_device) != run_name(ours)
    d = train_config({"variant": "D"}, SCALES["small"], "humanml3d", 0)
    unfiltered = train_config({"variant": "D", "loss": {"nce_filter_threshold": None}}, SCALES["small"], "humanml3d", 0)
    assert run_name(d) != run_name(unfiltered) and run_name(unfiltered).split("-")[0] == run_name(d).split("-")[0] == "D"


def test_notes_are_shown_in_results_sections():
    spec = get_table("table6")
    assert f"- **Note:** {spec.note}" in pending_section(spec, "cmd")
    assert "- **Note:**" not in pending_section(get_table("table5"), "cmd")  # no note, no line


def test_results_page_sections(tmp_path):
    page = tmp_path / "results.md"
    page.write_text(results_page_skeleton())
    update_results_page(page, "table5", "## Table 5\n\nnew numbers\n")
    text = page.read_text()
    block = text.split(BEGIN.format(name="table5"))[1].split(END.format(name="table5"))[0]
    assert "new numbers" in block and "Not yet run" not in block
    assert text.count("Not yet run") == len(TABLES) - 1  # the other tables stay pending
    update_results_page(page, "table5", "## Table 5\n\nnewer\n")
    assert "newer" in page.read_text() and "new numbers" not in page.read_text()
    update_results_page(tmp_path / "fresh.md", "table3", "## T3\n")  # a page without the block: appended
    assert BEGIN.format(name="table3") in (tmp_path / "fresh.md").read_text()


def test_docs_results_page_has_every_table():
    text = (REPO / "docs" / "results.md").read_text(encoding="utf-8")
    for name in TABLES:
        assert BEGIN.format(name=name) in text and END.format(name=name) in text, name
        block = text.split(BEGIN.format(name=name))[1].split(END.format(name=name))[0]
        assert "ramotion experiment " + name in block
    assert small_command("table3").endswith("--model build/synth_model/model")


# ----------------------------------------------------------------------------- end to end


def test_cli_refuses_bad_input(corpus, tmp_path, capsys):
    assert cli_main(["experiment", "table4", "--data", str(tmp_path / "nope"), "--scale", "tiny", "--out", str(tmp_path / "o")]) == 2
    assert "dataset root not found" in capsys.readouterr().err
    model = tmp_path / "m"
    model.mkdir()
    assert cli_main(["experiment", "table5", "--data", str(corpus), "--scale", "tiny", "--out", str(tmp_path / "o"), "--model", str(model)]) == 2
    assert "holds no config.json" in capsys.readouterr().err
    assert cli_main(["experiment", "table4", "--data", str(corpus), "--scale", "tiny", "--out", str(tmp_path / "o"), "--replications", "0"]) == 2
    assert "replications must be at least 1" in capsys.readouterr().err
    assert cli_main(["experiment", "table4", "--data", str(corpus), "--scale", "tiny", "--out", str(tmp_path / "o"), "--train-steps", "0"]) == 2
    assert "train steps must be at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_main(["experiment", "table10", "--data", str(corpus), "--out", str(tmp_path / "o")])


def _check_report(out: Path, name: str, expect_rows: list[str], expect_cols: list[str]) -> dict:
    md = (out / f"{name}.md").read_text(encoding="utf-8")
    rows = _table_rows(md)
    header, body = rows[0], rows[1:]
    assert header[: len(expect_cols)] == expect_cols
    assert [r[0] for r in body] == [GT_ROW, *expect_rows]
    metric_idx = [header.index(h) for h in ("R@1 ↑", "R@3 ↑", "FID ↓", "MM-Dist ↓", "Diversity →")]
    for r in body:
        assert len(r) == len(header)
        assert all(math.isfinite(_number(r[i])) for i in metric_idx), r
        assert re.fullmatch(r"-?\d+\.\d{3}±\d+\.\d{3}", r[header.index("FID ↓")])
    assert "```bash\nramotion experiment " + name in md and "Hardware:" in md and "Wall time:" in md and "Seeds:" in md
    assert "Paper's claim" in md and "**Ours:**" in md
    data = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
    assert list(data["rows"]) == [GT_ROW, *expect_rows]
    assert (out / f"{name}.png").stat().st_size > 1000
    return data


def test_table5_then_table4_end_to_end_and_resume(corpus, tmp_path, monkeypatch, capsys):
    out = tmp_path / "exp"
    page = tmp_path / "docs" / "results.md"
    page.parent.mkdir()
    page.write_text(results_page_skeleton())
    base = ["--data", str(corpus), "--scale", "tiny", "--out", str(out), "--quiet"]

    # Table 5: one model (trained, since no --model), nine guidance settings.
    assert cli_main(["experiment", "table5", *base, "--results-page", str(page)]) == 0
    t5 = _check_report(out, "table5", [r.name for r in get_table("table5").rows], ["Method", "w_r", "w_c", "R@1 ↑", "R@2 ↑", "R@3 ↑", "FID ↓"])
    assert t5["settings"]["protocol"]["replications"] == SCALES["tiny"].protocol["replications"]
    assert "Semantic acc. ↑" in (out / "table5.md").read_text()  # the corpus has programs
    assert len(t5["settings"]["runs"]) == 1 and t5["settings"]["trained_now"] == t5["settings"]["runs"]
    sections = page.read_text()
    block = sections.split(BEGIN.format(name="table5"))[1].split(END.format(name="table5"))[0]
    assert "Not yet run" not in block and "| w_r=5, w_c=1.5 |" in block and (page.parent / "results" / "table5.png").is_file()
    assert "Not yet run" in sections.split(BEGIN.format(name="table4"))[1].split(END.format(name="table4"))[0]

    # Table 4: retrains baseline / two_stream / sr_only, reuses table5's "ours" run and the evaluator.
    capsys.readouterr()
    assert cli_main(["experiment", "table4", *base]) == 0
    printed = capsys.readouterr().out
    assert "trained 3 model(s), reused 1" in printed
    t4 = _check_report(out, "table4", [r.name for r in get_table("table4").rows], ["Method", "E_M", "L_sr", "L_align", "REG", "R@1 ↑"])
    assert t4["settings"]["reused"] == t5["settings"]["runs"] and not t4["settings"]["evaluator_trained_now"]
    assert t4["rows"]["+ L_align"]["model"] == t4["rows"]["+ REG (RAM)"]["model"] == t5["settings"]["runs"][0]
    tiny_steps = train_config({"variant": "ours"}, SCALES["tiny"], "humanml3d", 0).steps
    assert set(t4["settings"]["training_steps"].values()) == {tiny_steps}
    assert f"- **Training:** {tiny_steps} steps per retrained row" in (out / "table4.md").read_text()

    # A rerun retrains nothing, retrains no evaluator and regenerates nothing: every result is reused.
    def refuse(*args, **kwargs):
        raise AssertionError("a finished stage ran again")

    import importlib

    monkeypatch.setattr("ramotion.train.trainer.train", refuse)
    monkeypatch.setattr(importlib.import_module("ramotion.evaluation.train_evaluator"), "train_evaluator", refuse)
    monkeypatch.setattr("ramotion.evaluation.protocol.Protocol.generate", refuse)
    monkeypatch.setattr("ramotion.evaluation.semantic.semantic_accuracy", refuse)
    # The same functions where the experiment modules import them.
    monkeypatch.setattr("ramotion.experiments.runs.train", refuse)
    monkeypatch.setattr("ramotion.experiments.runs.train_evaluator", refuse)
    monkeypatch.setattr("ramotion.experiments.runner.semantic_accuracy", refuse)
    assert cli_main(["experiment", "table4", *base]) == 0
    again = json.loads((out / "table4.json").read_text())
    assert again["settings"]["trained_now"] == [] and len(again["settings"]["reused"]) == 4
    for name, row in t4["rows"].items():
        assert again["rows"][name]["metrics"]["fid"] == row["metrics"]["fid"]
        assert again["rows"][name]["semantic"] == row["semantic"]


def test_table3_times_every_row(corpus, tmp_path):
    """Table 3 with --model: no training; AITS per row (the 50-step sampler is the slowest)."""
    from ramotion.experiments import ExperimentOptions, run_experiment

    out = tmp_path / "exp3"
    cfg = train_config({"variant": "ours"}, SCALES["tiny"], "humanml3d", seed=1)
    run_dir, trained = ensure_run(cfg, corpus, tmp_path / "runs", progress=False)
    assert trained and run_finished(run_dir, cfg.steps)
    res = run_experiment(ExperimentOptions("table3", corpus, out, scale="tiny", model=run_dir, replications=1, semantic="off", progress=False))
    assert res.trained == [] and res.reused == []
    data = _check_report(out, "table3", [r.name for r in get_table("table3").rows], ["Method", "REG steps", "AITS (s) ↓", "R@1 ↑"])
    aits = {n: r["aits"]["mean"] for n, r in data["rows"].items() if n != GT_ROW}
    assert all(v > 0 for v in aits.values()) and "aits" not in data["rows"][GT_ROW]
    assert "Semantic acc. ↑" not in (out / "table3.md").read_text()
    assert data["settings"]["command"].endswith(f"--model {run_dir} --replications 1 --semantic off")


def test_plan_prints_train_commands_the_runner_recognises(corpus, tmp_path, capsys):
    """`--plan` lists each run once with a `ramotion train` command; a run trained by that command counts as finished."""
    import shlex

    from ramotion.train.trainer import read_run_config

    args = ["experiment", "table4", "--data", str(corpus), "--scale", "tiny", "--out", str(tmp_path / "o"), "--plan"]
    assert cli_main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    heads, commands = lines[0::2], lines[1::2]
    assert len(commands) == 4 and all("(to train)" in h for h in heads)  # "+ L_align" and "+ REG" share one run
    assert "for: + L_align, + REG (RAM)" in heads[3]
    argv = shlex.split(commands[0])
    assert argv[:6] == ["ramotion", "train", "--config", "tiny", "--variant", "baseline"]
    assert cli_main(argv[1:] + ["--no-progress"]) == 0
    run_dir = Path(argv[argv.index("--out") + 1])
    assert run_name(read_run_config(run_dir)[0]) == run_dir.name  # the same config the runner would train
    capsys.readouterr()
    assert cli_main(args) == 0
    assert "(finished)" in capsys.readouterr().out.splitlines()[0]
    # --train-steps makes runs of another length beside the scale's, each under its own name.
    assert cli_main(args + ["--train-steps", "5"]) == 0
    longer = capsys.readouterr().out.splitlines()
    assert "(to train)" in longer[0] and "steps=5" in longer[1]
    assert shlex.split(longer[1])[shlex.split(longer[1]).index("--out") + 1] != str(run_dir)


def test_interrupted_training_resumes(corpus, tmp_path):
    """A run stopped after its first checkpoint continues from it instead of starting again."""
    from ramotion.train.state import checkpoint_dirs, read_state
    from ramotion.train.trainer import train

    cfg = train_config({"variant": "two_stream"}, SCALES["tiny"], "humanml3d", seed=2)
    cfg.ckpt_every = 1
    run_dir = tmp_path / "runs" / run_name(cfg)
    train(cfg, corpus, run_dir, stop_after=1, progress=False)
    assert not run_finished(run_dir, cfg.steps)
    first = (run_dir / "metrics.jsonl").read_text().splitlines()[0]
    again, trained = ensure_run(cfg, corpus, tmp_path / "runs", progress=False)
    assert trained and again == run_dir and run_finished(run_dir, cfg.steps)
    assert read_state(checkpoint_dirs(run_dir)[-1])["step"] == cfg.steps
    assert (run_dir / "metrics.jsonl").read_text().splitlines()[0] == first  # continued, not restarted
