"""The renderer a run starts runs outside the sandbox, on files the agent writes: with `confine`
(the run's workspace) it starts no renderer installed inside it, reads no source that is a link,
and refuses a diagrams folder that leads out. A fake `mmdc` (a real script) stands in for
mermaid-cli: like mmdc on a parse error, it quotes its input on stderr and fails.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from harness_ls.diagrams import render as diagrams
from harness_ls.diagrams import render_io as dio
from tests.conftest import require_capability

SECRET = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-SECRET-KEY-MATERIAL\n"


def _script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A workspace with docs/diagrams, an outside 'home' with a key, a quoting mmdc on PATH."""
    ws = tmp_path / "ws"
    (ws / "docs" / "diagrams").mkdir(parents=True)
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text(SECRET)
    calls = tmp_path / "mmdc-calls"
    bin_dir = tmp_path / "bin"
    # mmdc -p cfg ... -i INPUT -o OUT: log the call, print the input as a parse error, fail
    _script(bin_dir / "mmdc", f'echo "$@" >> {calls}\nwhile [ "$1" != -i ]; do shift; done\n'
                              'echo "Parse error on line 1:" >&2; cat "$2" >&2; exit 1\n')  # fmt: skip
    monkeypatch.delenv("MMDC", raising=False)
    monkeypatch.setenv("PUPPETEER_EXECUTABLE_PATH", "/bin/true")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    return {"ws": ws, "home": home, "calls": calls, "bin": bin_dir}


def test_a_source_that_links_to_a_file_of_yours_is_never_read(env: dict[str, Path]) -> None:
    ws, folder = env["ws"], env["ws"] / "docs" / "diagrams"
    os.symlink(env["home"] / ".ssh" / "id_rsa", folder / "key.mmd")
    (folder / "flow.mmd").write_text("graph TD\n  A-->B\n")

    # the trap: without confine (your own `make diagrams`) the parse error quotes the key
    plain = diagrams.render_diagrams(folder, root=ws, only={"key.mmd"})
    assert "SECRET-KEY-MATERIAL" in plain.failed["key.mmd"]
    env["calls"].unlink()

    result = diagrams.render_diagrams(folder, root=ws, only={"key.mmd", "flow.mmd"}, confine=ws)
    assert result.failed["key.mmd"] == (
        "not rendered: it is a symbolic link; a run renders only regular files in the diagrams "
        "folder (replace the link with the file)"
    )
    assert "SECRET" not in repr(result)
    assert "key.mmd" not in env["calls"].read_text()  # mmdc was started for flow.mmd only
    assert "flow.mmd" in result.failed  # (the fake mmdc fails everything)


def test_a_renderer_installed_in_the_workspace_is_never_started(env: dict[str, Path]) -> None:
    ws, folder = env["ws"], env["ws"] / "docs" / "diagrams"
    (env["bin"] / "mmdc").unlink()  # no mmdc outside the workspace
    marker = env["home"] / "escaped"
    local = _script(ws / ".tools" / "node_modules" / ".bin" / "mmdc", f"touch {marker}\n")
    (folder / "flow.mmd").write_text("graph TD\n  A-->B\n")

    result = diagrams.render_diagrams(folder, root=ws, only={"flow.mmd"}, confine=ws)
    assert not marker.exists()
    [missing] = result.missing
    assert missing.message().startswith(
        "mmdc not found (needed for flow.mmd).\n"
        f"the only mmdc is inside the workspace ({local}), where the agent can change it, "
        "so a run does not start it: it would run outside the sandbox.\n"
    )
    assert result.rendered == [] and result.failed == {}

    diagrams.render_diagrams(folder, root=ws, only={"flow.mmd"})  # your own `make diagrams`
    assert marker.exists()  # ... does use the project's copy


def test_a_diagrams_folder_leading_out_of_the_workspace_is_refused(env: dict[str, Path]) -> None:
    ws = env["ws"]
    (ws / "docs" / "diagrams").rmdir()
    outside = env["home"] / "diagrams"
    outside.mkdir()
    (outside / "flow.mmd").write_text("graph TD\n  A-->B\n")
    os.symlink(outside, ws / "docs" / "diagrams")
    with pytest.raises(ValueError) as err:
        diagrams.render_diagrams(ws / "docs" / "diagrams", root=ws, confine=ws)
    assert str(err.value) == (
        f"{outside} is outside the workspace {ws} (a link): diagrams not rendered"
    )
    assert sorted(p.name for p in outside.iterdir()) == ["flow.mmd"]


@pytest.mark.parametrize("planted", [dio.MANIFEST + ".tmp", "flow.png"])
def test_a_link_planted_where_the_renderer_writes_is_never_written_through(
    env: dict[str, Path], planted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest went through `.hashes.json.tmp` by name, and a PNG rendered on another
    filesystem was copied onto `flow.png` by name (shutil.move): a link planted there (by a
    cloned repository, or the agent) had a run's render overwrite a file of yours (b139fd5)."""
    ws, folder = env["ws"], env["ws"] / "docs" / "diagrams"
    require_capability(
        os.stat("/dev/shm").st_dev != os.stat(ws).st_dev,
        "a temp dir on another filesystem than the workspace",
        "run with the workspace outside /dev/shm (a tmpfs of its own)",
    )
    monkeypatch.setattr(tempfile, "tempdir", "/dev/shm")  # as when /tmp is a tmpfs of its own
    # a renderer that works: writes a PNG-ish file at -o
    _script(env["bin"] / "mmdc", 'while [ "$1" != -o ]; do shift; done\nprintf PNG > "$2"\n')
    (folder / "flow.mmd").write_text("graph TD\n  A-->B\n")
    victim = env["home"] / ".bashrc"
    victim.write_text("# yours\n")
    os.symlink(victim, folder / planted)
    result = diagrams.render_diagrams(folder, root=ws, only={"flow.mmd"}, confine=ws)
    assert (result.rendered, result.failed) == (["flow.mmd"], {})
    assert victim.read_text() == "# yours\n"
    assert not (folder / "flow.png").is_symlink()
    assert (folder / "flow.png").read_bytes() == b"PNG"
    assert dio.load_manifest(folder)["flow.mmd"]["output"] == "flow.png"


def _swapping(folder: Path, a: str, b: str) -> subprocess.Popen[bytes]:
    """A process exchanging `a` and `b` in `folder` (renameat2 RENAME_EXCHANGE) until killed."""
    return subprocess.Popen([sys.executable, "-c", (
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        f"while True: libc.renameat2(-100, b'{a}', -100, b'{b}', 2)\n")], cwd=folder)  # fmt: skip


def _errors_while_swapping(folder: Path, ws: Path, name: str, swap: str) -> list[str]:
    swapper = _swapping(folder, name, swap)
    errors: list[str] = []
    try:
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and len(errors) < 400:
            result = diagrams.render_diagrams(folder, root=ws, only={name}, confine=ws)
            errors += result.failed.values()
    finally:
        swapper.kill()
        swapper.wait()
    return errors


def test_an_awsdac_source_swapped_for_a_link_after_the_check_is_never_read(
    env: dict[str, Path],
) -> None:
    """awsdac (outside the sandbox) was handed the source by name, the twin of the mmdc race
    below: a source swapped for a link to your key after the check had the key quoted in the
    error, which goes to the model. awsdac now gets a private copy read by descriptors."""
    ws, folder = env["ws"], env["ws"] / "docs" / "diagrams"
    _script(env["bin"] / "awsdac", 'echo "failed to parse:" >&2; cat "$1" >&2; exit 1\n')
    (folder / "flow.dac").write_text("Diagram:\n  Resources: {}\n")
    os.symlink(env["home"] / ".ssh" / "id_rsa", folder / "swap")
    errors = _errors_while_swapping(folder, ws, "flow.dac", "swap")
    leaked = [e for e in errors if "SECRET-KEY-MATERIAL" in e]
    assert leaked == [], (len(leaked), len(errors))
    assert any("Resources: {}" in e for e in errors)  # the real source was rendered (and quoted)


def test_an_awsdac_inside_the_workspace_is_never_started(
    env: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, folder = env["ws"], env["ws"] / "docs" / "diagrams"
    marker = env["home"] / "escaped"
    local = _script(ws / "bin" / "awsdac", f"touch {marker}\n")
    monkeypatch.setenv("PATH", f"{ws / 'bin'}{os.pathsep}{os.environ['PATH']}")
    (folder / "flow.dac").write_text("Diagram: {}\n")
    result = diagrams.render_diagrams(folder, root=ws, only={"flow.dac"}, confine=ws)
    assert not marker.exists()
    [missing] = result.missing
    assert missing.message() == (
        "awsdac not found (needed for flow.dac).\n"
        f"the only awsdac on PATH is inside the workspace ({local}), where the agent can "
        "change it, so a run does not start it: it would run outside the sandbox.\n"
        "Install it outside the workspace or put another folder first on PATH."
    )
    assert result.rendered == [] and result.failed == {}


def test_a_source_swapped_for_a_link_after_the_check_is_never_read(env: dict[str, Path]) -> None:
    """The source is checked to be a regular file, then mmdc (outside the sandbox) opened it by
    name: a source swapped for a link to your key in between had the key quoted in the parse
    error, which goes to the model (b139fd5). mmdc now gets a private copy read by descriptors."""
    ws, folder = env["ws"], env["ws"] / "docs" / "diagrams"
    (folder / "flow.mmd").write_text("graph TD\n  A-->\n")
    os.symlink(env["home"] / ".ssh" / "id_rsa", folder / "swap")
    errors = _errors_while_swapping(folder, ws, "flow.mmd", "swap")
    leaked = [e for e in errors if "SECRET-KEY-MATERIAL" in e]
    assert leaked == [], (len(leaked), len(errors))
    assert any("A-->" in e for e in errors)  # the real source was rendered (and quoted)


def test_a_source_swapped_for_a_fifo_never_blocks_the_render(env: dict[str, Path]) -> None:
    """The source's hash (is it fresh?) was taken by name with a blocking open: a FIFO swapped
    in after the check hung the render, and the run, for good. Every read is non-blocking now,
    and says what it found."""
    ws, folder = env["ws"], env["ws"] / "docs" / "diagrams"
    _script(env["bin"] / "mmdc", 'while [ "$1" != -o ]; do shift; done\nprintf PNG > "$2"\n')
    (folder / "flow.mmd").write_text("graph TD\n  A-->B\n")
    assert diagrams.render_diagrams(folder, root=ws, confine=ws).rendered == ["flow.mmd"]
    os.mkfifo(folder / "pipe")
    swapper = _swapping(folder, "flow.mmd", "pipe")
    errors: set[str] = set()
    try:
        for _ in range(300):  # each call returns (a blocking open never did)
            result = diagrams.render_diagrams(folder, root=ws, confine=ws)
            errors |= set(result.failed.values())
    finally:
        swapper.kill()
        swapper.wait()
    fifo = "it is a FIFO (named pipe), not a regular file"
    assert errors <= {f"not rendered: {fifo}", f"rendered, not recorded: {fifo}"}, errors


def test_a_manifest_that_is_a_fifo_never_blocks_the_render(env: dict[str, Path]) -> None:
    """.hashes.json was read by name with a blocking open: a FIFO planted there (by a cloned
    repository, or the agent) hung every render. It is read non-blocking, at most 4 MiB, and
    replaced by the render's own manifest."""
    ws, folder = env["ws"], env["ws"] / "docs" / "diagrams"
    _script(env["bin"] / "mmdc", 'while [ "$1" != -o ]; do shift; done\nprintf PNG > "$2"\n')
    (folder / "flow.mmd").write_text("graph TD\n  A-->B\n")
    os.mkfifo(folder / dio.MANIFEST)
    result = diagrams.render_diagrams(folder, root=ws, confine=ws)
    assert (result.rendered, result.failed) == (["flow.mmd"], {})
    assert stat.S_ISREG(os.lstat(folder / dio.MANIFEST).st_mode)
    assert dio.load_manifest(folder)["flow.mmd"]["output"] == "flow.png"
