"""Which files of a workspace the map may show: tracked or unignored, not vendored, bounded.

In a git work tree the list comes from `git ls-files -co --exclude-standard` (so .gitignore,
.git/info/exclude and the global excludes all apply); elsewhere from a walk that never follows
symlinked directories (no loops) and skips the usual vendored/generated folders. Both stop at a
file cap and a deadline and say so in a note rather than hanging on a 50k-file tree.
"""

from __future__ import annotations

import os
import stat
import subprocess
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from harness_ls.errors import HarnessError
from harness_ls.gitrun import workspace_git
from harness_ls.private import data_dir_rel
from harness_ls.tools.secretfiles import is_secret_path

MAX_FILES = 20_000
MAX_FILE_BYTES = 512 * 1024
LIST_TIMEOUT_S = 10.0

SKIP_DIRS = frozenset(
    """.git .hg .svn node_modules vendor third_party third-party bower_components .venv venv env
    __pycache__ .mypy_cache .pytest_cache .ruff_cache .tox .nox dist build target out .next .nuxt
    .gradle .idea .vscode site-packages .cache coverage htmlcov .terraform Pods""".split()
)
SKIP_NAMES = frozenset(
    """package-lock.json yarn.lock pnpm-lock.yaml poetry.lock Cargo.lock Gemfile.lock go.sum
    composer.lock uv.lock Pipfile.lock""".split()
)
BINARY_EXT = frozenset(
    """.png .jpg .jpeg .gif .bmp .ico .webp .svgz .pdf .zip .gz .tgz .bz2 .xz .7z .rar .tar .jar
    .war .class .so .dylib .dll .exe .o .a .lib .obj .pyc .pyo .whl .egg .bin .dat .db .sqlite
    .sqlite3 .woff .woff2 .ttf .otf .eot .mp3 .mp4 .wav .ogg .flac .mov .avi .mkv .webm .psd
    .parquet .npy .npz .pkl .pickle .pt .onnx .h5 .vsix .iso .dmg .deb .rpm .wasm""".split()
)


class SourceFile(NamedTuple):
    """One listed file (a tuple: a listing makes thousands, every build)."""

    rel: str  # POSIX path relative to the workspace
    size: int
    mtime_ns: int


@dataclass
class FileListing:
    files: list[SourceFile] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)  # reason -> example paths
    notes: list[str] = field(default_factory=list)
    is_git: bool = False

    def skip(self, reason: str, rel: str) -> None:
        bucket = self.skipped.setdefault(reason, [])
        bucket.append(rel)


def _vendored(rel: str) -> bool:
    parts = rel.split("/")
    return any(p in SKIP_DIRS for p in parts[:-1]) or parts[-1] in SKIP_NAMES


def _secret_file(rel: str) -> bool:
    """Files that may hold credentials never reach a model's context: the one list every other
    layer uses (tools/secretfiles.py) — a list of its own here let `.envrc`, `credentials`,
    `.git-credentials`, `.pgpass` and `prod.env` into the map and their lines into the excerpts."""
    return is_secret_path(rel)


def _extra_secrets(root: Path, data_dir: Path | None) -> tuple[str, ...]:
    """The `secret_files` patterns of your and the workspace's policy (a pattern only narrows),
    so a file you declared secret is kept from the map as the tools keep it from the model."""
    from harness_ls.tools.sandbox import secret_patterns

    try:
        return secret_patterns(root, data_dir)
    except (OSError, ValueError, HarnessError):
        return ()


@lru_cache(maxsize=1 << 16)
def _path_skip(rel: str) -> str:
    """Why a path is never mapped, from its name alone ("" if it may be): cached, as a daemon
    lists the same paths on every build and these checks cost a fifth of the listing."""
    if _vendored(rel):
        return "vendored or lock file"
    if _secret_file(rel):
        return "secrets file"
    dot = rel.rfind(".")
    if dot > rel.rfind("/") and rel[dot:].lower() in BINARY_EXT:
        return "binary"
    return ""


def _git_paths(root: Path, deadline: float) -> list[str] | None:
    """Paths git would show (tracked + untracked-unignored), or None when not a git work tree
    (as harness_ls.gitrun finds repositories: its git never runs the repository's config)."""
    try:
        out = workspace_git(root).run(
            "ls-files", "-co", "--exclude-standard", "-z",
            timeout=max(1.0, deadline - time.monotonic()),
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired, HarnessError):
        return None
    if out.returncode != 0:
        return None
    paths = set(os.fsdecode(out.stdout).split("\0"))  # NUL never ends a multi-byte character
    paths.discard("")
    return sorted(paths)


def _walk_paths(root: Path, listing: FileListing, deadline: float) -> list[str]:
    """A bounded walk that never follows symlinked dirs (so loops cannot hang it)."""
    out: list[str] = []
    stack = [""]
    while stack:
        if time.monotonic() > deadline or len(out) > MAX_FILES * 2:
            listing.notes.append("file listing stopped early (time or file cap reached)")
            break
        rel_dir = stack.pop()
        try:
            with os.scandir(root / rel_dir if rel_dir else root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIP_DIRS and not entry.name.startswith("."):
                        stack.append(rel)
                else:
                    out.append(rel)
            except OSError:
                continue
    return out


def list_files(
    root: Path,
    *,
    max_files: int = MAX_FILES,
    time_limit: float = LIST_TIMEOUT_S,
    data_dir: Path | None = None,
) -> FileListing:
    """Files to map under `root`, stat'ed, with vendored/binary/huge/symlinked ones skipped,
    and nothing of the data dir when `root` holds it (other runs' logs: other projects' code;
    `git ls-files -co` lists it when it is neither tracked nor ignored)."""
    deadline = time.monotonic() + time_limit
    listing = FileListing()
    paths = _git_paths(root, deadline)
    listing.is_git = paths is not None
    if paths is None:
        paths = _walk_paths(root, listing, deadline)
    if (hidden := data_dir_rel(root, data_dir)) is not None:
        paths = [p for p in paths if hidden != "." and not (p + "/").startswith(hidden + "/")]
    extra = _extra_secrets(root, data_dir)
    prefix = str(root) + os.sep  # plain strings: pathlib joins cost more than the lstat
    append = listing.files.append
    for rel in paths:
        if len(listing.files) >= max_files:
            listing.notes.append(
                f"repository has more files than the cap ({max_files}); the rest are not mapped"
            )
            break
        reason = _path_skip(rel) or (extra and is_secret_path(rel, extra) and "secrets file")
        if reason:
            listing.skip(reason, rel)
            continue
        try:
            st = os.lstat(prefix + rel)
        except OSError:
            continue  # deleted since listing, or unreadable
        if stat.S_ISLNK(st.st_mode):
            listing.skip("symlink", rel)
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        if st.st_size > MAX_FILE_BYTES:
            listing.skip(f"huge (> {MAX_FILE_BYTES // 1024} KB)", rel)
            continue
        append(SourceFile(rel, st.st_size, st.st_mtime_ns))
        if time.monotonic() > deadline:
            listing.notes.append("file listing stopped early (time limit reached)")
            break
    return listing
