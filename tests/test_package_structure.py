"""The package's shape: no import cycle among lstmcore's modules, not even through the imports
inside functions (models.py and saving.py once imported each other that way)."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lstmcore"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_nodes(tree) -> set:
    """The nodes under `if TYPE_CHECKING:` (imports for annotations only, never run)."""
    return {id(inner) for node in ast.walk(tree)
            if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
            for inner in ast.walk(node)}


def _imports(path: Path) -> set:
    """The lstmcore modules `path` imports, at its top or inside its functions."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    annotations_only = _type_checking_nodes(tree)
    found = set()
    for node in ast.walk(tree):
        if id(node) in annotations_only:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("lstmcore"):
                found.add(target)
                found.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("lstmcore"))
    return found


def _with_parent_packages(targets: set) -> set:
    """Importing lstmcore.a.b runs lstmcore/a/__init__.py first: that is an import of lstmcore.a too
    (lstmcore's own __init__, which imports everything, is left out: it runs first of all)."""
    found = set(targets)
    for target in targets:
        parts = target.split(".")
        found.update(".".join(parts[:i]) for i in range(2, len(parts)))
    return found


def _graph():
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: sorted(t for t in _with_parent_packages(_imports(path))
                         if t in modules and t != name and t != "lstmcore" and not name.startswith(t + "."))
            for name, path in modules.items()}


def _cycle(graph):
    """One import cycle, or None."""
    state, stack = {}, []

    def visit(name):
        state[name] = "open"
        stack.append(name)
        for target in graph[name]:
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        state[name] = "done"
        stack.pop()
        return None

    for name in sorted(graph):
        if name not in state:
            found = visit(name)
            if found:
                return found
    return None


def test_no_import_cycle_between_lstmcore_modules():
    assert _cycle(_graph()) is None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a.x": ["a.y"], "a.y": ["a.x"]}) == ["a.x", "a.y", "a.x"]


def test_no_function_longer_than_60_lines():
    """Short functions, one job each (the native kernels in _native/ are C and Cython, not counted)."""
    long = [f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})"
            for path in PACKAGE.rglob("*.py")
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 60]
    assert not long
