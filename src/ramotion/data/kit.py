"""KIT-ML captions in the `annotations.json` form (TMR's release) and its split files.

annotations.json maps a 5-digit id (mirrors have an "M" prefix) to
`{"path", "duration", "annotations": [{"seg_id", "text", "start", "end"}, ...]}` with
start/end in seconds. `to_caption_lines` turns one entry into the caption lines of
spec §2 (a span that covers the whole motion becomes 0#0, as in the released texts).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .layout import CaptionLine, read_split, write_captions
from .tagging import Tagger, get_tagger


@dataclass
class KitSegment:
    """One caption and the span it describes (seconds)."""

    seg_id: str
    text: str
    start: float
    end: float


@dataclass
class KitEntry:
    """One KIT-ML motion's annotation."""

    id: str
    path: str
    duration: float
    segments: list[KitSegment] = field(default_factory=list)


def load_annotations(path: str | os.PathLike) -> dict[str, KitEntry]:
    """Parse annotations.json; raise ValueError naming the entry that is malformed."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"annotations file not found: {p}")
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{p}: not valid JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{p}: expected an object mapping ids to annotations")
    out = {}
    for key, entry in raw.items():
        try:
            segs = [
                KitSegment(str(a.get("seg_id", f"{key}_{n}")), str(a["text"]).strip(), float(a["start"]), float(a["end"]))
                for n, a in enumerate(entry["annotations"])
            ]
            out[key] = KitEntry(str(key), str(entry.get("path", "")), float(entry["duration"]), segs)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{p}: entry {key!r} is malformed ({type(exc).__name__}: {exc})") from None
    return out


def load_splits(folder: str | os.PathLike) -> dict[str, list[str]]:
    """The split files (train/val/test/all.txt present in `folder`) as name -> ids."""
    d = Path(folder)
    if not d.is_dir():
        raise FileNotFoundError(f"splits folder not found: {d}")
    out = {p.stem: read_split(p) for p in sorted(d.glob("*.txt"))}
    if not out:
        raise FileNotFoundError(f"no split files (*.txt) in {d}")
    return out


def to_caption_lines(entry: KitEntry, tagger: Tagger | None = None, tolerance: float = 1e-3) -> list[CaptionLine]:
    """Caption lines for one entry; whole-motion spans become 0#0, others keep their seconds."""
    tag = tagger or get_tagger()[1]
    lines = []
    for s in entry.segments:
        whole = s.start <= tolerance and s.end >= entry.duration - tolerance
        text = " ".join(s.text.replace("#", " ").split())
        lines.append(CaptionLine(text, tag(text), 0.0 if whole else s.start, 0.0 if whole else s.end))
    return lines


def write_texts(annotations: dict[str, KitEntry], texts_dir: str | os.PathLike, tagger: Tagger | None = None) -> int:
    """Write texts/<id>.txt for every entry with captions; returns the number of files written."""
    out = Path(texts_dir)
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for key, entry in annotations.items():
        if entry.segments:
            write_captions(out / f"{key}.txt", to_caption_lines(entry, tagger))
            n += 1
    return n
