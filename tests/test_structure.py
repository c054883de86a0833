"""The package's layout: no import circles, layers that only look down, single-chapter code in its chapter."""
from __future__ import annotations

import ast
import importlib
import pkgutil
from collections import defaultdict
from pathlib import Path

import pytest

import paper_repro

PKG = Path(paper_repro.__file__).parent
LAYERS = {"core": 0, "present": 1, "pipeline": 2, "experiments": 3}  # a layer imports only from layers below it


def modules() -> dict[str, Path]:
    """Every module of the package (dotted name -> file); a package is its ``__init__``."""
    out = {}
    for path in PKG.rglob("*.py"):
        parts = ("paper_repro",) + path.relative_to(PKG).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports, at any depth (lazy imports inside functions count)."""
    mods, graph = modules(), defaultdict(set)
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in mods and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def test_cycle_finder_sees_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles():
    found = cycles(import_graph())
    assert not found, f"import circles: {found}"


def test_layers_only_import_downwards():
    """core < present < pipeline < experiments: a module never imports from a layer above its own."""
    wrong = [(m, t) for m, ts in import_graph().items() for t in ts
             if layer(m) is not None and layer(t) is not None and layer(t) > layer(m)]
    assert not wrong, f"upward imports: {wrong}"


# Shared by design although one chapter imports it today: the generic SGD trainer (chapter 3 trains with it,
# benchmarks/bench_tail_index.py times it; chapters 1, 2 and 4 keep their own loops for the released recipes).
SHARED_BY_DESIGN = {"paper_repro.core.train"}


def chapter_users() -> dict[str, set[str]]:
    """shared module (an estimators submodule counts as the estimators package) -> chapters importing it, from the
    chapter's package and its book page."""
    users = defaultdict(set)
    unit = lambda t: "paper_repro.core.estimators" if t.startswith("paper_repro.core.estimators") else t  # noqa: E731
    for m, ts in import_graph().items():
        parts = m.split(".")
        if parts[1:2] == ["experiments"] and len(parts) > 2:
            for t in ts:
                users[unit(t)].add(parts[2])
    for page in (PKG.parent / "book").glob("*.py"):
        for node in ast.walk(ast.parse(page.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("paper_repro"):
                users[unit(node.module)].add(page.stem)
    return users


def test_shared_modules_serve_more_than_one_chapter():
    """A module outside experiments/ that chapters use serves more than one chapter (else it lives in that one)."""
    lonely = {t: sorted(ch) for t, ch in chapter_users().items()
              if not t.startswith("paper_repro.experiments") and len(ch) == 1 and t not in SHARED_BY_DESIGN}
    assert not lonely, f"modules used by a single chapter (move them into it): {lonely}"


@pytest.mark.parametrize("name", sorted(m.name for m in pkgutil.walk_packages(paper_repro.__path__, "paper_repro.")
                                        if not m.name.endswith("__main__")))
def test_every_module_imports(name):
    importlib.import_module(name)


def test_modules_are_short():
    """One concept per module: at most ~300 lines."""
    long = {str(p.relative_to(PKG)): n for p in PKG.rglob("*.py") if (n := len(p.read_text().splitlines())) > 320}
    assert not long, f"modules over 320 lines: {long}"
