"""The T2M evaluator: architecture, safe loading of the official files, our own format."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from ramotion.evaluation.evaluator import EvaluatorConfig, T2MEvaluator, load_official, read_official_checkpoint
from ramotion.evaluation.word_vectors import POS_INDEX, WordVectors, pad_tokens, safe_unpickle

SMALL = EvaluatorConfig(dim_pose=263, word_dim=300, movement_hidden=32, movement_latent=24, motion_hidden=40, text_hidden=36, embed_dim=20)


def _evaluator(config: EvaluatorConfig = SMALL, words: WordVectors | None = None, seed: int = 0) -> T2MEvaluator:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    mean, std = rng.normal(size=config.dim_pose), rng.uniform(0.5, 2.0, config.dim_pose)
    if words is None:
        vocab = ["sos", "eos", "unk", "a", "man", "kick", "left", "leg"]
        words = WordVectors(vocab, rng.normal(size=(len(vocab), config.word_dim)))
    return T2MEvaluator(config, mean, std, words).eval()


class _Evil:
    def __reduce__(self):
        return (Path("/tmp/ramotion-evil-marker").touch, ())


# --- pickles and GloVe ----------------------------------------------------------------


def test_safe_unpickle_reads_the_official_vocabulary(shared_data):
    folder = shared_data / "humanml3d" / "evaluator"
    words = safe_unpickle(folder / "our_vab_words.pkl")
    idx = safe_unpickle(folder / "our_vab_idx.pkl")
    assert isinstance(words, list) and len(words) == 4199 and words[:3] == ["sos", "eos", "unk"]
    assert isinstance(idx, dict) and all(idx[w] == i for i, w in enumerate(words))


def test_safe_unpickle_refuses_code(tmp_path):
    marker = Path("/tmp/ramotion-evil-marker")
    marker.unlink(missing_ok=True)
    bad = tmp_path / "evil.pkl"
    bad.write_bytes(pickle.dumps({"a": _Evil()}))
    with pytest.raises(ValueError, match="not a plain-data pickle.*refusing"):
        safe_unpickle(bad)
    assert not marker.exists()


def test_glove_files_load_from_a_user_folder(shared_data, tmp_path):
    src = shared_data / "humanml3d" / "evaluator"
    for name in ("our_vab_words.pkl", "our_vab_idx.pkl"):
        shutil.copy(src / name, tmp_path / name)
    vectors = np.random.default_rng(0).normal(size=(4199, 300)).astype(np.float32)
    np.save(tmp_path / "our_vab_data.npy", vectors)
    wv = WordVectors.from_glove(tmp_path)
    assert len(wv) == 4199 and wv.dim == 300
    tokens = "a/DET man/NOUN kick/VERB something/PRON with/ADP his/DET left/ADJ leg/NOUN".split()
    vecs, pos, length = wv.encode(tokens)
    assert vecs.shape == (22, 300) and pos.shape == (22, 15) and length == 10
    words = safe_unpickle(tmp_path / "our_vab_words.pkl")
    np.testing.assert_array_equal(vecs[1], vectors[words.index("a")])  # after sos
    np.testing.assert_array_equal(vecs[0], vectors[words.index("sos")])
    assert pos[3].argmax() == POS_INDEX["Act_VIP"]  # kick overrides VERB
    assert pos[7].argmax() == POS_INDEX["Loc_VIP"]  # left overrides ADJ
    assert pos[8].argmax() == POS_INDEX["Body_VIP"]
    assert pos[2].argmax() == POS_INDEX["NOUN"]
    np.testing.assert_array_equal(vecs[12], vectors[words.index("unk")])  # padding
    (tmp_path / "our_vab_data.npy").unlink()
    with pytest.raises(FileNotFoundError, match="our_vab_data.npy"):
        WordVectors.from_glove(tmp_path)


def test_unknown_words_get_unk_and_other_and_long_captions_are_cut():
    wv = WordVectors(["sos", "eos", "unk", "walk"], np.eye(4, 5))
    vecs, pos, length = wv.encode(["zebra/NOUN", "walk/VERB"])
    np.testing.assert_array_equal(vecs[1], np.eye(4, 5)[2])
    assert pos[1].argmax() == POS_INDEX["OTHER"] and pos[2].argmax() == POS_INDEX["Act_VIP"]
    padded, n = pad_tokens([f"w{i}/NOUN" for i in range(30)])
    assert n == 22 and len(padded) == 22 and padded[0] == "sos/OTHER" and padded[-1] == "eos/OTHER"


# --- the architecture -----------------------------------------------------------------


def test_official_evaluator_sizes_and_parameter_names():
    model = T2MEvaluator(EvaluatorConfig(), np.zeros(263), np.ones(263))
    sd = model.state_dict()
    assert sd["movement_encoder.main.0.weight"].shape == (512, 259, 4)
    assert sd["movement_encoder.main.3.weight"].shape == (512, 512, 4)
    assert sd["motion_encoder.gru.weight_hh_l0_reverse"].shape == (3 * 1024, 1024)
    assert sd["motion_encoder.hidden"].shape == (2, 1, 1024)
    assert sd["text_encoder.pos_emb.weight"].shape == (300, 15)
    assert sd["text_encoder.output_net.3.weight"].shape == (512, 512)


def test_motion_embedding_ignores_padding_and_uses_whole_units():
    model = _evaluator()
    rng = np.random.default_rng(1)
    short = torch.tensor(rng.normal(size=(1, 40, 263)), dtype=torch.float32)
    long = torch.tensor(rng.normal(size=(1, 196, 263)), dtype=torch.float32)
    batch = torch.zeros(2, 196, 263)
    batch[0, :40] = short[0]
    batch[0, 40:] = 99.0  # garbage after the end must not matter
    batch[1] = long[0]
    with torch.no_grad():
        alone = model.embed_motion(short, torch.tensor([40]))
        together = model.embed_motion(batch, torch.tensor([40, 196]))
        contacts_changed = short.clone()
        contacts_changed[..., -4:] += 5.0
        no_contacts = model.embed_motion(contacts_changed, torch.tensor([40]))
    torch.testing.assert_close(together[0:1], alone, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(no_contacts, alone)  # the 4 contacts are not read
    with pytest.raises(ValueError, match="expects 263"):
        model.embed_motion(torch.zeros(1, 40, 251), torch.tensor([40]))


def _official_motion_embedding(model: T2MEvaluator, raw: torch.Tensor, lengths: list[int]) -> torch.Tensor:
    """Guo et al.'s computation written out on its own (not through embed_motion): each motion
    cropped to whole units, normalised and zero-padded to 196 frames; both convolution blocks
    over the whole padded tensor; the GRU over the first length // 4 latents, longest first and
    packed as the official wrapper sorts them. raw (B, >= max length, D) -> (B, embed), input order."""
    B, D = len(lengths), model.config.dim_pose
    x = torch.zeros(B, 196, D)  # (B, 196, D)
    for i, n in enumerate(lengths):
        n = n // 4 * 4
        x[i, :n] = (raw[i, :n] - model.eval_mean) / model.eval_std
    conv1, conv2, lin = model.movement_encoder.main[0], model.movement_encoder.main[3], model.movement_encoder.out_net
    h = torch.nn.functional.leaky_relu(torch.nn.functional.conv1d(x[..., :-4].transpose(1, 2), conv1.weight, conv1.bias, stride=2, padding=1), 0.2)  # (B, H, 98)
    h = torch.nn.functional.leaky_relu(torch.nn.functional.conv1d(h, conv2.weight, conv2.bias, stride=2, padding=1), 0.2)  # (B, latent, 49)
    movements = torch.nn.functional.linear(h.transpose(1, 2), lin.weight, lin.bias)  # (B, 49, latent)
    order = sorted(range(B), key=lambda i: -lengths[i])
    enc = model.motion_encoder
    packed = torch.nn.utils.rnn.pack_padded_sequence(enc.input_emb(movements[order]), [lengths[i] // 4 for i in order], batch_first=True)
    _, last = enc.gru(packed, enc.hidden.repeat(1, B, 1))  # (2, B, hidden), sorted order
    out = enc.output_net(torch.cat([last[0], last[1]], dim=-1))
    result = torch.empty_like(out)
    result[order] = out
    return result


def test_motion_embedding_matches_the_official_computation():
    """Full-length (196-frame) motions and shorter ones, in mixed and uniform batches: each
    embedding equals the official one (issue 18: an appended zero unit moved 196-frame ones)."""
    model = _evaluator()
    g = torch.Generator().manual_seed(3)
    raw = model.eval_mean + model.eval_std * torch.randn(6, 196, 263, generator=g)  # raw features
    lengths = [196, 150, 196, 43, 8, 194]
    for batch in ([0, 1, 2, 3, 4, 5], [0, 2], [0], [1, 3, 5], [4]):
        lens = [lengths[i] for i in batch]
        padded = raw[batch].clone()
        for k, n in enumerate(lens):
            padded[k, n:] = 99.0  # garbage after the end
        with torch.no_grad():
            ours = model.embed_motion(padded[:, : max(lens)], torch.tensor(lens))
            official = _official_motion_embedding(model, raw[batch], lens)
        torch.testing.assert_close(ours, official, rtol=1e-5, atol=1e-5, msg=lambda m, b=batch: f"batch {b}: {m}")
    # Longer than 196 frames (never in the protocol): a 196-frame motion's embedding does not
    # depend on the longer one beside it.
    longer = torch.cat([raw[:1], model.eval_mean.expand(1, 44, 263)], dim=1)  # (1, 240, D)
    with torch.no_grad():
        alone = model.embed_motion(raw[:1], torch.tensor([196]))
        beside = model.embed_motion(torch.cat([longer, longer]), torch.tensor([196, 240]))
    torch.testing.assert_close(beside[:1], alone, rtol=1e-5, atol=1e-5)


def test_text_embedding_ignores_padding():
    model = _evaluator()
    with torch.no_grad():
        a = model.embed_captions([["a/DET", "man/NOUN", "kick/VERB"]])
        b = model.embed_captions([["a/DET", "man/NOUN", "kick/VERB"], ["left/ADJ", "leg/NOUN"] * 8])
    torch.testing.assert_close(b[0:1], a, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(b[0], b[1])


# --- the official checkpoint ----------------------------------------------------------


def _write_official(root: Path, model: T2MEvaluator, glove: bool = True) -> Path:
    """An official-format release: text_mot_match/model/finest.tar + glove/ + meta stats."""
    ckpt_dir = root / "t2m" / "text_mot_match" / "model"
    ckpt_dir.mkdir(parents=True)
    state = {k: getattr(model, k).state_dict() for k in ("movement_encoder", "text_encoder", "motion_encoder")}
    opt = torch.optim.Adam(model.text_encoder.parameters())
    torch.save({**state, "opt_text_encoder": opt.state_dict(), "epoch": 7, "iter": 1234}, ckpt_dir / "finest.tar")
    np.save(root / "t2m" / "eval_mean.npy", model.eval_mean.double().numpy())
    np.save(root / "t2m" / "eval_std.npy", model.eval_std.double().numpy())
    if glove:
        (root / "t2m" / "glove").mkdir()
        wv = model.word_vectors
        np.save(root / "t2m" / "glove" / "our_vab_data.npy", wv.vectors)
        (root / "t2m" / "glove" / "our_vab_words.pkl").write_bytes(pickle.dumps(wv.words))
        (root / "t2m" / "glove" / "our_vab_idx.pkl").write_bytes(pickle.dumps(wv.index))
    return root / "t2m"


def test_official_checkpoint_loads_strictly_and_embeds_identically(tmp_path):
    model = _evaluator()
    folder = _write_official(tmp_path, model)
    loaded = T2MEvaluator.from_pretrained(folder)
    assert loaded.config == SMALL
    motion = torch.randn(3, 60, 263)
    lengths = torch.tensor([60, 44, 52])
    caps = [["a/DET", "man/NOUN", "kick/VERB"], ["left/ADJ", "leg/NOUN"], ["zebra/NOUN"]]
    with torch.no_grad():
        torch.testing.assert_close(loaded.embed_motion(motion, lengths), model.embed_motion(motion, lengths))
        torch.testing.assert_close(loaded.embed_captions(caps), model.embed_captions(caps))
    # The checkpoint file alone, with its glove folder and stats found beside it.
    again = load_official(folder / "text_mot_match" / "model" / "finest.tar", glove_dir=folder / "glove",
                          mean_path=folder / "eval_mean.npy", std_path=folder / "eval_std.npy")  # fmt: skip
    torch.testing.assert_close(again.eval_std, model.eval_std)


def test_official_checkpoint_with_missing_keys_is_refused(tmp_path):
    model = _evaluator()
    ckpt = tmp_path / "finest.tar"
    torch.save({"movement_encoder": model.movement_encoder.state_dict(), "text_encoder": model.text_encoder.state_dict()}, ckpt)
    with pytest.raises(ValueError, match=r"missing the evaluator keys \['motion_encoder'\]"):
        read_official_checkpoint(ckpt)
    sd = model.motion_encoder.state_dict()
    del sd["hidden"]
    torch.save({"movement_encoder": model.movement_encoder.state_dict(), "text_encoder": model.text_encoder.state_dict(), "motion_encoder": sd}, ckpt)
    np.save(tmp_path / "eval_mean.npy", np.zeros(263))
    np.save(tmp_path / "eval_std.npy", np.ones(263))
    folder = _write_official(tmp_path / "g", model)
    shutil.copytree(folder / "glove", tmp_path / "glove")
    with pytest.raises(ValueError, match=r"does not match the evaluator: missing \['hidden'\]"):
        load_official(tmp_path)


def test_official_checkpoint_that_needs_code_to_load_is_refused(tmp_path):
    marker = Path("/tmp/ramotion-evil-marker")
    marker.unlink(missing_ok=True)
    ckpt = tmp_path / "finest.tar"
    torch.save({"movement_encoder": {}, "text_encoder": {}, "motion_encoder": {}, "extra": _Evil()}, ckpt)
    with pytest.raises(ValueError, match="weights-only"):
        read_official_checkpoint(ckpt)
    assert not marker.exists()


def test_bad_evaluator_paths_say_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="evaluator not found"):
        T2MEvaluator.from_pretrained(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no evaluator in .*finest.tar"):
        T2MEvaluator.from_pretrained(tmp_path)
    folder = _write_official(tmp_path / "rel", _evaluator(), glove=False)
    with pytest.raises(FileNotFoundError, match="GloVe files"):
        T2MEvaluator.from_pretrained(folder)
    not_ckpt = tmp_path / "finest.tar"
    not_ckpt.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="finest.tar"):
        read_official_checkpoint(not_ckpt)


def test_own_format_round_trip(tmp_path):
    model = _evaluator(EvaluatorConfig.small(word_dim=300))
    model.save_pretrained(tmp_path / "ev")
    loaded = T2MEvaluator.from_pretrained(tmp_path / "ev")
    assert loaded.config == model.config and loaded.word_vectors.words == model.word_vectors.words
    motion = torch.randn(2, 48, 263)
    with torch.no_grad():
        torch.testing.assert_close(loaded.embed_motion(motion, torch.tensor([48, 40])), model.embed_motion(motion, torch.tensor([48, 40])))
    # A weights file that does not fit its config is refused with the mismatching names.
    (tmp_path / "ev" / "evaluator.json").write_text((tmp_path / "ev" / "evaluator.json").read_text().replace("\"embed_dim\": 128", "\"embed_dim\": 64"))
    with pytest.raises(ValueError, match="does not match the evaluator"):
        T2MEvaluator.from_pretrained(tmp_path / "ev")


def test_stats_must_match_the_feature_size():
    with pytest.raises(ValueError, match=r"stats must be \(263,\)"):
        T2MEvaluator(EvaluatorConfig(), np.zeros(251), np.ones(251))


def test_official_size_release_with_the_real_stats_and_vocabulary(shared_data, tmp_path):
    src = shared_data / "humanml3d" / "evaluator"
    mean, std = np.load(src / "eval_mean.npy"), np.load(src / "eval_std.npy")
    words = safe_unpickle(src / "our_vab_words.pkl")
    glove = WordVectors(words, np.random.default_rng(0).normal(size=(len(words), 300)))
    torch.manual_seed(0)
    model = T2MEvaluator(EvaluatorConfig(), mean, std, glove).eval()
    folder = _write_official(tmp_path, model, glove=False)
    (folder / "glove").mkdir()
    for name in ("our_vab_words.pkl", "our_vab_idx.pkl"):
        shutil.copy(src / name, folder / "glove" / name)
    np.save(folder / "glove" / "our_vab_data.npy", glove.vectors)
    loaded = T2MEvaluator.from_pretrained(folder)
    assert loaded.config == EvaluatorConfig()  # 263 features, 512/1024 GRUs, 300-d GloVe
    np.testing.assert_allclose(loaded.eval_std.numpy(), std.astype(np.float32))
    tokens = [line.split("#")[1].split() for line in (shared_data / "humanml3d" / "samples" / "texts" / "000000.txt").read_text().splitlines()]
    motion = torch.from_numpy(np.load(shared_data / "humanml3d" / "samples" / "new_joint_vecs" / "000000.npy")[None].astype(np.float32))
    n = (motion.shape[1] // 4) * 4
    with torch.no_grad():
        text = loaded.embed_captions(tokens)
        mot = loaded.embed_motion(motion[:, :n], torch.tensor([n]))
        torch.testing.assert_close(text, model.embed_captions(tokens))
        torch.testing.assert_close(mot, model.embed_motion(motion[:, :n], torch.tensor([n])))
    assert text.shape == (4, 512) and mot.shape == (1, 512)
