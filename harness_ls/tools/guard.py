"""Integrity guard for the Landlock fallback: what a command changed in protected paths, undone.

Landlock can only grant access: writing new files at the workspace root needs a rule on the root,
and that rule covers `.git/` and `.harness/` beneath it. So in that mode the shell tool takes a
snapshot of the protected paths before the call and compares after it (bubblewrap mounts them
read-only instead; under it the guard only watches editor settings that do not exist yet —
`.vscode/`, `.nvim.lua`… — since a mount point would appear in the user's editor):

- **restored**: what makes git run programs or redirects it — `.git/config`, `config.worktree`,
  `hooks/`, `info/`, `commondir`, `gitdir`, `objects/info/alternates`, a `.git` *file*, the same
  inside `modules/` and `worktrees/` — all of `.harness/`, and the workspace's secret files
  (content, mode, symlinks, added or removed entries; a changed file's content comes from the
  snapshot);
- **reported only**: repository state (`HEAD`, `index`, `refs/`, `packed-refs`, `logs/`): your own
  git in another terminal may change it during the call, and rolling that back would lose your
  work. Object files are not watched at all (immutable, and too many to stat per call).

The call then fails with `protected_changed`, naming each path. What the call wrote there is
not lost (the user may have saved a setting meanwhile): each changed file is copied to a private
directory the message names before it is put back. The guard runs after every
process of the call is dead (the Landlock helper reaps them), so nothing races the restore, and it
never follows a symlink the command planted: changed entries are removed, then recreated.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field

MAX_FILE = 8 * 1024 * 1024  # larger protected files are reported, not restored
_STATE_NAMES = frozenset(
    {"HEAD", "ORIG_HEAD", "FETCH_HEAD", "MERGE_HEAD", "MERGE_MSG", "MERGE_MODE", "AUTO_MERGE",
     "COMMIT_EDITMSG", "REBASE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD", "BISECT_LOG", "index",
     "packed-refs", "shallow", "description"}
)  # fmt: skip
_STATE_DIRS = frozenset({"refs", "logs", "rebase-merge", "rebase-apply", "sequencer"})
_UNWATCHED = frozenset({"objects", "lfs", "logs"})  # only objects/info is watched in these
_CACHE_BYTES = 64 * 1024 * 1024
_cache: dict[str, tuple[tuple[int, ...], bytes]] = {}  # path -> (stat key, content)
_cached_bytes = 0


@dataclass(frozen=True)
class _Entry:
    kind: str  # "d" directory, "f" regular file, "l" symlink, "o" anything else
    mode: int
    size: int = 0
    mtime_ns: int = 0
    ctime_ns: int = 0
    ino: int = 0
    target: str = ""

    def same(self, other: _Entry | None) -> bool:
        if other is None or other.kind != self.kind or other.mode != self.mode:
            return False
        if self.kind == "d":
            return True  # a directory's own times change with its entries, compared one by one
        return self == other


@dataclass
class Outcome:
    restored: list[str] = field(default_factory=list)
    reported: list[str] = field(default_factory=list)  # changed, not rolled back
    lost: list[str] = field(default_factory=list)  # changed, but no copy to restore from
    kept: str = ""  # where the changed files were copied before they were undone

    def __bool__(self) -> bool:
        return bool(self.restored or self.reported or self.lost)

    def message(self) -> str:
        parts = []
        if self.restored:
            parts.append(f"restored {_names(self.restored)}")
        if self.lost:
            parts.append(f"could not restore {_names(self.lost)}")
        if self.reported:
            parts.append(f"changed git state {_names(self.reported)} (left as it is)")
        if self.kept:
            parts.append(f"what it wrote is kept in {self.kept}")
        return (
            "the command changed protected paths, which the sandbox keeps read-only: "
            + "; ".join(parts)
        )


def _names(paths: list[str], cap: int = 12) -> str:
    shown = ", ".join(paths[:cap])
    return shown + (f" and {len(paths) - cap} more" if len(paths) > cap else "")


def _entry(path: str) -> _Entry | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    mode = stat.S_IMODE(st.st_mode)
    if stat.S_ISDIR(st.st_mode):
        return _Entry("d", mode)
    if stat.S_ISLNK(st.st_mode):
        return _Entry("l", mode, target=os.readlink(path))
    kind = "f" if stat.S_ISREG(st.st_mode) else "o"
    return _Entry(kind, mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _is_state(rel_in_git: str) -> bool:
    parts = rel_in_git.split("/")
    if parts[-1] in _STATE_NAMES or parts[-1].startswith("sharedindex."):
        return True
    return any(p in _STATE_DIRS for p in parts)


class Guard:
    """Snapshot of the protected paths under `ws`; `check()` after the call compares and
    restores. `gits`: `.git` dirs/files and gitdirs inside the workspace; `others`: `.harness`
    and secret files, restored whole."""

    def __init__(self, ws: str, gits: list[str], others: list[str]) -> None:
        self.ws = ws
        self.roots = [(p, True) for p in gits] + [(p, False) for p in others]
        self.before: dict[str, _Entry] = {}
        self.data: dict[str, bytes] = {}
        self.git_of: dict[str, bool] = {}

    def take(self) -> Guard:
        self.before = self._walk()
        for path, e in self.before.items():
            if e.kind == "f" and e.size <= MAX_FILE:
                self.data[path] = _content(path, e)
        return self

    def _state(self, path: str) -> bool:
        for root, is_git in self.roots:
            if is_git and path != root and path.startswith(root + "/"):
                return _is_state(path[len(root) + 1 :])
        return False

    def _walk(self) -> dict[str, _Entry]:
        out: dict[str, _Entry] = {}
        for root, is_git in self.roots:
            e = _entry(root)
            if e is None:
                continue
            out[root] = e
            if e.kind != "d":
                continue
            _walk_dir(root, out, skip=_UNWATCHED if is_git else frozenset())
            info = f"{root}/objects/info"
            if is_git and os.path.isdir(info) and not os.path.islink(info):
                out[info] = _Entry("d", 0o755)
                _walk_dir(info, out, skip=frozenset())
        return out

    def check(self) -> Outcome:
        """Compare with the snapshot; restore what may be restored. Returns what changed."""
        now = self._walk()
        changed = sorted(p for p in {*self.before, *now} if not _same(self.before, now, p))
        out = Outcome()
        if not changed:
            return out
        changed = [p for p in changed if not p.endswith(".lock")]  # git's own, short-lived
        for path in changed:
            if self._state(path) and (path in now or path not in self.before):
                out.reported.append(self._rel(path))
        # git state is put back only where it was deleted: a change may be the user's own git
        fix = [p for p in changed if not self._state(p) or (p in self.before and p not in now)]
        out.kept = _keep(self.ws, [p for p in fix if p in now and now[p].kind == "f"])
        for path in sorted(fix, key=lambda p: p.count("/"), reverse=True):
            if path in now and not _parent_is_real(self.ws, path):
                continue
            if path in now and (path not in self.before or now[path].kind != "d"):
                _remove(path)
        for path in sorted(fix, key=lambda p: p.count("/")):
            if path not in self.before:
                out.restored.append(self._rel(path))  # an added entry, removed above
                continue
            if _recreate(self.ws, path, self.before[path], self.data.get(path)):
                out.restored.append(self._rel(path))
            else:
                out.lost.append(self._rel(path))
        return out

    def _rel(self, path: str) -> str:
        return os.path.relpath(path, self.ws)


def _same(before: dict[str, _Entry], now: dict[str, _Entry], path: str) -> bool:
    b, n = before.get(path), now.get(path)
    return b is not None and b.same(n)


def _walk_dir(top: str, out: dict[str, _Entry], skip: frozenset[str]) -> None:
    try:
        with os.scandir(top) as it:
            names = [e.name for e in it]
    except OSError:
        return
    for name in names:
        if name in skip:  # `skip` applies at the top of a `.git` only
            continue
        path = os.path.join(top, name)
        entry = _entry(path)
        if entry is None:
            continue
        out[path] = entry
        if entry.kind == "d":
            _walk_dir(path, out, skip=frozenset())


def _content(path: str, e: _Entry) -> bytes:
    """The file's bytes, from the cache while its stat key is unchanged."""
    key = (e.ino, e.size, e.mtime_ns, e.ctime_ns)
    hit = _cache.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(e.size + 1)
    except OSError:
        return b""
    global _cached_bytes
    old = _cache.pop(path, None)
    _cached_bytes -= len(old[1]) if old else 0
    while _cache and _cached_bytes + len(data) > _CACHE_BYTES:
        _cached_bytes -= len(_cache.pop(next(iter(_cache)))[1])
    _cache[path] = (key, data)
    _cached_bytes += len(data)
    return data


def _parent_is_real(ws: str, path: str) -> bool:
    """Every directory between the workspace and `path` is a real directory, not a symlink."""
    rel = os.path.relpath(os.path.dirname(path), ws)
    cur = ws
    for part in [] if rel == "." else rel.split("/"):
        cur = os.path.join(cur, part)
        try:
            if not stat.S_ISDIR(os.lstat(cur).st_mode):
                return False
        except OSError:
            return False
    return True


def _keep(ws: str, files: list[str]) -> str:
    """Copy regular files about to be undone into a new private directory (their paths kept
    relative to the workspace); returns it, or "" when there was nothing to keep."""
    if not files:
        return ""
    keep = tempfile.mkdtemp(prefix="harness-kept-")  # 0700
    for path in files:
        dest = os.path.join(keep, os.path.relpath(path, ws))
        try:
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
            with os.fdopen(fd, "rb") as src, open(dest, "wb") as out:
                out.write(src.read(MAX_FILE))  # a bigger file is kept cut at MAX_FILE
        except OSError:
            continue
    return keep


def _remove(path: str) -> None:
    try:
        if stat.S_ISDIR(os.lstat(path).st_mode):
            shutil.rmtree(path, ignore_errors=True)  # never follows symlinks inside
        else:
            os.unlink(path)
    except OSError:
        pass


def _recreate(ws: str, path: str, e: _Entry, data: bytes | None) -> bool:
    """Put `e` back at `path` (whatever is there now was removed, or is the same directory)."""
    if not _parent_is_real(ws, path):
        return False
    try:
        if e.kind == "d":
            if not os.path.isdir(path) or os.path.islink(path):
                _remove(path)
                os.mkdir(path)
            os.chmod(path, e.mode)
            return True
        if os.path.lexists(path):
            _remove(path)
        if e.kind == "l":
            os.symlink(e.target, path)
            return True
        if e.kind != "f" or data is None or len(data) != e.size:
            return False
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     e.mode)  # fmt: skip
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(path, e.mode)
        os.utime(path, ns=(e.mtime_ns, e.mtime_ns), follow_symlinks=False)
        return True
    except OSError:
        return False
