"""The "greet" scenario most runtime, HTTP, CLI, editor and end-to-end tests share: a repo whose
greet.txt says hi, a spec asking for hello, and scripted model answers that do it."""

from __future__ import annotations

import os
from pathlib import Path

SPEC = """# Goal

Make greet.txt say hello instead of hi.

# Constraints / nuances

- Only touch greet.txt.

# Acceptance tests

- `grep -qx hello greet.txt`
"""
PLAN = {"text": '{"steps": [{"title": "Write hello into greet.txt", "spec_line": 2}]}'}
WRITE = {
    "tool_calls": [{"name": "write_file", "arguments": {"path": "greet.txt", "content": "hello\n"}}]
}
WRITE_SAYING = {"text": "I will write it.", **WRITE}  # the same call, with streamed text first
DONE = {"text": "Wrote greet.txt."}
DOCS = {"text": "Nothing to document."}


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """A child process environment without the developer's keys: PATH, locale, a private HOME."""
    # PYTHONPATH too: hosts started from a git worktree run its code, not the editable install
    keep = {
        k: v
        for k, v in os.environ.items()
        if k in ("PATH", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH")
    }
    home.mkdir(parents=True, exist_ok=True)
    if extra.get("HARNESS_DATA_DIR"):  # the test calls hosts on it as their owner
        from harness_ls.testing.owner import owner_data_dir

        owner_data_dir(extra["HARNESS_DATA_DIR"], extra.get("HARNESS_AUTH_TOKEN"))
    return {**keep, "HOME": str(home), "PYTHONUNBUFFERED": "1", **extra}
