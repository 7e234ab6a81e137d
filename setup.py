"""Build hook (metadata lives in pyproject.toml): put the web viewer's three.js into wheels.

three.js is an npm dependency (web/package.json), never copied into the repository. A
wheel build copies the few files the viewer loads (ramotion.server.vendor.THREE_FILES)
from web/node_modules/three into ramotion/server/static/vendor/three, so an installed
`ramotion serve` works offline. Run `npm ci --prefix web` before building; without it the
wheel still builds (with a warning) and its page says what to install. Editable installs
skip the copy: they serve web/node_modules/three directly.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def _vendor_module():
    """ramotion/server/vendor.py loaded on its own (it imports only the standard library)."""
    spec = importlib.util.spec_from_file_location("_ramotion_vendor", HERE / "src" / "ramotion" / "server" / "vendor.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildPyWithThree(build_py):
    """build_py, then copy three.js's files from web/node_modules into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        files = _vendor_module().THREE_FILES
        source = HERE / "web" / "node_modules" / "three"
        missing = [name for name in files if not (source / name).is_file()]
        if missing:
            self.warn(f"three.js not found in {source} (run `npm ci --prefix web` first): the wheel's web viewer will ask for it")
            return
        target = Path(self.build_lib) / "ramotion" / "server" / "static" / "vendor" / "three"
        for name in files:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / name, target / name)


setup(cmdclass={"build_py": BuildPyWithThree})
