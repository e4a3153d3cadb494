"""What every git process harness-ls starts gets: the binary, a built environment, safe config.

The environment is built, not inherited: no `GIT_*` variable of the caller (GIT_DIR,
GIT_CONFIG_PARAMETERS, GIT_EXTERNAL_DIFF, GIT_SSH_COMMAND, GIT_EXEC_PATH, GIT_TRACE... would
redirect or run something), no PAGER/EDITOR. Neither the system config nor the user's global
config is read (GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL=/dev/null): the harness needs nothing
from them, and they define programs (git-lfs's `filter.lfs.*`, a `diff.<x>.textconv`, a
`core.pager`) that a hostile work tree's `.gitattributes` or a planted nested repository could
set off outside the sandbox. Two harmless settings of the user's are kept: their global
ignore rules (HOME stays, so `~/.config/git/ignore` applies, and a `core.excludesFile` from
their global config is passed on) and their `safe.directory` list (for our ownership check).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading

from harness_ls.errors import InvalidInput

# Passed as `-c` on every call (command-line config beats every file, and git hands it down
# to the git processes it starts itself). The repository's own config is never read at all
# (see shim.py); these hold even so, and cover our own shadow repositories.
SAFE_CONFIG: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),  # a hook program run on every index read
    (
        "core.hooksPath",
        "/dev/null",
    ),  # no hook can be found (post-checkout, reference-transaction...)
    ("core.pager", "cat"),  # with --no-pager and GIT_PAGER=cat: pager.<cmd> cannot apply either
    ("core.editor", "false"),
    ("sequence.editor", "false"),
    ("core.sshCommand", "false"),
    ("core.askPass", ""),  # empty: no askpass program (and GIT_TERMINAL_PROMPT=0)
    ("credential.helper", ""),  # empty resets the helper list
    ("protocol.allow", "never"),  # no transport at all: no fetch, no lazy fetch, no ext::
    ("gpg.program", "false"),
    ("gpg.openpgp.program", "false"),
    ("gpg.x509.program", "false"),
    ("gpg.ssh.program", "false"),
    ("log.showSignature", "false"),
    ("commit.gpgSign", "false"),
    ("tag.gpgSign", "false"),
    ("submodule.recurse", "false"),
    ("status.submoduleSummary", "false"),
    ("fetch.recurseSubmodules", "false"),
    ("safe.bareRepository", "explicit"),  # a child that did look for a repository never takes
    # a directory holding HEAD, config, objects/ and refs/ for one
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
    ("core.quotePath", "off"),
)

_KEEP = ("PATH", "HOME", "XDG_CONFIG_HOME", "TMPDIR")
_FIXED = {
    "LC_ALL": "C",
    "LANG": "C",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_SYSTEM": "/dev/null",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_ATTR_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0",  # status/diff never rewrite the user's index as a side effect
    "GIT_NO_REPLACE_OBJECTS": "1",  # refs/replace/* cannot swap what we read
    "GIT_NO_LAZY_FETCH": "1",  # git >= 2.44; protocol.allow=never does it before that
    "GIT_PROTOCOL_FROM_USER": "0",
    "GIT_PAGER": "cat",
    "PAGER": "cat",
    "GIT_EDITOR": "false",
}

_BINARY: dict[str, str] = {}
_USER: dict[str, object] = {}
_USER_LOCK = threading.Lock()


def git_binary() -> str:
    """The git executable on PATH (cached per PATH); InvalidInput with the install hint."""
    path = os.environ.get("PATH", "")
    found = _BINARY.get(path) or shutil.which("git")
    if not found:
        raise InvalidInput(
            "git is not installed", hint="install git (Debian: apt-get install -y git)"
        )
    _BINARY[path] = found
    return found


def git_available() -> str | None:
    """The git executable's path, or None (for `doctor` and /v1/doctor)."""
    try:
        return git_binary()
    except InvalidInput:
        return None


def safe_env(ceiling: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """The whole environment of a git child (see the module docstring)."""
    env = {k: os.environ[k] for k in _KEEP if k in os.environ}
    env.update(_FIXED)
    if ceiling:  # a git child that looked for a repository would not climb above this
        env["GIT_CEILING_DIRECTORIES"] = os.fspath(ceiling)
    return env


def safe_config() -> list[str]:
    """`-c key=value` arguments: SAFE_CONFIG plus the user's own global ignore file."""
    out: list[str] = []
    for key, value in SAFE_CONFIG:
        out += ["-c", f"{key}={value}"]
    excludes = user_settings().get("excludes")
    if isinstance(excludes, str) and excludes:
        out += ["-c", f"core.excludesFile={excludes}"]
    return out


def _global_stamp() -> tuple[object, ...]:
    home = os.environ.get("HOME", "")
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    out: list[object] = [home, xdg]
    for path in (os.path.join(home, ".gitconfig"), os.path.join(xdg, "git", "config")):
        try:
            st = os.stat(path)
            out.append((st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            out.append(None)
    return tuple(out)


def user_settings() -> dict[str, object]:
    """The two values read from the user's global git config: `core.excludesFile` and the
    `safe.directory` list. Reading config runs nothing; it is re-read when the files change."""
    stamp = _global_stamp()
    with _USER_LOCK:
        if _USER.get("stamp") == stamp:
            return _USER
        env = {k: os.environ[k] for k in _KEEP if k in os.environ}
        env.update(LC_ALL="C", GIT_CONFIG_NOSYSTEM="1", GIT_DIR="/dev/null")
        values: dict[str, list[str]] = {}
        try:
            proc = subprocess.run(
                [git_binary(), "config", "--global", "--includes", "-z", "--get-regexp",
                 r"^(core\.excludesfile|safe\.directory)$"],
                env=env, cwd="/", capture_output=True, timeout=10, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            for item in proc.stdout.decode(errors="surrogateescape").split("\0"):
                key, _, value = item.partition("\n")
                if key:
                    values.setdefault(key.lower(), []).append(value)
        except (OSError, subprocess.TimeoutExpired, InvalidInput):
            pass
        excludes = (values.get("core.excludesfile") or [""])[-1]
        if excludes.startswith("~/"):
            excludes = os.path.join(os.environ.get("HOME", ""), excludes[2:])
        _USER.clear()
        _USER.update(stamp=stamp, excludes=excludes, safe_dirs=values.get("safe.directory", []))
        return _USER
