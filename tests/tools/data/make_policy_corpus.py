"""Build policy_corpus.json.xz: the shell policy's decisions on many thousands of commands, as the
code decides them now (see tests/tools/test_policy_corpus.py). Rebuild only when a decision is
meant to change, and review the difference.

Commands come from: every string constant in tests/tools, tests/e2e and the policy benchmark; the
property-test grammars of test_knownsafe_property.py and test_policy_parsed.py (drawn through
hypothesis); a hand list of tricky shapes (policy_corpus_tricky.txt, one a line; blank lines
separate multi-line commands); and seeded random compositions of all of these
(separators, wrappers, nesting).

Usage: PYTHONPATH=. .venv/bin/python tests/tools/data/make_policy_corpus.py
"""

from __future__ import annotations

import ast
import importlib.util
import json
import lzma
import random
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HERE = Path(__file__).parent
TESTS = HERE.parent.parent
REPO = TESTS.parent

TRICKY = (HERE / "policy_corpus_tricky.txt").read_text(encoding="utf-8")  # shapes by hand


def load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def string_constants() -> list[str]:
    files = [*sorted((TESTS / "tools").glob("*.py")), *sorted((TESTS / "e2e").glob("*.py")),
             REPO / "benchmarks" / "policy_decide.py"]  # fmt: skip
    out: list[str] = []
    for f in files:
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if 0 < len(node.value) <= 2000:
                    out.append(node.value)
    return out


def drawn(strategy: st.SearchStrategy, n: int) -> list[str]:
    out: list[str] = []

    @settings(max_examples=n, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(strategy)
    def collect(value: str) -> None:
        out.append(value)

    collect()
    return out


def grammar_commands() -> list[str]:
    ks = load_module(TESTS / "tools" / "test_knownsafe_property.py")
    pp = load_module(TESTS / "tools" / "test_policy_parsed.py")
    out = drawn(ks.command_line().map(lambda c: c[0]), 3000)
    out += drawn(st.lists(ks.known_command(), min_size=1, max_size=3)
                 .map(lambda c: " | ".join(t for t, _ in c)), 600)  # fmt: skip
    out += drawn(st.one_of(st.text(max_size=60), st.lists(ks._WORDS, max_size=12).map("".join)),
                 600)  # fmt: skip

    @st.composite
    def composed(draw: st.DrawFn) -> str:
        atoms = draw(st.lists(st.sampled_from(pp.ATOMS), min_size=1, max_size=5))
        seps = draw(st.lists(st.sampled_from(pp.SEPARATORS), min_size=4, max_size=4))
        wraps = draw(st.lists(st.sampled_from(pp.WRAPS), min_size=5, max_size=5))
        pieces = [wraps[i].format(a) for i, a in enumerate(atoms)]
        command = pieces[0]
        for i, piece in enumerate(pieces[1:]):
            command += seps[i] + piece
        return command

    out += drawn(composed(), 1200)
    wraps = [w for w in pp.WRAPS]
    return out, wraps


SEPS = ["; ", " && ", " || ", " | ", " & ", "\n", " ;\n ", " |& "]


def compositions(atoms: list[str], wraps: list[str], n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        pieces = []
        for _ in range(rnd.randint(1, 4)):
            text = rnd.choice(atoms)
            for _ in range(rnd.choice((0, 0, 1, 1, 2))):
                text = (
                    rnd.choice(wraps).replace("{}", text, 1).replace("{{", "{").replace("}}", "}")
                )
            pieces.append(text)
        command = pieces[0]
        for p in pieces[1:]:
            command += rnd.choice(SEPS) + p
        out.append(command)
    return out


def main() -> None:
    sys.path.insert(0, str(TESTS / "tools"))
    corpus_mod = load_module(TESTS / "tools" / "test_policy_corpus.py")
    tricky = TRICKY.split("\n") + TRICKY.split("\n\n") + [TRICKY]
    consts = string_constants()
    grammar, wraps = grammar_commands()
    short = [c for c in dict.fromkeys(tricky + consts) if 0 < len(c) <= 80]
    bench = load_module(REPO / "benchmarks" / "policy_decide.py")
    commands = tricky + consts + grammar + [bench.command(i) for i in range(5)]
    commands += compositions(short, wraps, 2500, seed=31)
    commands = list(dict.fromkeys(c for c in commands if c))
    with tempfile.TemporaryDirectory(dir=corpus_mod.TMP) as tmp:
        root = Path(tmp)
        ws, data = corpus_mod.workspace(root)
        pols = corpus_mod.policies(ws, data)
        names = corpus_mod.path_names(root, ws, data)
        entries = [corpus_mod.record(c, pols, names) for c in commands]
    with lzma.open(corpus_mod.CORPUS, "wt", encoding="utf-8", preset=9) as f:
        json.dump(entries, f, ensure_ascii=False, separators=(",", ":"))
    print(f"{len(entries)} commands -> {corpus_mod.CORPUS} "
          f"({corpus_mod.CORPUS.stat().st_size} bytes)")  # fmt: skip


if __name__ == "__main__":
    main()
