"""The binding's modules import each other without a circle.

Every import statement of every module under bindings/python/imgclass is
read with ast, wherever it sits (a circle hidden behind an import inside a
function is still a circle: it only moves the failure to run time), and
resolved to the package's module it names. The graph must have no cycle.
A package's implicit import of its parent (importing imgclass.dask._parts
imports imgclass.dask first) is Python's rule, not an edge of ours."""
import ast
import os

from conftest import REPO

PACKAGE = "imgclass"
ROOT = os.path.join(REPO, "bindings", "python", PACKAGE)


def modules():
    """{dotted name: file} of every module of the package."""
    out = {}
    for folder, _, files in os.walk(ROOT):
        for f in files:
            if not f.endswith(".py"):
                continue
            rel = os.path.relpath(os.path.join(folder, f), os.path.dirname(ROOT))
            parts = rel[:-3].split(os.sep)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = os.path.join(folder, f)
    return out


def imports(name, path, known):
    """The package's modules that module `name` (at `path`) imports."""
    is_package = path.endswith("__init__.py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                if not is_package:
                    base = base[:-1]  # a module's "." is its package
                base = base[:len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # "from X import Y" imports the module X.Y when there is one
            # (X, its package, is then Python's implicit parent import),
            # else the name Y defined by X itself.
            targets = [f"{stem}.{a.name}" if f"{stem}.{a.name}" in known else stem
                       for a in node.names]
        else:
            continue
        for t in targets:
            # "import imgclass.dask._parts" imports that module: the longest
            # known prefix is the module meant.
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def find_cycle(graph):
    """One cycle as a list of names (first == last), or None."""
    state = {}  # name -> 1 on the current path, 2 done
    path = []

    def visit(n):
        state[n] = 1
        path.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return path[path.index(m):] + [m]
            if m not in state:
                c = visit(m)
                if c:
                    return c
        path.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            c = visit(n)
            if c:
                return c
    return None


def import_graph():
    mods = modules()
    return {n: imports(n, p, mods) for n, p in mods.items()}


def test_no_import_cycle():
    graph = import_graph()
    # The parser sees the package: a broken walk would pass vacuously.
    assert {"imgclass", "imgclass._model", "imgclass._pipeline",
            "imgclass.dask._worker"} <= set(graph)
    assert "imgclass._pipeline" in graph["imgclass._model"]
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_checker_sees_a_cycle_hidden_in_a_function():
    """The check itself: a function-level import closing a circle counts."""
    src_a = "from . import b\n"
    src_b = "def f():\n    from .a import x\n"
    tree_known = {"p", "p.a", "p.b"}

    def edges(name, src):
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write(src)
        try:
            return imports(name, f.name, tree_known)
        finally:
            os.unlink(f.name)

    graph = {"p": set(), "p.a": edges("p.a", src_a), "p.b": edges("p.b", src_b)}
    assert find_cycle(graph) in (["p.a", "p.b", "p.a"], ["p.b", "p.a", "p.b"])
