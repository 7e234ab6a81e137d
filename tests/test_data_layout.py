"""The on-disk layout: caption lines, split files, HumanML3D metadata, KIT-ML annotations, tagging."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ramotion.data.kit import KitEntry, KitSegment, load_annotations, load_splits, to_caption_lines, write_texts
from ramotion.data.layout import (
    CaptionFormatError,
    CaptionLine,
    npy_shape,
    parse_caption_line,
    read_captions,
    read_index_csv,
    read_split,
    write_captions,
    write_split,
)
from ramotion.data.tagging import get_tagger, rule_tag


def test_caption_line_round_trip(tmp_path: Path) -> None:
    lines = [
        CaptionLine("a man kicks.", ["a/DET", "man/NOUN", "kick/VERB"]),
        CaptionLine("then he walks", ["then/ADV", "he/PRON", "walk/VERB"], 1.5, 4.25),
    ]
    write_captions(tmp_path / "x.txt", lines)
    assert (tmp_path / "x.txt").read_text().splitlines()[1] == "then he walks#then/ADV he/PRON walk/VERB#1.5#4.25"
    back = read_captions(tmp_path / "x.txt")
    assert back == lines
    assert back[0].whole and not back[1].whole


def test_caption_line_nan_span_is_whole_motion() -> None:
    line = parse_caption_line("a man walks#a/DET man/NOUN walk/VERB#nan#nan")
    assert line.whole and line.tokens == ["a/DET", "man/NOUN", "walk/VERB"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("a man walks#a/DET#0.0", "f.txt:3: expected 4 '#'-separated fields (caption#tokens#start#end), got 3"),
        ("a man#walks#a/DET#0.0#0.0", "f.txt:3: expected 4 '#'-separated fields (caption#tokens#start#end), got 5"),
        ("a man walks#a/DET man/NOUN#zero#0.0", "f.txt:3: start/end must be numbers (seconds), got 'zero' and '0.0'"),
        ("a man walks#a/DET man#0.0#0.0", "f.txt:3: token 'man' is not of the form word/POS"),
        ("a man walks#a/DET#3.0#1.0", "f.txt:3: bad span 3.0..1.0 seconds (need 0 <= start < end, or 0#0)"),
        ("  #a/DET#0.0#0.0", "f.txt:3: empty caption"),
    ],
)
def test_malformed_caption_lines(text: str, message: str) -> None:
    with pytest.raises(CaptionFormatError) as err:
        parse_caption_line(text, "f.txt:3")
    assert str(err.value) == message


def test_writing_a_caption_with_hash_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="contains '#'"):
        write_captions(tmp_path / "x.txt", [CaptionLine("a # b", [])])
    assert not (tmp_path / "x.txt").exists()


def test_split_files_round_trip(tmp_path: Path) -> None:
    write_split(tmp_path / "train.txt", ["000001", "M000001"])
    assert read_split(tmp_path / "train.txt") == ["000001", "M000001"]
    with pytest.raises(FileNotFoundError, match="split file not found"):
        read_split(tmp_path / "val.txt")


def test_npy_shape_reads_header_only(tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", np.zeros((7, 263), np.float32))
    shape, dtype = npy_shape(tmp_path / "a.npy")
    assert shape == (7, 263) and dtype == np.float32


# ----------------------------------------------------------------------------- real data


def test_real_humanml3d_splits_and_index(shared_data: Path) -> None:
    h3d = shared_data / "humanml3d"
    splits = {s: read_split(h3d / f"{s}.txt") for s in ("train", "val", "test", "all", "train_val")}
    assert {k: len(v) for k, v in splits.items()} == {"train": 23384, "val": 1460, "test": 4384, "all": 29228, "train_val": 24844}
    assert set(splits["train"]) | set(splits["val"]) == set(splits["train_val"])
    assert set(splits["train"]) | set(splits["val"]) | set(splits["test"]) == set(splits["all"])
    assert not set(splits["train"]) & set(splits["test"])
    # Every mirrored id sits in the same split as its original.
    for name in ("train", "val", "test"):
        ids = set(splits[name])
        assert all(i[1:] in ids for i in ids if i.startswith("M"))
    index = read_index_csv(h3d / "index.csv")
    assert len(index) == 14616
    assert index[0]["new_name"] == "000000.npy" and index[0]["source_path"].endswith("kick_high_left02_poses.npy")
    # all.txt = the index's motions and their mirrors, less two motions the release dropped.
    indexed = {r["new_name"][:-4] for r in index}
    assert (indexed | {"M" + i for i in indexed}) - set(splits["all"]) == {"009707", "M009707", "011059", "M011059"}
    assert set(splits["all"]) <= indexed | {"M" + i for i in indexed}


def test_real_caption_file_parses(h3d_samples: Path) -> None:
    lines = read_captions(h3d_samples / "texts" / "000000.txt")
    assert len(lines) == 4
    assert lines[0].caption == "a man kicks something or someone with his left leg."
    assert lines[3].tokens[:3] == ["he/PRON", "is/AUX", "fly/VERB"]
    assert all(line.whole for line in lines)


def test_real_kitml_annotations(shared_data: Path, tmp_path: Path) -> None:
    ann = load_annotations(shared_data / "kitml" / "annotations.json")
    assert len(ann) == 5766
    originals = [e for k, e in ann.items() if not k.startswith("M")]
    assert len(originals) == 2883
    # 6,082 human-written captions on the original motions (4,659 distinct strings).
    assert sum(len(e.segments) for e in originals) == 6082
    assert len({s.text for e in originals for s in e.segments}) == 4659
    splits = load_splits(shared_data / "kitml" / "splits")
    assert {k: len(v) for k, v in splits.items()} == {"all": 5766, "test": 786, "train": 4688, "val": 292}
    assert set(splits["all"]) == set(ann)
    first = ann["00001"]
    assert first.duration == 3.78 and first.segments[0].text == "A person is walking forwards."
    lines = to_caption_lines(first, rule_tag)
    assert lines[0].whole  # the span covers the whole motion -> 0#0
    assert lines[0].tokens == ["a/DET", "person/NOUN", "is/AUX", "walk/VERB", "forwards/ADV"]
    # Written as texts/<id>.txt, they read back as the layout's caption files.
    subset = {k: ann[k] for k in ("00001", "00002", "M00001")}
    assert write_texts(subset, tmp_path / "texts", rule_tag) == 3
    back = read_captions(tmp_path / "texts" / "M00001.txt")
    assert [c.caption for c in back] == [s.text for s in ann["M00001"].segments]


def test_kit_partial_spans_are_honoured(tmp_path: Path) -> None:
    entry = KitEntry("00009", "x", 10.0, [KitSegment("a", "a person walks", 0.0, 10.0), KitSegment("b", "then jumps", 4.0, 7.5)])
    lines = to_caption_lines(entry, rule_tag)
    assert (lines[0].start, lines[0].end) == (0.0, 0.0)
    assert (lines[1].start, lines[1].end) == (4.0, 7.5)
    bad = tmp_path / "ann.json"
    bad.write_text(json.dumps({"00001": {"duration": 1.0, "annotations": [{"text": "x"}]}}))
    with pytest.raises(ValueError, match=r"entry '00001' is malformed \(KeyError: 'start'\)"):
        load_annotations(bad)


# ----------------------------------------------------------------------------- tagging


def test_rule_tagger_reproduces_real_tokens(h3d_samples: Path) -> None:
    """The fallback tagger gives HumanML3D's own tokens for the real captions of 000000."""
    for line in read_captions(h3d_samples / "texts" / "000000.txt"):
        assert rule_tag(line.caption) == line.tokens


def test_rule_tagger_rules() -> None:
    # Non-alphabetic words dropped, nouns and verbs lemmatised, "around" ADP before a noun phrase.
    assert rule_tag("A person jumps 3 times, then walks around the table.") == [
        "a/DET", "person/NOUN", "jump/VERB", "time/NOUN", "then/ADV", "walk/VERB", "around/ADP", "the/DET", "table/NOUN",
    ]
    assert [t.split("/")[0] for t in rule_tag("a zig-zag path")] == ["a", "zigzag", "path"]  # hyphens removed
    assert rule_tag("someone turns around") == ["someone/PRON", "turn/VERB", "around/ADV"]
    assert get_tagger("rules")[0] == "rules"
    with pytest.raises(ValueError, match="unknown tagger"):
        get_tagger("nltk")


def test_spacy_tagger_applies_humanml3d_rules() -> None:
    """The spaCy path (run here on stand-in tokens): lemmas for NOUN/VERB except "left", non-words dropped."""
    from types import SimpleNamespace as Tok

    from ramotion.data.tagging import _spacy_tagger

    def nlp(text: str) -> list[Tok]:
        assert "-" not in text  # hyphens are removed before tagging
        return [
            Tok(text="He", pos_="PRON", lemma_="he"), Tok(text="kicks", pos_="VERB", lemma_="kick"),
            Tok(text="left", pos_="VERB", lemma_="leave"), Tok(text="3", pos_="NUM", lemma_="3"),
            Tok(text="legs", pos_="NOUN", lemma_="leg"), Tok(text=".", pos_="PUNCT", lemma_="."),
        ]

    assert _spacy_tagger(nlp)("He kicks left-ish 3 legs.") == ["he/PRON", "kick/VERB", "left/VERB", "leg/NOUN"]
    try:
        import spacy  # noqa: F401

        has_spacy = True
    except ImportError:
        has_spacy = False
    if not has_spacy:
        with pytest.raises(ValueError, match="spaCy with the en_core_web_sm model is not available"):
            get_tagger("spacy")
        assert get_tagger("auto")[0] == "rules"
