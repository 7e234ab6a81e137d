"""Generated samples kept for download, under random ids the server chose.

Downloads never touch a path a client named: a client only ever sends back an id this
store made (checked against the id pattern and looked up in a dict) and a format from a
fixed list. Files are written on first download into a private temporary folder (BVH and
NPY are quick; an MP4 render takes seconds, so renders run one at a time) and are
deleted with the store. The store keeps the newest `max_samples` samples.
"""

from __future__ import annotations

import collections
import re
import secrets
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DOWNLOAD_FORMATS = ("bvh", "npy", "mp4")
MEDIA_TYPES = {"bvh": "text/plain; charset=us-ascii", "npy": "application/octet-stream", "mp4": "video/mp4"}
SAMPLE_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass
class StoredSample:
    """One generated motion and the name its downloads get."""

    motion: Any  # ramotion.outputs.Motion (anything with .joints, .save(path), .prompt, .seed)
    filename_stem: str


def filename_stem(prompt: str, seed: int) -> str:
    """A safe download name such as 'a_person_walks_forward_seed7'."""
    slug = re.sub(r"[^a-z0-9]+", "_", prompt.lower()).strip("_")[:40].rstrip("_") or "motion"
    return f"{slug}_seed{seed}"


class SampleStore:
    """Thread-safe id -> sample map with lazily written download files."""

    def __init__(self, max_samples: int = 256) -> None:
        self.max_samples = max_samples
        self._samples: collections.OrderedDict[str, StoredSample] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._file_locks: dict[tuple[str, str], threading.Lock] = {}
        self._render_lock = threading.Lock()  # one MP4 render at a time: they are CPU-heavy
        self._dir = Path(tempfile.mkdtemp(prefix="ramotion-serve-"))

    def __len__(self) -> int:
        return len(self._samples)

    def add(self, motion: Any) -> str:
        """Keep `motion`; returns its new random id (dropping the oldest sample when full)."""
        sample_id = secrets.token_urlsafe(16)
        with self._lock:
            self._samples[sample_id] = StoredSample(motion, filename_stem(motion.prompt, motion.seed))
            while len(self._samples) > self.max_samples:
                old, _ = self._samples.popitem(last=False)
                for fmt in DOWNLOAD_FORMATS:
                    self._file_locks.pop((old, fmt), None)
                    (self._dir / f"{old}.{fmt}").unlink(missing_ok=True)
        return sample_id

    def get(self, sample_id: str) -> StoredSample:
        """The sample with this id; KeyError when unknown, malformed or already dropped."""
        if not SAMPLE_ID.match(sample_id):
            raise KeyError(sample_id)
        with self._lock:
            return self._samples[sample_id]

    def file(self, sample_id: str, fmt: str) -> tuple[Path, str]:
        """(path of the file, download name) for one sample in one format, written on first use.

        KeyError for an unknown id, ValueError for an unknown format. Blocking: call it
        from a worker thread, never on the event loop.
        """
        if fmt not in DOWNLOAD_FORMATS:
            raise ValueError(f"unknown download format {fmt!r}: expected one of {', '.join(DOWNLOAD_FORMATS)}")
        sample = self.get(sample_id)
        path = self._dir / f"{sample_id}.{fmt}"  # sample_id matched SAMPLE_ID: no separators
        with self._lock:
            lock = self._file_locks.setdefault((sample_id, fmt), threading.Lock())
        with lock:
            if not path.is_file():
                if fmt == "mp4":
                    with self._render_lock:
                        sample.motion.save(path)
                else:
                    sample.motion.save(path)  # written atomically by Motion.save
        return path, f"{sample.filename_stem}.{fmt}"

    def close(self) -> None:
        """Forget every sample and delete the download files."""
        with self._lock:
            self._samples.clear()
            self._file_locks.clear()
        shutil.rmtree(self._dir, ignore_errors=True)
