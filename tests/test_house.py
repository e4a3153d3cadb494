"""House rules for the test suite itself, read from the tests' own code with `ast`.

- No timed assertion: speed goals live in benchmarks/, tests assert behaviour (a loaded CI
  machine must not turn a slow pass into a failure).
- No silent capability skip: a test that needs root, a tmpfs, Landlock or a second user calls
  `require_capability` (a failure under CI, where the machine has them all); only opt-in
  variants (HARNESS_LONG, HARNESS_E2E_VSCODE) may skip by themselves.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent
CLOCKS = {"monotonic", "perf_counter", "time", "monotonic_ns", "perf_counter_ns"}
TIMED_NAMES = {"took", "elapsed", "duration", "seconds_taken"}
OPT_IN = ("LONG", "HARNESS_E2E_VSCODE", "E2E_VSCODE")


def _test_files() -> list[Path]:
    return [
        p for p in sorted(TESTS.rglob("*.py")) if p.name != "conftest.py" and p != Path(__file__)
    ]


def _reads_a_clock(node: ast.AST) -> bool:
    """An assertion on a measured time; a wait loop's `time.monotonic() < deadline` (a test that
    stops by itself rather than hanging) is not one."""
    if "deadline" in ast.unparse(node):
        return False
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute):
            owner = sub.func.value
            if isinstance(owner, ast.Name) and owner.id == "time" and sub.func.attr in CLOCKS:
                return True
        if isinstance(sub, ast.Name) and sub.id in TIMED_NAMES:
            return True
    return False


def timed_assertions(path: Path, root: Path = TESTS.parent) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [f"{path.relative_to(root)}:{n.lineno}" for n in ast.walk(tree)
            if isinstance(n, ast.Assert) and _reads_a_clock(n.test)]  # fmt: skip


def _is_opt_in(node: ast.AST) -> bool:
    text = ast.unparse(node)
    return any(word in text for word in OPT_IN)


def bare_skips(path: Path, root: Path = TESTS.parent) -> list[str]:
    """`pytest.skip(...)` calls and `pytest.mark.skipif(...)` marks not tied to an opt-in."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = ast.unparse(node.func)
        if name in ("pytest.skip", "pytest.mark.skipif") and not _is_opt_in(node):
            out.append(f"{path.relative_to(root)}:{node.lineno}: {name}")
    return out


def test_no_test_asserts_on_wall_clock_time():
    found = [hit for path in _test_files() for hit in timed_assertions(path)]
    assert found == [], "timed assertions (move the figure to benchmarks/):\n" + "\n".join(found)


def test_capabilities_are_required_not_skipped():
    found = [hit for path in _test_files() for hit in bare_skips(path)]
    assert found == [], (
        "skips that CI would not notice (use tests.conftest.require_capability or "
        "require_tool):\n" + "\n".join(found)
    )


def test_the_checks_see_what_they_look_for(tmp_path):
    bad = tmp_path / "t.py"
    bad.write_text(
        "import time, pytest\n"
        "t0 = time.monotonic()\n"
        "assert time.monotonic() - t0 < 3\n"
        "assert took < 3\n"
        "assert time.monotonic() < deadline, 'gave up waiting'\n"
        "pytest.skip('no root')\n"
        "@pytest.mark.skipif(True, reason='x')\n"
        "def f(): pass\n"
        "@pytest.mark.skipif(not LONG, reason='opt-in')\n"
        "def g(): pass\n"
    )
    assert timed_assertions(bad, tmp_path) == ["t.py:3", "t.py:4"]
    assert bare_skips(bad, tmp_path) == ["t.py:6: pytest.skip", "t.py:7: pytest.mark.skipif"]
