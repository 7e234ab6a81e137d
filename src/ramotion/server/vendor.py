"""Where the page's three.js comes from: the `three` npm package, served by this server.

three.js is never copied into the repository nor loaded from a CDN (the page works
offline). It is looked up, first match wins, in:

1. `$RAMOTION_THREE_DIR` (a folder holding the `three` package);
2. `ramotion/server/static/vendor/three` inside the installed package, which a wheel
   build fills from web/node_modules (setup.py's build_py step);
3. `web/node_modules/three` of the source checkout (editable installs), made by
   `npm ci --prefix web`.

The page needs build/three.module.js and build/three.core.js, the OrbitControls module
from examples/jsm, and the package's LICENSE, which is served beside them.
"""

from __future__ import annotations

import os
from pathlib import Path

# Files the viewer loads, relative to the package folder (also what a wheel build copies).
THREE_FILES = (
    "LICENSE",
    "package.json",
    "build/three.module.js",
    "build/three.core.js",
    "examples/jsm/controls/OrbitControls.js",
)
PACKAGED_THREE = Path(__file__).resolve().parent / "static" / "vendor" / "three"
CHECKOUT_THREE = Path(__file__).resolve().parents[3] / "web" / "node_modules" / "three"
THREE_MISSING_HINT = (
    "three.js is not installed, so the 3D viewer is off: run `npm ci --prefix web` in the ramotion "
    "source folder (needs Node.js and npm), or set RAMOTION_THREE_DIR to a folder holding the `three` "
    "npm package, then restart `ramotion serve`"
)


def is_three_dir(path: Path) -> bool:
    """Whether `path` holds every file the viewer needs."""
    return all((path / name).is_file() for name in THREE_FILES)


def find_three() -> Path | None:
    """The folder of the `three` npm package to serve, or None when none is installed."""
    env = os.environ.get("RAMOTION_THREE_DIR")
    candidates = ([Path(env)] if env else []) + [PACKAGED_THREE, CHECKOUT_THREE]
    for candidate in candidates:
        if is_three_dir(candidate):
            return candidate.resolve()
    return None


def three_version(path: Path) -> str | None:
    """The version in the package's package.json (shown on /api/info)."""
    import json

    try:
        return str(json.loads((path / "package.json").read_text(encoding="utf-8")).get("version"))
    except (OSError, ValueError):
        return None
