"""Protected paths, reached directly or by indirection: symlinks, globs, braces, implicit writes.

`.harness/` (the settings the agent obeys), any `.git/` (git metadata: config and hooks run code)
and `.env*` are protected; so is the data dir. A text check on the written path is not enough:
`h/policy.toml` with `h -> .harness`, `cp x .gi?/config`, `sed -i … .g*/config` and
`git config core.fsmonitor …` all reach them. Paths are resolved through symlinks inside the
workspace, globs and braces are expanded against it (and matched against the protected names, for
files that do not exist yet), and commands that write git metadata without naming it are listed.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any

from harness_ls.tools.braces import MAX_EXPANSIONS, expand_braces
from harness_ls.tools.secretfiles import is_secret_path

GLOB_CHARS = frozenset("*?[")
SECRET_READ = "reads the secret file"  # marks a path problem that is a secret read
ENV_REASON = "an environment file that may hold secrets"
SECRET_FILE = "a secret file (keys, credentials, tokens)"
MAX_LISTING = 256  # a directory larger than this is not listed; its names are lstat-ed one by one
MAX_WALK = 20_000  # entries a recursive reader's tree is checked for secret files
_PROBES = (".git", ".harness", ".env", ".env.local", ".envrc", ".vscode")
# Editor settings an editor applies outside the sandbox with no prompt of its own (interpreter
# and server paths, tasks, terminal environments): read-only to the agent like `.git/config`.
EDITOR_DIRS = (".vscode", ".idea", ".zed", ".helix")
EDITOR_FILES = (".nvim.lua", ".nvimrc", ".exrc", ".dir-locals.el")
EDITOR_REASON = "editor settings: your editor runs the programs they name, outside the sandbox"
_MARKERS = re.compile(r"\.(?:harness|env|git|vscode|idea|zed|helix|nvim|exrc|dir-locals)", re.I)
_EXTGLOB = re.compile(r"[?*+@!]\(")


def protected_reason(rel: str) -> str | None:
    """Why a workspace-relative path is protected from the agent, or None (lexical)."""
    if _MARKERS.search(rel) is None:
        return None
    parts = [p for p in rel.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts:
        return None
    if parts[0] == ".harness":
        return "the harness settings the agent obeys"
    if any(p.lower() == ".git" for p in parts):
        return "git metadata"
    if parts[-1].startswith(".env"):
        return ENV_REASON
    if parts[0] in EDITOR_DIRS or (len(parts) == 1 and parts[0] in EDITOR_FILES):
        return EDITOR_REASON
    return None


def secret_reason(rel: str) -> str | None:
    """Why reading a workspace-relative path may reveal a secret, or None: the secret-file
    patterns the sandbox masks (tools/secretfiles.py), so the text and the mounts agree."""
    if protected_reason(rel) == ENV_REASON:
        return ENV_REASON
    return SECRET_FILE if is_secret_path(rel) else None


def protected_abs(real: str, data_dir: Path | str | None) -> str | None:
    """Why an absolute (resolved) path is protected: the data dir holds runs, trust and policy."""
    if data_dir is None:
        return None
    root = real_path(str(data_dir))
    if real == root or real.startswith(root + os.sep):
        return "the harness data dir (runs, trust store and your policy)"
    return None


@lru_cache(maxsize=64)
def real_path(path: str) -> str:
    return os.path.realpath(path)


_LINKS: ContextVar[dict[str, Any] | None] = ContextVar("harness_links", default=None)


@contextmanager
def stat_cache() -> Iterator[None]:
    """Within one decision, each path is lstat-ed once (a command names `src/…` many times)."""
    token = _LINKS.set({})
    try:
        yield
    finally:
        _LINKS.reset(token)


def _is_link(path: str) -> bool | None:
    """Whether `path` is a symlink (None: it does not exist). Within a decision a directory is
    listed once (small ones) instead of one lstat per name looked up in it."""
    cache = _LINKS.get()
    if cache is None:
        return _lstat_link(path)
    if path in cache:
        return cache[path]
    parent, _, name = path.rpartition(os.sep)
    listing = cache.get(f"\2{parent}")
    if listing is None:
        listing = cache[f"\2{parent}"] = _listing(parent)
    found = _lstat_link(path) if listing is False else listing.get(name)
    cache[path] = found
    return found


def _listing(directory: str) -> dict[str, bool] | bool:
    """name -> is a symlink, for a directory of at most MAX_LISTING entries; False when it is
    larger (or unreadable: then each name is lstat-ed)."""
    out: dict[str, bool] = {}
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if len(out) >= MAX_LISTING:
                    return False
                out[entry.name] = entry.is_symlink()
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return False
    return out


def _lstat_link(path: str) -> bool | None:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except (OSError, ValueError):
        return None


def _memo(key: str, compute: Callable[[str, str], Any], root: str, value: str) -> Any:
    """`compute(root, value)`, remembered under `key` for the rest of this decision
    (stat_cache), so a path a command names many times is resolved once."""
    cache = _LINKS.get()
    if cache is None:
        return compute(root, value)
    if key not in cache:
        cache[key] = compute(root, value)
    return cache[key]


def resolve_in(root: str, value: str) -> str:
    """The real path `value` names (relative to the resolved workspace `root`), stat-ing only the
    components below the workspace: a symlink there means a full realpath."""
    cache = _LINKS.get()  # _memo, inlined: this runs for every path word of every command
    if cache is None:
        return _resolve(root, value)
    key = f"\0{root}\0{value}"
    real = cache.get(key)  # never None once computed: _resolve always returns a path
    if real is None:
        real = cache[key] = _resolve(root, value)
    return real


def _resolve(root: str, value: str) -> str:
    if "\x00" in value:  # no such path can exist; the file tools refuse it by name
        return os.path.normpath(os.path.join(root, value.replace("\x00", "")))
    parts = value.split("/")
    if ".." in parts:
        return os.path.realpath(os.path.join(root, value))
    if value and value[0] != "/" and "" not in parts and "." not in parts:
        joined = f"{root}/{value}"  # already normal: no join/normpath needed; inside the root,
        comps = parts  # and its components below the root are the value's own
    else:
        joined = os.path.normpath(os.path.join(root, value))
        if joined != root and not joined.startswith(root + os.sep):
            return joined  # lexically outside: treated as outside, whatever links it goes through
        comps = joined[len(root) + 1 :].split(os.sep) if joined != root else []
    cur = root
    for comp in comps:
        cur = f"{cur}{os.sep}{comp}"
        link = _is_link(cur)
        if link:
            return os.path.realpath(joined)
        if link is None:
            return joined  # does not exist (yet): nothing below can be a link
    return joined


def inside(root: str, real: str) -> bool:
    return real == root or real.startswith(root + os.sep)


def rel_to(root: str, real: str) -> str:
    """`real` relative to `root` (both resolved, `real` inside): a slice, not os.path.relpath."""
    return "." if real == root else real[len(root) + 1 :]


_NOT_PLAIN = frozenset("*?[{(~")


def is_plain_path(word: str) -> bool:
    """A relative word with no glob, brace, tilde or `..`: it names exactly one path."""
    return bool(word) and word[0] != "/" and _NOT_PLAIN.isdisjoint(word) and ".." not in word


def has_glob(word: str) -> bool:
    return not GLOB_CHARS.isdisjoint(word)


def expand_glob(root: str, pattern: str, cap: int = MAX_EXPANSIONS) -> list[str] | None:
    """What bash's pathname expansion (dotglob off) gives for `pattern` in `root`, as real
    paths; None when there are more than `cap` matches (the word is then only known at run time)."""
    hits = list(islice(glob.iglob(pattern, root_dir=root, include_hidden=False), cap + 1))
    if len(hits) > cap:
        return None
    return [resolve_in(root, h) if not h.startswith("/") else os.path.realpath(h) for h in hits]


def could_name_protected(pattern: str) -> str | None:
    """A protected name a glob could match once such a file exists (`.gi?` → `.git`), or None.
    A component matches a leading dot only if it starts with one (bash without dotglob)."""
    for comp in pattern.split("/"):
        if not comp.startswith(".") or not has_glob(comp):
            continue
        for probe in _PROBES:
            if fnmatch.fnmatchcase(probe, comp):
                return probe
    return None


def operand_paths(root: str, word: str) -> tuple[list[str], str | None]:
    """Every real path a literal word may name after brace and pathname expansion, plus why it
    cannot be known before it runs (then the list is incomplete). Memoised per decision."""
    return _memo(f"\1{root}\0{word}", _operand_paths, root, word)


def _operand_paths(root: str, word: str) -> tuple[list[str], str | None]:
    if "\x00" in word:
        return [], f"{word!r} holds a NUL byte"
    if word.startswith("~"):
        return [], f"{word!r} is in a home directory"
    if "(" in word and _EXTGLOB.search(word):
        return [], f"{word!r} is an extended glob"
    words = expand_braces(word)
    if words is None:
        return [], f"{word!r} expands to too many words"
    out: list[str] = []
    for w in words:
        if has_glob(w):
            hits = expand_glob(root, w)
            head, _, tail = w.rpartition("/")
            if hits == [] and head and not has_glob(tail):  # a file to be made in a glob dir
                hits = [os.path.join(d, tail) for d in expand_glob(root, head) or []]
            if hits is None:
                return out, f"{w!r} matches too many files"
            out += hits or [resolve_in(root, w)]
        elif w.startswith("/"):
            norm = os.path.normpath(w)
            inner = inside(root, norm) and norm != root
            out.append(resolve_in(root, rel_to(root, norm)) if inner else os.path.realpath(norm))
        else:
            out.append(resolve_in(root, w))
    return out, None


def protected_operand(root: str | None, word: str, data_dir: Path | None) -> str | None:
    """Why a command's literal argument may name a protected path (after symlinks, braces and
    globs), naming the files it could match; None when it cannot."""
    if root is None:
        why = protected_reason(os.path.normpath(word)) if not word.startswith("/") else None
        return f"names the protected file {word} ({why})" if why else None
    data = real_path(str(data_dir)) if data_dir is not None else None
    # the common case (is_plain_path, inline: runs per argument): one path, through links
    if word and word[0] != "/" and _NOT_PLAIN.isdisjoint(word) and ".." not in word:
        real = resolve_in(root, word)
        if data and (real == data or real.startswith(data + os.sep)):
            return f"names the protected path {real} (the harness data dir)"
        rel = real[len(root) + 1 :] if real.startswith(root + os.sep) else None  # rel_to
        why = protected_reason(rel) if rel and _MARKERS.search(rel) else None  # its first test
        if why is None:
            return None
        via = "" if rel == word else f" {word!r} →"
        return f"names the protected file{via} {rel} ({why})"
    paths, _unknown = operand_paths(root, word)
    named: list[str] = []
    reason = None
    for real in paths:
        if data and (real == data or real.startswith(data + os.sep)):
            return f"names the protected path {real} (the harness data dir)"
        if inside(root, real) and real != root:
            rel = rel_to(root, real)
            why = protected_reason(rel)
            if why:
                named.append(rel)
                reason = reason or why
    if not named and has_glob(word) and (probe := could_name_protected(word)):
        named, reason = [probe], protected_reason(probe)
    if not named:
        return None
    shown = ", ".join(named[:5]) + (f" and {len(named) - 5} more" if len(named) > 5 else "")
    via = "" if shown == word or shown == os.path.normpath(word) else f" {word!r} →"
    return f"names the protected file{via} {shown} ({reason})"


# git subcommands that write git metadata (config, hooks, a new repository) without naming it
_GIT_VALUE_OPTS = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace",
                             "--config-env", "--exec-path", "--super-prefix"})  # fmt: skip
_GIT_CONFIG_READS = frozenset({"--get", "--get-all", "--get-regexp", "--get-urlmatch", "-l",
                               "--list", "--get-color", "--get-colorbool", "get", "list"})  # fmt: skip
_GIT_CONFIG_WRITES = frozenset({"--unset", "--unset-all", "--add", "--replace-all", "-e", "--edit",
                                "--rename-section", "--remove-section", "set", "unset", "edit",
                                "rename-section", "remove-section"})  # fmt: skip
_GIT_WRITES_META = {
    "init": "creates a git repository (.git)",
    "clone": "creates a git repository (.git)",
    "submodule": "writes git metadata (.git/config, .gitmodules)",
    "worktree": "writes git metadata (.git/worktrees)",
    "maintenance": "writes git config and schedules jobs",
}
_GIT_REMOTE_WRITES = frozenset({"add", "set-url", "rename", "rm", "remove", "set-head",
                                "set-branches"})  # fmt: skip


def implicit_protected(argv: tuple[str, ...]) -> str | None:
    """Why a command writes a protected path it does not name (`git config core.fsmonitor x`
    writes .git/config), or None."""
    if not argv:
        return None
    head = argv[0]  # os.path.basename(head) == "git", without the call (this runs per part)
    if head != "git" and not head.endswith("/git"):
        return None
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in _GIT_VALUE_OPTS else 1
    if i >= len(argv):
        return None
    sub, rest = argv[i], argv[i + 1 :]
    if sub == "config":
        if any(a in _GIT_CONFIG_READS or a.startswith("--get") for a in rest):
            return None
        writes = any(a in _GIT_CONFIG_WRITES for a in rest)
        if not writes and len([a for a in rest if not a.startswith("-")]) <= 1:
            return None  # `git config name` reads one value
        return "git config writes git metadata (.git/config: fsmonitor, hooks, pager run code)"
    if sub == "remote" and rest and rest[0] in _GIT_REMOTE_WRITES:
        return "git remote writes git metadata (.git/config)"
    if sub == "lfs" and rest and rest[0] in ("install", "update"):
        return "git lfs install writes git hooks"
    if sub in _GIT_WRITES_META:
        return f"git {sub} {_GIT_WRITES_META[sub]}"
    return None


# -- what a read-only command may look at ------------------------------------------------


def path_problem(root: str, word: str, *, read: bool, recursive: bool = False,
                 hidden: bool = True, data_dir: str | None = None) -> str | None:  # fmt: skip
    """Why an operand is not a path the command may look at: outside the workspace (symlinks
    resolved), a secret file (read), or a tree holding one (recursive); globs expanded."""
    if word == "-" or word == "":
        return None
    paths, unknown = operand_paths(root, word)
    if unknown:
        return unknown
    for real in paths:
        if not inside(root, real) or (data_dir and protected_abs(real, data_dir)):
            return f"{word!r} is outside the workspace"
        rel = rel_to(root, real)
        if read and (why := secret_reason(rel)):
            return f"{word!r} {SECRET_READ} {rel} ({why})"
        if recursive and os.path.isdir(real) and (why := tree_problem(root, real, hidden)):
            return why
    return None


def tree_problem(root: str, top: str, hidden: bool = True) -> str | None:
    """A secret file, or a link out of the workspace, under `top` (bounded walk)."""
    stack, seen = [top], 0
    while stack:
        try:
            entries = os.scandir(stack.pop())
        except OSError:
            continue
        with entries:
            for e in entries:
                seen += 1
                if seen > MAX_WALK:
                    return f"{os.path.relpath(top, root)} holds too many files to check for secrets"
                if (not hidden and e.name.startswith(".")) or e.name == ".git":
                    continue
                rel = rel_to(root, e.path)
                if e.is_symlink():
                    if not inside(root, os.path.realpath(e.path)):
                        return f"{rel} links outside the workspace"
                elif e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                    continue
                if why := secret_reason(rel):
                    return f"searching it {SECRET_READ} {rel} ({why})"
    return None
