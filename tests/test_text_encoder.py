"""The frozen text encoder (offline MiniLM; any local transformers encoder) and its feature cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from ramotion.text import TextEncoder, TextFeatureCache, default_model_path, pad_features

CAPTIONS = ["a man kicks something or someone with his left leg.", "a person walks forward"]


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder()  # the packaged all-MiniLM-L6-v2


def test_minilm_shapes_mask_and_determinism(encoder: TextEncoder) -> None:
    assert encoder.hidden_size == 384 and encoder.max_length == 512
    assert not encoder.training and not any(p.requires_grad for p in encoder.parameters())
    encoder.train()
    assert not encoder.training  # stays frozen
    hidden, mask = encoder.encode(CAPTIONS)
    n_tokens = [len(encoder.tokenizer(c)["input_ids"]) for c in CAPTIONS]
    assert hidden.shape == (2, max(n_tokens), 384) and hidden.dtype == torch.float32
    assert mask.dtype == torch.bool and mask.sum(1).tolist() == n_tokens
    assert float(hidden[1, n_tokens[1]:].abs().max()) == 0.0  # padding zeroed
    assert float(hidden[1, : n_tokens[1]].abs().min(dim=-1).values.max()) > 0
    again, _ = encoder.encode(CAPTIONS)
    assert torch.equal(hidden, again)
    alone, _ = encoder.encode(CAPTIONS[1:])  # padding does not change a caption's features
    torch.testing.assert_close(alone[0], hidden[1, : n_tokens[1]], atol=1e-5, rtol=1e-5)
    # Different captions give different features.
    assert float((hidden[0, 1] - hidden[1, 1]).abs().max()) > 1e-2


def test_truncation_warns(encoder: TextEncoder) -> None:
    old = encoder.max_length
    identity = encoder.identity
    try:
        encoder.max_length = 6
        assert encoder.identity != identity  # the cache key covers truncation
        with pytest.warns(UserWarning, match="1 caption\\(s\\) longer than 6 tokens were truncated"):
            hidden, mask = encoder.encode(CAPTIONS[:1] + ["walk"])
        assert hidden.shape[1] == 6 and mask.sum(1).tolist() == [6, 3]
    finally:
        encoder.max_length = old
    with pytest.raises(TypeError, match="takes a list of captions"):
        encoder.encode("one string")


def test_cache_returns_identical_features_without_the_model(encoder: TextEncoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = encoder.model.forward
    monkeypatch.setattr(encoder.model, "forward", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    cache = TextFeatureCache(tmp_path, encoder)
    first, mask = cache.encode(CAPTIONS)
    assert len(calls) == 1 and len(cache) == 2
    direct, direct_mask = encoder.encode(CAPTIONS)
    assert torch.equal(first, direct) and torch.equal(mask, direct_mask)
    calls.clear()
    again, _ = cache.encode(list(reversed(CAPTIONS)) + CAPTIONS[:1])
    assert calls == []  # served from disk
    assert torch.equal(again[1, : mask[0].sum()], first[0, : mask[0].sum()])
    # A new cache on the same folder, without any encoder, reads the same arrays.
    reader = TextFeatureCache(tmp_path, identity=encoder.identity)
    assert "a person walks forward" in reader
    assert torch.equal(reader.encode(CAPTIONS)[0], first)
    with pytest.raises(ValueError, match="1 captions are not cached and this cache has no encoder"):
        reader.encode(["an unseen caption"])
    # Only missing captions are encoded; shards are separate files keyed by the encoder.
    cache.add(CAPTIONS + ["a third caption"])
    assert len(calls) == 1 and len(cache) == 3
    assert len(list((tmp_path / encoder.identity).glob("shard-*.safetensors"))) == 2


def test_pad_features() -> None:
    hidden, mask = pad_features([torch.ones(2, 4), torch.ones(5, 4)])
    assert hidden.shape == (2, 5, 4) and mask.sum(1).tolist() == [2, 5] and float(hidden[0, 2:].sum()) == 0


def test_any_local_encoder_by_path(tmp_path: Path) -> None:
    """A DistilBERT (the paper's encoder) saved locally loads by path; here a tiny random one."""
    from transformers import DistilBertConfig, DistilBertModel

    folder = tmp_path / "tiny-distilbert"
    cfg = DistilBertConfig(vocab_size=30522, dim=32, hidden_dim=64, n_layers=2, n_heads=2, max_position_embeddings=64)
    torch.manual_seed(0)
    DistilBertModel(cfg).save_pretrained(folder)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(default_model_path() / name, folder / name)
    enc = TextEncoder(folder)
    assert enc.hidden_size == 32 and enc.max_length == 64
    hidden, mask = enc.encode(CAPTIONS)
    assert hidden.shape == (2, int(mask.sum(1).max()), 32)
    assert enc.identity.startswith("tiny-distilbert-")
    with pytest.raises(FileNotFoundError, match="text model folder not found"):
        TextEncoder(tmp_path / "nothing-here")
    with pytest.raises(FileNotFoundError, match="cannot load text model 'no-such-org/no-such-model' offline"):
        TextEncoder("no-such-org/no-such-model")  # a hub name not in the local cache: no download
