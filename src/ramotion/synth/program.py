"""The ground-truth program of a synthetic motion: which actions, with which parameters, when.

Frame spans are half-open [start, end) in the frames of the HumanML3D features and
of the joints recovered from them (`num_frames`, one fewer than the generated joint
positions). Programs are stored as JSON beside the captions; `mirror` gives the
program of the left/right mirrored motion (HumanML3D's "M" copies).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

SCHEMA_VERSION = 1
_SWAP = {"left": "right", "right": "left"}
# Parameters that name a side of the body or a direction that mirroring swaps.
SIDED_PARAMS = {"walk": ("direction",), "hop": ("leg",), "turn": ("direction",), "spin": ("direction",),
                "wave": ("hand",), "raise_arms": ("hand",), "punch": ("hand",), "kick": ("leg",), "lean": ("direction",)}


@dataclass
class ProgramAction:
    """One action of a program: its name, parameters and frame span [start, end)."""

    action: str
    params: dict
    start: int
    end: int

    def mirrored(self) -> "ProgramAction":
        """The same action with left and right swapped."""
        params = dict(self.params)
        for key in SIDED_PARAMS.get(self.action, ()):
            if params.get(key) in _SWAP:
                params[key] = _SWAP[params[key]]
        return ProgramAction(self.action, params, self.start, self.end)


@dataclass
class Program:
    """A motion's program: actions in order, and the motion's length in feature frames."""

    actions: list[ProgramAction]
    num_frames: int
    fps: float = 20.0
    mirrored: bool = False
    extra: dict = field(default_factory=dict)

    def mirror(self) -> "Program":
        """The program of the mirrored motion (left <-> right, turns and side steps flipped)."""
        return Program([a.mirrored() for a in self.actions], self.num_frames, self.fps, not self.mirrored, dict(self.extra))

    def rescaled(self, num_frames: int) -> "Program":
        """The same program stretched to a motion of `num_frames` frames (spans scaled, rounded)."""
        if num_frames < 1:
            raise ValueError(f"num_frames must be at least 1, got {num_frames}")
        r = num_frames / self.num_frames
        acts = []
        for a in self.actions:
            start = min(int(round(a.start * r)), num_frames - 1)
            acts.append(ProgramAction(a.action, dict(a.params), start, max(start + 1, min(int(round(a.end * r)), num_frames))))
        return Program(acts, num_frames, self.fps, self.mirrored, dict(self.extra))

    def to_dict(self) -> dict:
        return {"version": SCHEMA_VERSION, "fps": self.fps, "num_frames": self.num_frames, "mirrored": self.mirrored,
                "actions": [asdict(a) for a in self.actions], **({"extra": self.extra} if self.extra else {})}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n"

    @staticmethod
    def from_dict(d: dict) -> "Program":
        """Parse a program dict, raising ValueError naming what is wrong."""
        if not isinstance(d, dict) or "actions" not in d or "num_frames" not in d:
            raise ValueError("a program needs 'actions' and 'num_frames'")
        if d.get("version", SCHEMA_VERSION) != SCHEMA_VERSION:
            raise ValueError(f"unsupported program version {d.get('version')!r} (expected {SCHEMA_VERSION})")
        acts = []
        for i, a in enumerate(d["actions"]):
            try:
                pa = ProgramAction(str(a["action"]), dict(a.get("params", {})), int(a["start"]), int(a["end"]))
            except (KeyError, TypeError) as exc:
                raise ValueError(f"program action {i} is malformed: {exc}") from None
            if not 0 <= pa.start < pa.end:
                raise ValueError(f"program action {i} ({pa.action}) has an empty or negative span [{pa.start}, {pa.end})")
            acts.append(pa)
        return Program(acts, int(d["num_frames"]), float(d.get("fps", 20.0)), bool(d.get("mirrored", False)), dict(d.get("extra", {})))

    @staticmethod
    def from_json(text: str) -> "Program":
        return Program.from_dict(json.loads(text))

    def names(self) -> list[str]:
        return [a.action for a in self.actions]
