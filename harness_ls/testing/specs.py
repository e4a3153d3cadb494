"""Sample specs shared by tests and benchmarks."""

from __future__ import annotations

GOOD_SPEC = """# Goal

Ship the login page 🚀 for 日本 users.

# Constraints / nuances

- Keep the API stable.

# Acceptance tests

- `pytest -q`
"""


def long_spec(lines: int = 300) -> str:
    """A valid spec of about `lines` lines (~10 KB at 300), for latency and throughput benchmarks."""
    body = []
    n = max(lines // 3 - 4, 1)
    for i in range(n):
        body.append(
            f"- Constraint {i}: keep module_{i}.py free of side effects, see `src/mod_{i}.py`."
        )
    goal = "\n".join(
        f"The system should handle case {i} with clear errors and tests." for i in range(n)
    )
    tests = "\n".join(f"- `pytest -q tests/test_{i}.py`" for i in range(n))
    return (
        f"# Goal\n\n{goal}\n\n# Constraints / nuances\n\n"
        + "\n".join(body)
        + f"\n\n# Acceptance tests\n\n{tests}\n"
    )
