"""`harness-ls check`: file:line:col lines, exit codes, one-line errors, --fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness_ls.testing.specs import GOOD_SPEC, long_spec


def check(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness_ls", "check", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


def test_clean_spec_exits_zero_and_prints_nothing(tmp_path):
    spec = tmp_path / "specs" / "a" / "spec.md"
    spec.parent.mkdir(parents=True)
    spec.write_text(GOOD_SPEC)
    r = check(str(tmp_path))
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_problems_are_file_line_col_and_exit_one(tmp_path):
    spec = tmp_path / "x.spec.md"
    spec.write_text("# Goal\n\nx\n\n# Constraints\n\n- y\n")
    r = check(str(spec))
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert f"{spec}:5:3: error HLS005 " in lines[-1] or any(
        line.startswith(f"{spec}:5:3: error HLS005") for line in lines
    )
    assert all(line.startswith(f"{spec}:") for line in lines)


def test_fix_rewrites_the_file_into_a_valid_spec(tmp_path):
    spec = tmp_path / "x.spec.md"
    spec.write_text("## Goal\nx\n# Acceptance Tests\n- `true`\n# Constraints\n- y\n")
    r = check("--fix", str(spec))
    assert r.returncode == 0, r.stdout
    assert check(str(spec)).returncode == 0


def test_bad_inputs_get_one_line_errors_never_tracebacks(tmp_path):
    binary = tmp_path / "bin.spec.md"
    binary.write_bytes(b"\xff\xfe\x00\x01garbage")
    big = tmp_path / "big.spec.md"
    big.write_text(long_spec(300_000))  # ~10 MB
    missing = tmp_path / "missing.spec.md"
    r = check(str(binary), str(big), str(missing))
    assert r.returncode == 2
    assert "Traceback" not in r.stdout + r.stderr
    out = r.stdout.splitlines()
    assert any(line.startswith(f"{binary}: error: not valid UTF-8") for line in out)
    assert any(line.startswith(f"{missing}: error: no such file") for line in out)
    assert not any(line.startswith(str(big)) for line in out)  # a valid 10 MB spec is simply clean


def test_broken_workspace_schema_is_one_line(tmp_path):
    (tmp_path / ".harness").mkdir()
    (tmp_path / ".harness" / "spec.schema.json").write_text("{")
    spec = tmp_path / "x.spec.md"
    spec.write_text(GOOD_SPEC)
    r = check("--workspace", str(tmp_path), str(spec))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "spec.schema.json" in r.stderr


def test_version():
    r = subprocess.run(
        [sys.executable, "-m", "harness_ls", "--version"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.stdout.startswith("harness-ls ")
