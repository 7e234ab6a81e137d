"""The import direction of docs/architecture.md's layers, checked on the source (issue 19).

Every `import` and `from ... import` in src/ramotion, including those inside functions, is read
with `ast`. A module may import its own package and packages of lower layers only, and no set of
modules may import each other in a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "ramotion"

# Lowest first; a unit may import units of earlier layers (and its own package's modules).
# docs/architecture.md lists the same layers.
LAYERS: list[set[str]] = [
    {"__version__", "io_utils", "config_utils", "rotations", "skeleton", "runtime"},
    {"motion", "diffusion", "text", "viz"},
    {"data", "model", "sampling"},
    {"mocap", "synth", "train"},
    {"evaluation", "outputs"},
    {"editing"},
    {"pipeline"},
    {"experiments", "server"},
    {"cli", "__init__"},
]
LAYER = {unit: k for k, units in enumerate(LAYERS) for unit in units}


def _module_name(path: Path) -> str:
    parts = ("ramotion",) + path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The ramotion modules (dotted) that `path` imports anywhere in its body."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("ramotion"):
                continue
            if node.module is None or target == "ramotion":  # `from .. import x`: x may be a module
                found.update(f"{target}.{a.name}" for a in node.names)
            else:
                found.add(target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("ramotion"))
    return found


def _unit(module: str) -> str:
    """ramotion.x.y -> x (a top-level module or package); the package itself -> __init__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for t in _imports(path):
            while t not in modules and "." in t:  # `from pkg import name`: the name is not a module
                t = t.rsplit(".", 1)[0]
            if t in modules and t != name:
                targets.add(t)
        graph[name] = targets
    return graph


def test_every_unit_has_a_layer() -> None:
    units = {_unit(m) for m in _graph()} - {"__init__"}
    assert units <= set(LAYER), f"add these to LAYERS and docs/architecture.md: {sorted(units - set(LAYER))}"


def test_imports_point_down() -> None:
    wrong = []
    for module, targets in _graph().items():
        for t in targets:
            a, b = _unit(module), _unit(t)
            if t == "ramotion" and module != "ramotion":
                b = "__version__"  # `from .. import __version__`: the package's light root
            if a != b and LAYER.get(b, 99) >= LAYER.get(a, -1):
                wrong.append(f"{module} imports {t} ({a} is layer {LAYER.get(a)}, {b} layer {LAYER.get(b)})")
    assert not wrong, "imports against the layers:\n" + "\n".join(sorted(wrong))


def test_no_import_cycles() -> None:
    graph = _graph()
    graph = {m: {t for t in ts if t != "ramotion"} for m, ts in graph.items()}  # the root's lazy export
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                cycles.append(stack[stack.index(t) :] + [t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)
