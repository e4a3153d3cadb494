"""The localization scenario (tests of agent/localize.py and `agentctl context --localize`):
16 `pricing_N.py` files that match the task's words and one `ledger.py`, the file the change
needs, that matches none of them, so the plain ranking leaves `ledger.py` without an excerpt."""

from __future__ import annotations

from pathlib import Path

from harness_ls.gitrun import standalone, workspace_git

IDENTITY = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip

SPEC_PATH = "specs/discount/spec.md"
SPEC = """# Goal

Apply the discount price rule to the cart total when the cart is settled.

# Constraints / nuances

- Keep the rule in one place.

# Acceptance tests

- `grep -rq discount src`
"""
TRUTH = "src/shop/ledger.py"
SECRET = "sk-live-localize-0123456789abcdef"  # in the untracked .env


def make_shop(ws: Path) -> Path:
    """A git repo at `ws` (one commit) with the scenario, the spec, scaffolding and a .env."""

    def git(*args: str) -> None:
        proc = workspace_git(ws).run(*args, env=IDENTITY)
        assert proc.returncode == 0, proc.stderr

    (ws / "src" / "shop").mkdir(parents=True)
    assert standalone().run("init", "-q", "-b", "main", str(ws)).returncode == 0
    for k in range(1, 17):
        (ws / "src" / "shop" / f"pricing_{k}.py").write_text(
            f'def price_with_discount_{k}(cart):\n    """Apply the discount to the cart price."""\n'
            f"    total = sum(cart)\n    return total * 0.9\n\n\n"
            f"def discount_rate_{k}():\n    return 0.1\n"
        )
    (ws / TRUTH).write_text(
        'def settle(entries):\n    """Close the books."""\n    return sum(entries)\n'
    )
    (ws / SPEC_PATH).parent.mkdir(parents=True)
    (ws / SPEC_PATH).write_text(SPEC)
    (ws / ".harness").mkdir()
    (ws / ".harness" / "notes.md").write_text("harness scaffolding\n")
    git("add", "-A")
    git("commit", "-q", "-m", "init")
    (ws / ".env").write_text(f"OPENAI_API_KEY={SECRET}\n")  # untracked, as it should be
    return ws
