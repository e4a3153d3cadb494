"""Layering goes one way: leaf packages < agent/ < core < hosts; no import upward, no cycles.

Every module of harness_ls is parsed with `ast`, and every import counts: module-level,
function-level (lazy) and TYPE_CHECKING-only ones alike, since a lazy import upward is still a
dependency upward (and the way cycles used to hide).
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

import harness_ls

PKG = Path(harness_ls.__file__).parent

# Rank of each top-level part of harness_ls (a subpackage or a top-level module). A part may
# import parts of its own rank or lower; parts of the same rank must not form a cycle.
LEAF = {
    "spec",
    "store",
    "models",
    "tools",
    "context",
    "workspace",
    "gitrun",
    "scaffold",
    "diagrams",
}
LEAF_MODULES = {"__init__", "errors", "secrets", "config", "common", "endpoints", "usage", "private",
                "nofollow", "auth_token", "trust"}  # fmt: skip
RANKS = {
    **dict.fromkeys(LEAF | LEAF_MODULES, 0),
    "agent": 1,
    "executor": 1.5,  # runs beyond this process (Ray): uses agent/, reached only through core
    "core": 2,
    **dict.fromkeys({"lsp", "http", "cli", "acp", "__main__"}, 3),
    "testing": 4,  # fakes and fixtures for tests and benchmarks: may use anything
}
NAMES = {0: "leaf", 1: "agent", 1.5: "executor", 2: "core", 3: "host", 4: "testing"}


def part_of(module: str) -> str | None:
    """'harness_ls.agent.run' -> 'agent'; 'harness_ls' -> '__init__'; not ours -> None."""
    bits = module.split(".")
    if bits[0] != "harness_ls":
        return None
    return bits[1] if len(bits) > 1 else "__init__"


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, mod: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in the file, at any depth (`mod`: the module
    name to resolve relative imports against, by default the file's own)."""
    mod = mod or module_name(path)
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append((node.lineno, target))
            # `from harness_ls import core` imports the module harness_ls.core
            if target == "harness_ls":
                subs = [a.name for a in node.names if (PKG / a.name).exists()
                        or (PKG / f"{a.name}.py").exists()]  # fmt: skip
                out += [(node.lineno, f"harness_ls.{name}") for name in subs]
    return out


def edges() -> list[tuple[str, str, str]]:
    """(importing part, imported part, 'file:line') for every import between two parts."""
    out = []
    for path in sorted(PKG.rglob("*.py")):
        src = part_of(module_name(path)) or "__init__"
        for line, target in imports(path):
            dst = part_of(target)
            if dst is not None and dst != src:
                out.append((src, dst, f"{path.relative_to(PKG.parent)}:{line}"))
    return out


def test_every_part_has_a_layer():
    parts = {p.stem if p.is_file() else p.name for p in PKG.iterdir()}
    parts = {p for p in parts if p.isidentifier() and p != "__pycache__"}
    parts -= {"schema"}  # data files only
    assert parts <= set(RANKS), f"give these a layer in tests/test_layers.py: {parts - set(RANKS)}"


def test_no_import_goes_up_a_layer():
    upward = [
        f"{where}: {src} ({NAMES[RANKS[src]]}) imports {dst} ({NAMES[RANKS.get(dst, 0)]})"
        for src, dst, where in edges()
        if RANKS.get(dst, 0) > RANKS.get(src, 0)  # a part with no layer: see the test above
    ]
    assert upward == [], "imports from a lower layer to a higher one:\n" + "\n".join(upward)


def test_no_cycles_between_parts():
    graph = nx.DiGraph((src, dst) for src, dst, _ in edges())
    cycles = sorted(nx.simple_cycles(graph))
    where = {}
    for src, dst, w in edges():
        where.setdefault((src, dst), w)
    detail = [
        " -> ".join(c + [c[0]])
        + "  ("
        + ", ".join(where[(a, b)] for a, b in zip(c, c[1:] + c[:1], strict=True) if (a, b) in where)
        + ")"
        for c in cycles
    ]
    assert cycles == [], "cycles between parts of harness_ls:\n" + "\n".join(detail)


def test_the_checker_sees_lazy_and_relative_imports(tmp_path):
    """The parser itself: a function-level import and a relative one are both found."""
    sample = tmp_path / "x.py"
    sample.write_text("def f():\n    from harness_ls.core import Harness\n")
    assert imports(sample, "harness_ls.agent.probe") == [(2, "harness_ls.core")]
    sample.write_text("from ..lsp import server\n")
    assert imports(sample, "harness_ls.agent.probe") == [(1, "harness_ls.lsp")]


def test_agent_host_protocol_matches_the_harness(tmp_path):
    """agent/ types its host as agent.host.AgentHost; core.Harness must provide all of it."""
    from harness_ls.agent.host import AgentHost
    from harness_ls.core import Harness

    harness = Harness(tmp_path)
    wanted = set(AgentHost.__annotations__) | {"store", "broker", "options"}
    assert {name for name in wanted if not hasattr(harness, name)} == set()


def _file_graph() -> dict[str, set[str]]:
    """Module -> modules it imports (module- and function-level; `from pkg import x` is pkg.x if a module)."""
    mods = {module_name(p): p for p in sorted(PKG.rglob("*.py"))}
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, p in mods.items():
        for _line, target in imports(p):
            cand = target
            while cand and cand not in mods:
                cand = cand.rpartition(".")[0]
            if cand and cand != m:
                graph[m].add(cand)
    return graph


def _circles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[frozenset[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                elif nxt in on:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = set()
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.add(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    out.append(frozenset(comp))
    return out


def test_no_circle_of_files():
    new = [sorted(c) for c in _circles(_file_graph())]
    assert not new, (
        "circles of files (import the concrete submodule, or move the shared helper to a leaf):\n"
        + "\n".join(" <-> ".join(c) for c in new)
    )


# Hosts (lsp/ http/ cli/ acp/) reach the rest of harness_ls only through the core (issue 33):
# they may import core (the Harness and core/*.py verbs), spec/, the root modules and each other.
HOSTS = {"lsp", "http", "cli", "acp", "__main__"}
HOST_MAY_IMPORT = {"core", "spec"} | LEAF_MODULES | HOSTS

# (host file, part past the core) edges still to route through the core; any NEW one fails.
# Remove entries as they go (a stale entry is harmless here, so parallel branches merge cleanly).


def test_hosts_go_through_the_core():
    past = sorted(
        f"{where}: {src} imports {dst}"
        for src, dst, where in edges()
        if src in HOSTS and dst not in HOST_MAY_IMPORT
    )
    assert past == [], (
        "hosts import past the core (add a verb under harness_ls/core/ and call that):\n"
        + "\n".join(past)
    )
