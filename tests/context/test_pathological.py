"""Bad input is skipped or bounded with a note: never a hang, never a crash."""

from __future__ import annotations

import os

import pytest

from harness_ls.context import build_context
from harness_ls.context import cache as ctx_cache
from harness_ls.context.files import MAX_FILE_BYTES

BAD = {
    "src/ok.py": "def fine_function():\n    return 1\n",
    "src/huge.py": "x = 1\n" * (MAX_FILE_BYTES // 6 + 10),
    "static/app.js": "var a=function(){return 1};" * 400,
    "src/latin.py": "# caf\xe9\ndef latin_function():\n    pass\n".encode("latin-1"),
    "assets/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00binary",
    "data/blob.txt": b"text\x00with\x00nul",
    "node_modules/dep/index.js": "function vendored() {}\n",
    "package-lock.json": "{}\n",
}


@pytest.mark.parametrize("use_git", [True, False])
def test_bad_files_are_skipped_with_notes(repo, data_dir, use_git):
    root = repo(BAD, use_git=use_git)
    res = build_context(root, "fine_function and latin_function", 4000, data_dir=data_dir)
    notes = "\n".join(res.notes)
    assert "src/ok.py" in res.files and "src/latin.py" in res.files
    for skipped in (
        "src/huge.py",
        "static/app.js",
        "assets/logo.png",
        "data/blob.txt",
        "node_modules/dep/index.js",
        "package-lock.json",
    ):
        assert skipped not in res.files
    assert "huge" in notes and "minified" in notes and "not valid UTF-8" in notes
    assert res.tokens <= 4000


def test_gitignored_files_are_not_mapped(repo, data_dir):
    root = repo(
        {
            ".gitignore": "generated/\n",
            "generated/out.py": "def gen():\n    pass\n",
            "main.py": "def main():\n    pass\n",
        }
    )
    (root / "untracked_new.py").write_text("def fresh():\n    pass\n")
    res = build_context(root, "", 1000, data_dir=data_dir)
    assert "generated/out.py" not in res.files
    assert {"main.py", "untracked_new.py"} <= set(res.files)


@pytest.mark.timeout(30)
def test_symlink_loops_do_not_hang(repo, data_dir):
    root = repo({"a/mod.py": "def looped():\n    pass\n"}, use_git=False)
    os.symlink("..", root / "a" / "loop")
    os.symlink(root, root / "a" / "root_link")
    os.symlink("missing_target", root / "dangling.py")
    res = build_context(root, "looped", 1000, data_dir=data_dir)
    assert res.files == ["a/mod.py"]


@pytest.mark.timeout(60)
def test_file_cap_bounds_a_large_repo_with_a_note(repo, data_dir):
    files = {f"d{i % 20}/f{i}.py": f"def f{i}():\n    pass\n" for i in range(1500)}
    root = repo(files, use_git=False)
    res = build_context(root, "", 2000, data_dir=data_dir, max_files=500)
    assert res.stats["files_indexed"] == 500
    assert any("cap" in n for n in res.notes) and res.tokens <= 2000


def test_tag_time_limit_bounds_a_cold_build(repo, data_dir, monkeypatch):
    root = repo({f"f{i}.py": f"def f{i}():\n    pass\n" for i in range(30)})
    monkeypatch.setattr(ctx_cache, "TAG_TIME_LIMIT_S", 0.0)
    res = build_context(root, "", 1000, data_dir=data_dir)
    assert any("time limit" in n for n in res.notes) and res.tokens <= 1000


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("HARNESS_LONG"), reason="long variant: HARNESS_LONG=1")
@pytest.mark.timeout(300)
def test_fifty_thousand_files_are_bounded(tmp_path, data_dir):
    root = tmp_path / "big"
    for i in range(50_000):
        d = root / f"d{i % 500}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"m{i}.py").write_text(f"def fn_{i}():\n    return {i}\n")
    res = build_context(root, "fn_123", 8000, data_dir=data_dir)
    assert res.stats["files_indexed"] <= 20_000 and any("cap" in n for n in res.notes)
    assert res.tokens <= 8000


def test_secret_files_are_never_mapped(tmp_path):
    from harness_ls.context.files import _secret_file

    assert (
        _secret_file(".env") and _secret_file("app/.env.local") and _secret_file("keys/server.pem")
    )
    assert not _secret_file(".env.example") and not _secret_file("src/env.py")
