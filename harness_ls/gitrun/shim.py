"""git reads a workspace repository's objects, refs and index, but never its config.

A repository's config (`.git/config`, every file it includes, `config.worktree`) can name
programs that ordinary read commands run: `core.fsmonitor`, hooks, pagers, `diff.external`,
and drivers of any name a `.gitattributes` picks — `filter.<name>.clean/smudge/process`,
`diff.<name>.textconv/command`. No list of `-c` overrides covers names it cannot know, and a
config read first to learn them could change before git reads it again. So every git process
on a workspace repository gets GIT_COMMON_DIR = a private directory of ours, where `config`
is written by us (data settings only, copied from the real one: repository and object format,
file mode, case, symlink and line-ending handling) and objects, refs, packed-refs, info,
logs, shallow and worktrees are symlinks to the real ones; HEAD and the index are read from
the real git dir (--git-dir). git follows the links for reads and, through its lock files, for
writes (a ref deleted through the shim is deleted from the real packed-refs).
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import re
import shutil
import stat
import subprocess
import tempfile
import threading
from pathlib import Path

from harness_ls.gitrun.env import git_binary, safe_env
from harness_ls.private import private_dir, write_private

LINKED = ("objects", "refs", "packed-refs", "info", "logs", "shallow", "worktrees")
# Settings that change what git reads or considers modified, and run nothing.
DATA_KEYS = frozenset({
    "core.repositoryformatversion", "core.filemode", "core.ignorecase", "core.symlinks",
    "core.precomposeunicode", "core.autocrlf", "core.eol", "core.safecrlf", "core.checkstat",
    "core.trustctime", "core.sparsecheckout", "core.sparsecheckoutcone", "index.sparse",
    "extensions.objectformat", "extensions.preciousobjects",
})  # fmt: skip
_VALUE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")

_LOCK = threading.Lock()
_ROOT: list[Path] = []
_STAMPS: dict[Path, tuple[object, ...]] = {}


def _root() -> Path:
    """The shim directory: one per user under the temp dir (0700, ours, not a link: checked,
    since another local user could create it first), shared by this user's processes so a killed
    process leaves nothing new behind; a private one of this process's otherwise."""
    if _ROOT and _ROOT[0].is_dir():
        return _ROOT[0]
    shared = Path(tempfile.gettempdir()) / f"harness-ls-git-{os.geteuid()}"
    try:
        shared.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError:
        shared = None  # type: ignore[assignment]
    root = shared if shared is not None and _private(shared) else None
    if root is None:
        root = Path(tempfile.mkdtemp(prefix="harness-ls-git-"))
        atexit.register(shutil.rmtree, root, True)
    _ROOT[:] = [root]
    _STAMPS.clear()
    _prune(root)
    return root


def _prune(root: Path) -> None:
    """Drop the shims of repositories that are gone (their `objects` link dangles), once per
    process, so the shared directory does not grow with every repository ever seen."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(root):
            link = os.path.join(entry.path, "objects")
            if (
                entry.is_dir(follow_symlinks=False)
                and os.path.islink(link)
                and not os.path.exists(link)
            ):
                shutil.rmtree(entry.path, ignore_errors=True)


def _private(path: Path) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o077


def _stamp(path: Path) -> tuple[object, ...]:
    try:
        st = os.stat(path)
    except OSError:
        return (None,)
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns)


def config_shim(common_dir: Path) -> Path:
    """The GIT_COMMON_DIR to hand git for the repository whose common dir is `common_dir`;
    its config is re-derived whenever the real one changes."""
    real_config = common_dir / "config"
    stamp = (_stamp(real_config), str(common_dir))
    with _LOCK:
        shim = _root() / hashlib.sha256(os.fsencode(common_dir)).hexdigest()[:24]
        if _STAMPS.get(shim) == stamp and (shim / "config").is_file():
            return shim
        private_dir(shim)
        for name in LINKED:
            link = shim / name
            if not os.path.islink(link):
                with contextlib.suppress(FileExistsError):  # another process made it meanwhile
                    os.symlink(common_dir / name, link)  # dangling is fine: "none yet" to git
        write_private(shim / "config", _config_text(_data_settings(real_config, shim)))
        _STAMPS[shim] = stamp
        return shim


def _data_settings(config: Path, cwd: Path) -> dict[str, str]:
    """The DATA_KEYS set in `config` itself (its includes are not followed), read by git's own
    parser (`git config --file`, which runs nothing), with values that are plain words."""
    if not config.is_file():
        return {}
    env = safe_env(cwd)
    env["GIT_DIR"] = "/dev/null"  # no repository: nothing to discover, nothing else read
    try:
        proc = subprocess.run(
            [git_binary(), "config", "--file", str(config), "--no-includes", "--list", "-z"],
            env=env, cwd=cwd, capture_output=True, timeout=10, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return {}
    out: dict[str, str] = {}
    for item in proc.stdout.decode(errors="replace").split("\0"):
        key, nl, value = item.partition("\n")
        if key in DATA_KEYS:
            value = value if nl else "true"  # a bare `key` line means true
            if _VALUE.match(value):
                out[key] = value
    return out


def _config_text(settings: dict[str, str]) -> bytes:
    sections: dict[str, list[str]] = {"core": [], "extensions": [], "index": []}
    settings = {"core.repositoryformatversion": "0", **settings, "core.bare": "false"}
    for key, value in settings.items():
        section, _, name = key.partition(".")
        sections[section].append(f"\t{name} = {value}\n")
    text = "# written by harness-ls: data settings of the real config, no programs\n"
    for section, lines in sections.items():
        if lines:
            text += f"[{section}]\n" + "".join(lines)
    return text.encode()
