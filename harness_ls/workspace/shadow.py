"""A shadow git repository per workspace, under the data dir, for snapshots of the work tree.

`git --git-dir=<data>/checkpoints/<key>.git --work-tree=<workspace>` with a private index per
run: the user's repository (branch, HEAD, index, stash, refs, reflog, objects) is never read
for writing, and a workspace that is not a git repository can be snapshotted too. Untracked
files are included; `.gitignore`d files (and the user's `.git/info/exclude`) are left out —
except a write/edit call's own target, which is taken (`force`) and followed from then on — as
are files bigger than `max_file_bytes` (reported, never hashed). The index persists between
snapshots, so a warm snapshot only stats the tree (git's index cache) instead of re-hashing it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from harness_ls.errors import InvalidInput
from harness_ls.gitrun import own_git, repo_at, standalone
from harness_ls.private import private_dir, write_private
from harness_ls.workspace.git import IDENTITY, Repo, git_failure

GITLINK = "160000"
ZERO = "0" * 40
_OID = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_REF = re.compile(r"refs/harness(?:-pin)?(?:/[A-Za-z0-9_][A-Za-z0-9_.-]*)*")


def object_id(value: object, what: str = "object id") -> str:
    """`value` when it is a full hex object id; InvalidInput otherwise. Tree ids come from event
    logs, which a remote worker writes into: `--output=~/.bashrc` as a "tree" made `diff-tree`
    truncate that file, `-p`/`--help` would be options too."""
    if not isinstance(value, str) or not _OID.fullmatch(value):
        raise InvalidInput(f"{what} {str(value)[:80]!r} is not a git object id")
    return value


class Entry(BaseModel):
    """One path that differs between two snapshots (None: absent on that side)."""

    path: str
    before: str | None
    after: str | None
    before_mode: str | None
    after_mode: str | None


def shadow_dir(data_dir: str | os.PathLike[str], workspace: str | os.PathLike[str]) -> Path:
    """Where the shadow repository of a workspace lives (one per real path)."""
    real = os.path.realpath(workspace)
    key = hashlib.sha256(real.encode()).hexdigest()[:16]
    return (
        Path(data_dir).expanduser() / "checkpoints" / f"{Path(real).name[:40] or 'root'}-{key}.git"
    )


@dataclass(frozen=True)
class Shadow:
    git_dir: Path
    root: Path

    def run(
        self,
        *args: str,
        index: str | None = None,
        env: dict[str, str] | None = None,
        input: bytes | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[bytes]:
        proc = own_git(self.git_dir, self.root).run(*args, env=self._env(index, env), input=input)
        if check and proc.returncode != 0:
            fake = Repo(self.root, self.git_dir, self.git_dir, self.git_dir / "index")
            raise git_failure(fake, args, proc.stderr.decode(errors="replace"))
        return proc

    def run_both(
        self,
        a: tuple[str, ...],
        b: tuple[str, ...],
        *more: tuple[str, ...],
        index: str | None = None,
    ) -> tuple[bytes, ...]:
        """The stdout of read-only git commands run at the same time (one walk each, on two
        cores); a failure of any raises like `run`."""
        git, env = own_git(self.git_dir, self.root), self._env(index, None)
        procs = [git.popen(*args, env=env) for args in (a, b, *more)]
        outs = [p.communicate() for p in procs]  # the first never waits on the second
        for args, p, (_out, err) in zip((a, b, *more), procs, outs, strict=True):
            if p.returncode != 0:
                fake = Repo(self.root, self.git_dir, self.git_dir, self.git_dir / "index")
                raise git_failure(fake, args, err.decode(errors="replace"))
        return tuple(out for out, _err in outs)

    def _env(self, index: str | None, env: dict[str, str] | None) -> dict[str, str]:
        full = {"GIT_LITERAL_PATHSPECS": "1"}
        if index:
            full["GIT_INDEX_FILE"] = str(self.index_path(index))
        return {**full, **(env or {})}

    def out(self, *args: str, index: str | None = None, input: bytes | None = None) -> str:
        return (
            self.run(*args, index=index, input=input)
            .stdout.decode(errors="surrogateescape")
            .strip()
        )

    def index_path(self, name: str) -> Path:
        return self.git_dir / "indexes" / name

    def commit(self, tree: str, message: str, ref: str, parent: str | None = None) -> str:
        """A commit of `tree` on `ref` in the shadow repo (keeps its objects reachable)."""
        parents = ["-p", object_id(parent, "parent")] if parent else []
        if not _REF.fullmatch(ref) or ".." in ref or ref.endswith((".", ".lock")):
            raise InvalidInput(f"ref {ref[:80]!r} is not a harness ref (refs/harness/<run>/<name>)")
        commit = self.run(
            "-c", "commit.gpgSign=false", "commit-tree", object_id(tree, "tree"), *parents, "-F", "-",
            env=IDENTITY, input=message.encode(),
        ).stdout.decode().strip()  # fmt: skip
        self.run("update-ref", ref, commit)
        return commit

    def sizes(self, shas: list[str]) -> list[int]:
        """Each object's size in bytes (-1: missing), from one `cat-file --batch-check`."""
        if not shas:
            return []
        req = "".join(object_id(s) + "\n" for s in shas).encode()
        raw = self.run("cat-file", "--batch-check=%(objectsize)", input=req).stdout.decode()
        return [int(x) if x.isdigit() else -1 for x in raw.splitlines()]

    def blobs(self, items: list[tuple[str, str]]) -> list[bytes]:
        """Blob contents as they belong in the work tree (smudge/eol applied), in one call."""
        if not items:
            return []
        req = "".join(f"{sha} {path}\n" for sha, path in items).encode()
        raw = self.run("cat-file", "--batch", "--filters", input=req).stdout
        out, pos = [], 0
        for _ in items:
            nl = raw.index(b"\n", pos)
            head = raw[pos:nl].split()
            if len(head) < 3 or head[1] == b"missing":
                raise InvalidInput(
                    f"snapshot object {head[0].decode()} is missing from {self.git_dir}",
                    hint="the shadow repository was removed or pruned; the run cannot be reverted",
                )
            size = int(head[2])
            out.append(raw[nl + 1 : nl + 1 + size])
            pos = nl + 1 + size + 1
        return out

    def changes(self, a: str, b: str) -> list[Entry]:
        """Paths that differ between two trees, with blob ids and modes."""
        if a == b:
            return []
        a, b = object_id(a, "tree"), object_id(b, "tree")
        raw = self.run("diff-tree", "-r", "-z", "--no-renames", a, b).stdout
        return _entries(raw, 0, len(raw))[0]

    def changes_many(self, pairs: list[tuple[str, str]]) -> list[list[Entry]]:
        """`changes` of many tree pairs in one `diff-tree --stdin` (a run's user intervals)."""
        todo = [(object_id(a, "tree"), object_id(b, "tree")) for a, b in pairs if a != b]
        found: dict[tuple[str, str], list[Entry]] = {}
        if todo:
            req = "".join(f"{a} {b}\n" for a, b in todo).encode()
            raw = self.run("diff-tree", "-r", "-z", "--no-renames", "--stdin", input=req).stdout
            pos = 0
            for key in todo:  # each pair: its "<a> <b>\n" header, then its records
                nl = raw.index(b"\n", pos)
                found[key], pos = _entries(raw, nl + 1, len(raw))
        return [found.get((a, b), []) for a, b in pairs]


def _entries(raw: bytes, pos: int, end: int) -> tuple[list[Entry], int]:
    """`diff-tree -r -z` records from `pos` up to the next non-record (a `--stdin` header):
    the entries and where they stop."""
    out: list[Entry] = []
    while pos < end and raw[pos : pos + 1] == b":":
        meta_end = raw.index(b"\0", pos)
        path_end = raw.index(b"\0", meta_end + 1)
        a_mode, b_mode, a_sha, b_sha, _status = raw[pos + 1 : meta_end].decode().split(" ")
        out.append(
            Entry(
                path=os.fsdecode(raw[meta_end + 1 : path_end]),
                before=None if a_sha == ZERO else a_sha,
                after=None if b_sha == ZERO else b_sha,
                before_mode=None if a_mode == "000000" else a_mode,
                after_mode=None if b_mode == "000000" else b_mode,
            )
        )
        pos = path_end + 1
    return out, pos


def _user_excludes(root: Path) -> str:
    """The user's `.git/info/exclude` (when the workspace is a git repository's root), else "";
    the repository as harness_ls.gitrun finds it (a `.git` leading back into the workspace is
    not one)."""
    loc = repo_at(root)
    if loc is None:
        return ""
    try:
        return (loc.common_dir / "info" / "exclude").read_text(errors="replace")
    except OSError:
        return ""


def open_shadow(data_dir: str | os.PathLike[str], workspace: str | os.PathLike[str]) -> Shadow:
    """The workspace's shadow repository, created on first use."""
    ws = Path(workspace).expanduser()
    if not ws.is_dir():
        raise InvalidInput(
            f"workspace {ws} is not a directory", hint="pass an existing project directory"
        )
    root = Path(os.path.realpath(ws))
    git_dir = shadow_dir(data_dir, root)
    shadow = Shadow(git_dir, root)
    if not (git_dir / "HEAD").exists():
        private_dir(git_dir.parent)
        tmp = git_dir.with_name(git_dir.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        # --shared=0600: git creates every file owner-only whatever the umask (the
        # snapshots hold the workspace's code; the data dir is private, see private.py)
        proc = standalone().run("init", "-q", "--bare", "--shared=0600", str(tmp))
        if proc.returncode != 0:
            raise InvalidInput(
                f"cannot create the checkpoint repository {git_dir}: "
                f"{proc.stderr.decode(errors='replace').strip()}",
                hint="check that the data dir (HARNESS_DATA_DIR) is writable",
            )
        for key, value in (
            ("core.bare", "false"), ("gc.auto", "0"), ("core.autocrlf", "false"),
            ("core.fsmonitor", "false"), ("core.untrackedCache", "true"),
            ("core.logAllRefUpdates", "false"), ("maintenance.auto", "false"),
            ("index.version", "4"),
        ):  # fmt: skip
            own_git(tmp).run("config", key, value)
        private_dir(tmp / "indexes")
        write_private(tmp / "workspace", (str(root) + "\n").encode())
        try:
            os.rename(tmp, git_dir)
        except OSError:  # another process created it first
            shutil.rmtree(tmp, ignore_errors=True)
    _sync_excludes(shadow, data_dir)
    return shadow


def _sync_excludes(shadow: Shadow, data_dir: str | os.PathLike[str]) -> None:
    """info/exclude = the user's excludes + the data dir when it lies inside the workspace."""
    text = _user_excludes(shadow.root)
    data = os.path.realpath(data_dir)
    if os.path.commonpath([data, str(shadow.root)]) == str(shadow.root) and data != str(
        shadow.root
    ):
        text += f"\n/{os.path.relpath(data, shadow.root)}/\n"
    path = shadow.git_dir / "info" / "exclude"
    try:
        if path.read_text(errors="replace") == text:
            return
    except OSError:
        pass
    private_dir(path.parent)
    write_private(path, text.encode())
