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


def test_check_fix_on_a_cloned_repository_never_writes_or_hangs_through_its_links(tmp_path):
    """`harness-ls check --fix .` (a pre-commit hook, CI) on a cloned repository: a planted
    `specs/evil/spec.md -> ~/.bashrc` had the fix written into your ~/.bashrc, and a
    `specs/wait/spec.md -> a FIFO` hung the hook for good (b139fd5). Links a directory walk
    finds are not checked; a file is read non-blocking (regular files only) and fixed through
    a temp file renamed in its own folder, never through a link."""
    import os

    ws, home = tmp_path / "ws", tmp_path / "home"
    home.mkdir()
    bashrc = home / ".bashrc"
    bashrc.write_text("## Goal\nexport PS1='$ '\n# Acceptance Tests\n- `true`\n# Constraints\n")
    os.mkfifo(home / "fifo")
    for name, target in (("evil", bashrc), ("wait", home / "fifo")):
        (ws / "specs" / name).mkdir(parents=True)
        (ws / "specs" / name / "spec.md").symlink_to(target)
    good = ws / "specs" / "good" / "spec.md"
    good.parent.mkdir(parents=True)
    good.write_text("## Goal\nx\n# Acceptance Tests\n- `true`\n# Constraints\n- y\n")
    before = bashrc.read_text()
    r = check("--fix", str(ws))
    assert "Traceback" not in r.stdout + r.stderr
    assert bashrc.read_text() == before
    assert f"{good}: fixed" in r.stdout
    assert "evil" not in r.stdout and "wait" not in r.stdout
    r = check("--fix", str(ws / "specs" / "wait" / "spec.md"), str(ws / "specs/evil/spec.md"))
    assert bashrc.read_text() == before
    assert r.returncode == 2, r.stdout
    lines = r.stdout.splitlines()
    assert f"{ws}/specs/wait/spec.md: error: not a regular file" in lines
    assert f"{ws}/specs/evil/spec.md: error: a symbolic link: not fixed (fix {bashrc})" in lines


def test_fix_keeps_a_crlf_spec_crlf(tmp_path):
    """A Windows checkout's spec: what --fix inserts (a placeholder, a heading, a section) uses
    the file's CRLF, never a mix of CRLF and LF lines."""
    spec = tmp_path / "x.spec.md"
    spec.write_bytes(b"## Goal\r\n\r\nDo it.\r\n\r\n# Constraints\r\n\r\n")
    r = check("--fix", str(spec))
    assert r.returncode == 0, r.stdout
    assert r.stdout.splitlines() == [  # the 4 fixed; the inserted placeholder is left to write
        f"{spec}: fixed 4 problems",
        f"{spec}:7:1: warning HLS012 'Constraints / nuances' still holds the template's "
        "placeholder: write what this spec needs here",
        "1 spec file checked, 1 fixed; no errors left",
    ]
    assert spec.read_bytes() == (
        b"# Goal\r\n\r\nDo it.\r\n\r\n# Constraints / nuances\r\n\r\n"
        b"- List the limits the agent must respect.\r\n\r\n"
        b"# Acceptance tests\r\n\r\n- `pytest -q`\r\n"
    )
