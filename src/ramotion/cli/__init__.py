"""The `ramotion` command line: one module per verb, each with `register(subparsers)`.

A verb's module defines `register(sub)` that adds its parser and sets
`func=run(args) -> int`. Errors a user can cause are raised as `UserError` (or
ValueError / FileNotFoundError) and printed as one line, with exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .common import UserError

# Verb modules, in the order `ramotion --help` lists them.
VERB_MODULES = [
    "generate",
    "edit",
    "train",
    "render",
    "export",
    "import_bvh",
    "data",
    "synth",
    "evaluator",
    "evaluate",
    "length",
    "serve",
    "experiment",
]


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every verb registered."""
    from .. import __version__

    parser = argparse.ArgumentParser(prog="ramotion", description="RAM text-to-motion: generate, train, evaluate.")
    parser.add_argument("--version", action="version", version=f"ramotion {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in VERB_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `ramotion` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except (UserError, ValueError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"ramotion {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a read-only folder, a failed encoder: one line, no traceback
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        print(f"ramotion {args.command}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
