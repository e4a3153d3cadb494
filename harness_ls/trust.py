"""One trust for every workspace config file: what a repository may configure, and what only the
user may.

A workspace's config files are `.harness/policy.toml`, `.harness/mcp.toml`, `.harness/models.toml`
and the `.env` / `.env.local` of the directory a host starts in. A cloned repository (or the
agent) can write any of them, so until the user trusts that exact content at that path a file
may only narrow: deny/ask rules and a stricter mode, model capabilities and defaults, provider
keys of its own — never an allow rule, an MCP server, where a request goes or which credential it
carries, nor the process environment.

Trust is recorded in `<data_dir>/trusted-policies.json` (owner-only, 0600), keyed by the
workspace's real path joined with the file's name, holding the sha256 of the content the user
trusted (like direnv): any edit un-trusts it. A config file that is a symlink, or sits under a
symlinked `.harness/`, is never trusted: trust belongs to a content at a place, and a link would
borrow another place's trust. Files are read once, without blocking on a FIFO and at most 1 MiB,
and the bytes that are hashed are the bytes that are parsed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from harness_ls.errors import InvalidInput
from harness_ls.private import private_dir
from harness_ls.secrets import is_secret_name

TRUST_FILE = "trusted-policies.json"
POLICY, MCP, MODELS = ".harness/policy.toml", ".harness/mcp.toml", ".harness/models.toml"
DOTENV = (".env", ".env.local")  # .env.local wins over .env
CONFIG_FILES = (POLICY, MCP, MODELS, *DOTENV)
MAX_BYTES = 1 << 20


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True)
class ConfigFile:
    """One workspace config file as read once: its bytes, and whether the user trusts them."""

    workspace: Path  # real path
    name: str  # one of CONFIG_FILES
    content: bytes | None = None  # None: absent or unreadable
    symlink: str | None = None  # the symlinked part of `name` (".harness", ".harness/x.toml")
    problem: str | None = None  # why it could not be read
    trusted: bool = False

    @property
    def path(self) -> Path:
        return self.workspace / self.name

    @property
    def key(self) -> str:
        return str(self.path)

    @property
    def sha256(self) -> str | None:
        return digest(self.content) if self.content is not None else None

    def text(self) -> str:
        try:
            return (self.content or b"").decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{self.path}: not UTF-8 text ({exc.reason})") from None

    def state(self) -> str:
        """One word or phrase for listings: trusted, not trusted, symlink, absent, unreadable."""
        if self.problem:
            return f"unreadable ({self.problem})"
        if self.content is None:
            return "absent"
        if self.symlink:
            return f"symlink ({self.symlink}): never trusted, narrows only"
        return "trusted" if self.trusted else "NOT trusted (narrows only)"

    def untrusted_note(self) -> str:
        """The end of a warning about this file: why it is not trusted and how to trust it."""
        if self.symlink:
            return (
                f"{self.symlink} is a symlink, and a symlinked config file is never trusted "
                "(replace the link with a copy of the file, review it, then trust it)"
            )
        return f"Review it, then run `agentctl policy trust --workspace {self.workspace}` to use it"


def _symlinked_part(workspace: Path, name: str) -> tuple[str | None, bool]:
    """(the first symlinked component of `name` under `workspace`, whether the path exists)."""
    parts = name.split("/")
    current = workspace
    for n, part in enumerate(parts):
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except OSError:
            return None, False
        if stat.S_ISLNK(mode):
            return "/".join(parts[: n + 1]), True
    return None, True


def _read_bytes(path: Path) -> tuple[bytes | None, str | None]:
    """The content of a regular file, never blocking (a FIFO) nor reading more than MAX_BYTES."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, exc.strerror or type(exc).__name__
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, "not a regular file"
        chunks, size = [], 0
        while chunk := os.read(fd, 65536):
            size += len(chunk)
            if size > MAX_BYTES:
                return None, f"larger than {MAX_BYTES >> 20} MiB"
            chunks.append(chunk)
        return b"".join(chunks), None
    except OSError as exc:
        return None, exc.strerror or type(exc).__name__
    finally:
        os.close(fd)


def read_config(workspace: Path | str, name: str, data_dir: Path | None) -> ConfigFile:
    """Read `name` of `workspace` once; trusted only when not symlinked and its sha256 is the
    one the user trusted for exactly this place."""
    if name not in CONFIG_FILES:
        raise ValueError(f"not a workspace config file: {name}")
    ws = Path(os.path.realpath(workspace))
    link, exists = _symlinked_part(ws, name)
    if not exists:
        return ConfigFile(ws, name)
    content, problem = _read_bytes(ws / name)
    file = ConfigFile(ws, name, content, link, problem)
    if content is None or link is not None:
        return file
    trusted = trusted_files(data_dir).get(file.key) == digest(content)
    return ConfigFile(ws, name, content, link, problem, trusted)


def read_all(workspace: Path | str, data_dir: Path | None) -> list[ConfigFile]:
    return [read_config(workspace, name, data_dir) for name in CONFIG_FILES]


# ---- the trust store --------------------------------------------------------------------------


def _store(data_dir: Path) -> Path:
    return Path(data_dir) / TRUST_FILE


def trusted_files(data_dir: Path | None) -> dict[str, str]:
    """config file path -> trusted sha256. A damaged store trusts nothing (and says nothing)."""
    if data_dir is None:
        return {}
    try:
        doc = json.loads(_store(data_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, dict):
        return {}
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)}


def locate(path: Path | str) -> tuple[Path, str]:
    """(workspace, name) of a config file path, e.g. `/w/.harness/policy.toml` -> (/w, POLICY).
    The path is taken as written (absolute, not resolved): its last parts name the file."""
    raw = os.path.abspath(os.path.expanduser(str(path)))
    for name in CONFIG_FILES:
        if raw.endswith(os.sep + name.replace("/", os.sep)):
            return Path(raw[: -len(name) - 1] or os.sep), name
    raise InvalidInput(
        f"{path} is not a workspace config file",
        hint="config files are " + ", ".join(CONFIG_FILES),
    )


def trust_config(data_dir: Path, workspace: Path | str, name: str) -> ConfigFile:
    """Trust the file's current content at its place; InvalidInput when it cannot be trusted."""
    file = read_config(workspace, name, None)
    if file.symlink:
        raise InvalidInput(
            f"{file.path} cannot be trusted: {file.symlink} is a symlink",
            hint="a symlinked config file is never trusted; replace the link with a copy of "
            "the file, review it, then trust it",
        )
    if file.content is None:
        raise InvalidInput(
            f"cannot read {file.path}: {file.problem or 'no such file'}",
            hint="run `agentctl init` to create a policy, or pass --workspace",
        )
    files = trusted_files(data_dir)
    files[file.key] = digest(file.content)
    _write(data_dir, files)
    return ConfigFile(file.workspace, name, file.content, None, None, True)


def untrust_config(data_dir: Path, workspace: Path | str, name: str) -> bool:
    key = str(Path(os.path.realpath(workspace)) / name)
    files = trusted_files(data_dir)
    if files.pop(key, None) is None:
        return False
    _write(data_dir, files)
    return True


def _write(data_dir: Path, files: dict[str, str]) -> None:
    """Atomic, owner-only: nobody else may read or forge what the user trusted."""
    private_dir(Path(data_dir))  # the first trust may be the first write to a new data dir
    target = _store(data_dir)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"version": 1, "files": files}, f, indent=1, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)


# ---- what an untrusted .env may set -----------------------------------------------------------

# Harness settings an untrusted .env may set: which configured model, how long to wait for it.
_NARROW_HARNESS = {
    "HARNESS_MODEL", "HARNESS_MODEL_TIMEOUT", "HARNESS_MODEL_RETRIES", "HARNESS_MODEL_MAX_WAIT",
}  # fmt: skip


def env_needs_trust(name: str, *, server: bool) -> str | None:
    """Why an untrusted `.env` may not set `name` (None: it may).

    It may set credentials (a key of its own is only ever sent to the base URL the user
    configured for it) and the model choice. Everything else — base URLs and hosts, proxies,
    HARNESS_URL / HARNESS_DATA_DIR, PATH, LD_PRELOAD, GIT_* and any other variable the harness
    or the programs it starts would obey — changes where requests go or what runs, so it waits
    for the user's trust. A daemon's own token (HARNESS_AUTH_TOKEN) would decide who may drive
    it: a client may present one from a .env, a server never takes one from an untrusted file."""
    if name in _NARROW_HARNESS:
        return None
    if name == "HARNESS_AUTH_TOKEN":
        return "it would set who may use this daemon" if server else None
    if name.startswith("HARNESS_"):
        return "it configures the harness itself (where it connects, where its data lives)"
    if is_secret_name(name):
        return None
    return "it could change where requests go or what the programs the harness starts run"


def dotenv_values(
    directory: Path | str, data_dir: Path | None, *, server: bool
) -> tuple[dict[str, str], list[str]]:
    """The variables `.env` then `.env.local` of `directory` may set (later wins), and one
    warning per untrusted file naming what it may not set."""
    from dotenv import dotenv_values as parse

    merged: dict[str, str] = {}
    warnings: list[str] = []
    for name in DOTENV:
        file = read_config(directory, name, data_dir)
        if file.problem:
            warnings.append(f"{file.path} ignored: {file.problem}")
        if file.content is None:
            continue
        text = file.content.decode("utf-8", errors="replace")
        values = {k: v for k, v in parse(stream=io.StringIO(text)).items() if v is not None}
        refused = {} if file.trusted else {k: why for k in values
                                           if (why := env_needs_trust(k, server=server))}  # fmt: skip
        merged.update({k: v for k, v in values.items() if k not in refused})
        if refused:
            warnings.append(
                f"{file.path} is not trusted, so it may only set provider keys and "
                f"HARNESS_MODEL; ignored: {', '.join(sorted(refused))}. " + file.untrusted_note()
            )
    return merged, warnings
