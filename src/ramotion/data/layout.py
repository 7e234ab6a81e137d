"""The HumanML3D / KIT-ML on-disk layout (spec §2): paths, split files and caption files.

```
ROOT/new_joint_vecs/<id>.npy   (T, D) float32 features
ROOT/new_joints/<id>.npy       (T, J, 3) float32 joints (optional for training)
ROOT/texts/<id>.txt            caption#word/POS word/POS ...#start#end
ROOT/{train,val,test,all,train_val}.txt   one id per line
ROOT/Mean.npy, ROOT/Std.npy    (D,)
```
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..io_utils import load_npy_checked, read_npy_header, write_text

FEATURES_DIR = "new_joint_vecs"
JOINTS_DIR = "new_joints"
TEXTS_DIR = "texts"
MEAN_FILE = "Mean.npy"
STD_FILE = "Std.npy"
SPLITS = ("train", "val", "test")
ALL_SPLITS = ("train", "val", "test", "all", "train_val")


@dataclass(frozen=True)
class Layout:
    """Paths of one dataset root."""

    root: Path

    @classmethod
    def of(cls, root: str | os.PathLike) -> Layout:
        return cls(Path(root))

    @property
    def features_dir(self) -> Path:
        return self.root / FEATURES_DIR

    @property
    def joints_dir(self) -> Path:
        return self.root / JOINTS_DIR

    @property
    def texts_dir(self) -> Path:
        return self.root / TEXTS_DIR

    @property
    def mean_path(self) -> Path:
        return self.root / MEAN_FILE

    @property
    def std_path(self) -> Path:
        return self.root / STD_FILE

    def features(self, motion_id: str) -> Path:
        return self.features_dir / f"{motion_id}.npy"

    def joints(self, motion_id: str) -> Path:
        return self.joints_dir / f"{motion_id}.npy"

    def text(self, motion_id: str) -> Path:
        return self.texts_dir / f"{motion_id}.txt"

    def split(self, name: str) -> Path:
        return self.root / f"{name}.txt"


# ----------------------------------------------------------------------------- splits


class SplitFormatError(ValueError):
    """A split file that cannot be read as text; the message names the file and line."""


def _read_utf8(path: Path, error: type[ValueError]) -> str:
    """The text of `path`; bytes that are not UTF-8 raise `error` naming the file and line."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8") from None


def read_split(path: str | os.PathLike) -> list[str]:
    """Ids listed in a split file (one per line; blank lines ignored).

    A file that is not UTF-8 raises SplitFormatError naming it and the line."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"split file not found: {p}")
    return [line.strip() for line in _read_utf8(p, SplitFormatError).splitlines() if line.strip()]


def write_split(path: str | os.PathLike, ids: list[str]) -> None:
    """Write a split file atomically, one id per line."""
    write_text(path, "".join(f"{i}\n" for i in ids))


# ----------------------------------------------------------------------------- captions


class CaptionFormatError(ValueError):
    """A malformed line in a caption file; the message names the file and line."""


@dataclass
class CaptionLine:
    """One line of a texts/<id>.txt file. start/end in seconds; 0, 0 = the whole motion."""

    caption: str
    tokens: list[str] = field(default_factory=list)  # "word/POS"
    start: float = 0.0
    end: float = 0.0

    @property
    def whole(self) -> bool:
        """True when the caption describes the whole motion (no span)."""
        return self.start == 0.0 and self.end == 0.0

    def format(self) -> str:
        """The line as written in a caption file (without the newline)."""
        for name, value in (("caption", self.caption), *(("token", t) for t in self.tokens)):
            if "#" in value or "\n" in value or "\r" in value:
                raise ValueError(f"{name} {value!r} contains '#' or a line break, which the caption format cannot hold")
        return f"{self.caption}#{' '.join(self.tokens)}#{float(self.start)}#{float(self.end)}"


def parse_caption_line(line: str, where: str = "<caption>") -> CaptionLine:
    """Parse `caption#tokens#start#end`; raise CaptionFormatError naming `where` (file:line).

    Like the community loader, NaN start/end count as 0; infinite or negative times, and
    spans that end before they start, are refused.
    """
    parts = line.rstrip("\r\n").split("#")
    if len(parts) != 4:
        raise CaptionFormatError(
            f"{where}: expected 4 '#'-separated fields (caption#tokens#start#end), got {len(parts)}"
        )
    caption, tokens, start_s, end_s = parts
    if not caption.strip():
        raise CaptionFormatError(f"{where}: empty caption")
    try:
        start, end = float(start_s), float(end_s)
    except ValueError:
        raise CaptionFormatError(f"{where}: start/end must be numbers (seconds), got {start_s!r} and {end_s!r}") from None
    start = 0.0 if math.isnan(start) else start
    end = 0.0 if math.isnan(end) else end
    if math.isinf(start) or math.isinf(end):
        raise CaptionFormatError(f"{where}: bad span {start_s}..{end_s} seconds (start and end must be finite; 0#0 is the whole motion)")
    if start < 0 or end < 0 or (not (start == 0.0 and end == 0.0) and end <= start):
        raise CaptionFormatError(f"{where}: bad span {start_s}..{end_s} seconds (need 0 <= start < end, or 0#0)")
    toks = tokens.split()
    for t in toks:
        if "/" not in t or t.startswith("/") or t.endswith("/"):
            raise CaptionFormatError(f"{where}: token {t!r} is not of the form word/POS")
    return CaptionLine(caption=caption.strip(), tokens=toks, start=start, end=end)


def read_captions(path: str | os.PathLike) -> list[CaptionLine]:
    """All caption lines of a texts/<id>.txt file (blank lines skipped); a malformed line or
    bytes that are not UTF-8 raise CaptionFormatError naming the file and line."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"caption file not found: {p}")
    out = []
    for n, line in enumerate(_read_utf8(p, CaptionFormatError).splitlines(), start=1):
        if line.strip():
            out.append(parse_caption_line(line, f"{p}:{n}"))
    return out


def write_captions(path: str | os.PathLike, lines: list[CaptionLine]) -> None:
    """Write a caption file atomically."""
    write_text(path, "".join(line.format() + "\n" for line in lines))


# ----------------------------------------------------------------------------- arrays


def npy_shape(path: str | os.PathLike) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of a .npy file from its header, without reading the data."""
    with open(path, "rb") as f:
        try:
            return read_npy_header(f)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None


def load_npy(path: str | os.PathLike) -> np.ndarray:
    """np.load without pickles (object arrays are refused), checking the header's declared
    shape against the file's size before allocating (`io_utils.load_npy_checked`)."""
    return load_npy_checked(path)


def read_index_csv(path: str | os.PathLike) -> list[dict[str, str]]:
    """HumanML3D's index.csv (source_path, start_frame, end_frame, new_name) as rows of dicts."""
    import csv

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"index file not found: {p}")
    with open(p, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        need = {"source_path", "start_frame", "end_frame", "new_name"}
        if not need.issubset(reader.fieldnames or ()):
            raise ValueError(f"{p}: expected columns {sorted(need)}, got {reader.fieldnames}")
        return list(reader)
