"""Policy decision time for a shell command of 20 simple commands (issue 17 target: ≤ 1 ms).

The full path a tool call takes: tree-sitter-bash parse (with the query that finds text bash would
evaluate and non-plain syntax), unwrapping (`bash -c`, `env`, `$(…)`), per-part rule matching
against a realistic rule set (init's test runners plus user rules) with the check of what each
rule's `*` covers, protected arguments resolved through links, the redirect checks and the
known-safe list (which stats paths).
Every command is distinct, so the parse cache never answers; a second figure shows a repeat.
Wall-clock and this thread's CPU time are both printed: on a shared 2-core machine the wall-clock
p95 mostly measures other processes preempting this one.

Usage: .venv/bin/python benchmarks/policy_decide.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from harness_ls.tools.policy import Policy, Rule

RULES = [
    Rule("allow", "shell", p, "bench [allow]")
    for p in ("pytest *", "python -m pytest *", "python3 -m pytest *", "npm test *", "go test *",
              "cargo test *", "make test *", "ruff check *", "git status *", "git diff *")
] + [Rule("deny", "shell", p, "bench [deny]") for p in ("git push*", "sudo *", "rm -rf /*")]  # fmt: skip

PIECES = [
    "pytest -q tests/test_{i}.py",
    "ruff check src/m{i}.py",
    "grep -n needle{i} README.md",
    "cat src/a{i}.py | wc -l",
    "echo $(git status --short) > out/{i}.txt",
    "bash -c 'make test TARGET={i}'",
    "env FOO={i} python -m pytest -k k{i}",
    "git diff --stat HEAD~{i}",
    "ls src/pkg{i} && npm test",
    "cargo test case_{i} 2>&1",
]


def command(i: int) -> str:
    """20 simple commands joined by every kind of separator (some expand to several parts)."""
    seps = ["; ", " && ", " || ", "\n", " | "]
    parts = [PIECES[k % len(PIECES)].format(i=i * 100 + k) for k in range(20)]
    out = parts[0]
    for k, p in enumerate(parts[1:]):
        out += seps[k % len(seps)] + p
    return out


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        (ws / "src").mkdir(parents=True)
        policy = Policy("ask", RULES, ws, Path(tmp) / "data")
        first = policy.decide("shell", {"command": command(0)})
        print(f"parts per command: {len(first.parts)} (decision: {first.action}, {first.rule})")
        for label, make in (
            ("distinct commands (parse each)", command),
            ("same command", lambda i: command(0)),
        ):
            for i in range(50):
                policy.decide("shell", {"command": make(i + n)})
            times, cpu = [], []
            for i in range(n):
                cmd = make(i)
                t0, c0 = time.perf_counter(), time.thread_time()
                policy.decide("shell", {"command": cmd})
                cpu.append((time.thread_time() - c0) * 1000)
                times.append((time.perf_counter() - t0) * 1000)
            print(
                f"policy decide, 20-part command, {label:<32} n={n} "
                f"p50={pct(times, 50):.3f} ms  p95={pct(times, 95):.3f} ms  max={max(times):.3f} ms"
                f"  (CPU time p50={pct(cpu, 50):.3f} p95={pct(cpu, 95):.3f} ms)"
            )


if __name__ == "__main__":
    main()
