"""Per-call runtime overhead of a tool call, excluding the tool itself.

Measures what the runtime does around every call: parse_args (pydantic validation), Policy.decide
(with a realistic rule file) and containment (resolve_path), plus preview() for gated tools.
Target from issue 6: <= 2 ms per tool call. Run: .venv/bin/python benchmarks/tools_overhead.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness_ls.tools import TOOLS, Policy, ToolContext, parse_args, resolve_path

POLICY = """
[allow]
shell = ["pytest *", "ruff check *", "ruff format *", "python -m pytest *", "make test"]
write = ["docs/**", "tests/**"]
[ask]
shell = ["git push *"]
write = ["docs/private/**"]
[deny]
shell = ["rm -rf *", "curl *", "wget *"]
read = [".env", "secrets/**"]
write = ["*.lock", ".github/**"]
"""

CALLS = [
    ("read_file", {"path": "src/pkg/module_12.py", "start_line": 10, "end_line": 80}),
    ("search", {"pattern": "def \\w+", "path": "src", "glob": "*.py"}),
    (
        "edit",
        {
            "path": "src/pkg/module_3.py",
            "old": "return 3\n\ndef f4():",
            "new": "return 33\n\ndef f4():",
        },
    ),
    ("write_file", {"path": "docs/guide/new.md", "content": "# New\n" * 20}),
    ("shell", {"command": "pytest -q tests/test_x.py && ruff check ."}),
]


def _workspace(root: Path) -> Path:
    ws = root / "ws"
    (ws / "src" / "pkg").mkdir(parents=True)
    (ws / ".harness").mkdir()
    (ws / ".harness" / "policy.toml").write_text(POLICY)
    for i in range(50):
        (ws / "src" / "pkg" / f"module_{i}.py").write_text(
            "".join(f"def f{j}():\n    return {j}\n\n" for j in range(200))
        )
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    return ws


def _time(fn, n: int) -> tuple[list[float], float]:
    """Wall times per call (ms) and mean CPU time per call (ms), which ignores other load."""
    for _ in range(min(200, n)):
        fn()
    out = []
    cpu = time.process_time()
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out, (time.process_time() - cpu) * 1000 / n


def _fmt(name: str, timed: tuple[list[float], float] | list[float]) -> str:
    xs, cpu = timed if isinstance(timed, tuple) else (timed, None)
    xs = sorted(xs)
    p99 = xs[int(len(xs) * 0.99) - 1]
    cpu_s = f"   cpu mean {cpu:6.3f} ms" if cpu is not None else ""
    return f"{name:<38} p50 {statistics.median(xs):7.3f} ms   p99 {p99:7.3f} ms{cpu_s}"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as tmp:
        ws = _workspace(Path(tmp))
        t = time.perf_counter()
        policy = Policy.load(ws, None, None)
        print(
            f"Policy.load (policy.toml with 14 rules): {(time.perf_counter() - t) * 1000:.2f} ms (once per run)"
        )
        ctx = ToolContext(workspace=ws)
        print(f"per-call overhead, {n} calls each (excluding the tool itself):")
        for name, raw in CALLS:
            tool = TOOLS[name]

            def overhead(tool=tool, raw=raw) -> None:
                args = parse_args(tool, raw)
                policy.decide(tool.name, args)
                path = getattr(args, "path", None)
                if path:
                    resolve_path(ws, path, for_write=tool.kind == "write")

            print(_fmt(f"  {name}: parse+decide+contain", _time(overhead, n)))
        for name, raw in CALLS[2:]:
            tool = TOOLS[name]
            args = parse_args(tool, raw)
            print(
                _fmt(
                    f"  {name}: preview (gated only)",
                    _time(lambda t=tool, a=args: t.preview(ctx, a), n // 4),
                )
            )
        args = parse_args(TOOLS["shell"], {"command": "true"})
        import asyncio

        async def shell_runs() -> list[float]:
            out = []
            for _ in range(50):
                t = time.perf_counter()
                await TOOLS["shell"].run(ctx, args)
                out.append((time.perf_counter() - t) * 1000)
            return out

        print(_fmt("  shell `true` end to end (for scale)", asyncio.run(shell_runs())))


if __name__ == "__main__":
    main()
