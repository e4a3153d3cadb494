"""Secret files: which workspace files may hold credentials, and which values in them to mask.

One list, used by every layer that keeps secrets away from the model: the sandbox masks these files
(an empty file is bound over each), read tools ask before reading one, `search` skips them, and the
values found in them are masked in tool results and the event log like the daemon's own keys.

`is_secret_path(rel)` is pure: it looks at the path's last component only (plus the user's extra
gitignore-style patterns, `secret_files = [...]` in policy.toml), so any layer can call it on any
path without touching the disk.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from functools import lru_cache

from harness_ls.secrets import is_secret_name
from harness_ls.tools.globs import PathPattern

# Whole names (case-insensitive) that hold credentials by convention.
SECRET_NAMES = frozenset(
    {".env", ".envrc", ".npmrc", ".pypirc", ".netrc", "_netrc", ".git-credentials", ".pgpass",
     ".my.cnf", ".htpasswd", ".dockercfg", ".vault-token", ".s3cfg", ".boto", ".yarnrc.yml",
     "credentials", "secrets"}
)  # fmt: skip
# Suffixes of key stores and private keys.
SECRET_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".kdbx", ".ppk",
                   ".keytab", ".env")  # fmt: skip
# `.env.example` and friends are committed documentation, not secrets.
PUBLIC_SUFFIXES = (".example", ".sample", ".template", ".dist", ".defaults", ".schema")
# `credentials.py` is code that handles credentials, not a credential.
CODE_SUFFIXES = frozenset(
    {".py", ".pyi", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".go", ".rs", ".java", ".kt",
     ".rb", ".php", ".cs", ".c", ".h", ".cc", ".cpp", ".hpp", ".swift", ".scala", ".md", ".rst",
     ".html", ".css", ".vue", ".svelte", ".ex", ".exs", ".erl", ".hs", ".ml", ".lua", ".sh"}
)  # fmt: skip
_SSH_KEY = re.compile(r"id_[a-z0-9_]+")  # id_rsa, id_ed25519_sk; never id_rsa.pub or id_utils.py
_PREFIXED = ("credentials", "secrets", ".env")

DEFAULT_PATTERNS_DOC = (
    ".env, .env.* and *.env (not *.example/.sample/.template/.dist), .envrc, *.pem, *.key, "
    "*.p12, *.pfx, *.jks, *.keystore, *.kdbx, *.ppk, *.keytab, id_* (SSH private keys: no "
    "extension), .npmrc, .pypirc, .netrc, .git-credentials, .pgpass, .my.cnf, .htpasswd, "
    ".vault-token, .s3cfg, .boto, .yarnrc.yml, credentials* and secrets* (not code files)"
)


@lru_cache(maxsize=4096)
def _default(name: str) -> bool:
    low = name.lower()
    if low in SECRET_NAMES:
        return True
    if low.endswith(PUBLIC_SUFFIXES) or low.endswith(".pub"):
        return False
    if low.endswith(SECRET_SUFFIXES) or _SSH_KEY.fullmatch(low):
        return True
    if not low.startswith(_PREFIXED):
        return False
    for prefix in _PREFIXED:  # .env.local, credentials.json, secrets_prod.yaml
        if low.startswith(prefix) and low[len(prefix)] in "._-":
            dot = low.rfind(".")
            return dot <= 0 or low[dot:] not in CODE_SUFFIXES or prefix == ".env"
    return False


@lru_cache(maxsize=64)
def _compiled(extra: tuple[str, ...]) -> tuple[PathPattern, ...]:
    return tuple(PathPattern(p) for p in extra if p.strip())


def is_secret_path(rel: str, extra: Iterable[str] = ()) -> bool:
    """Whether the workspace-relative posix path `rel` names a secret file (defaults, or one of
    the `extra` gitignore-style patterns, which also cover everything under a named directory)."""
    extra = tuple(extra)
    if not extra and _MAYBE_SECRET.search(rel.lower()) is None:
        return False  # no piece of a default secret name: no cache entry needed
    return _is_secret(rel, extra)


@lru_cache(maxsize=4096)
def _is_secret(rel: str, extra: tuple[str, ...]) -> bool:
    """is_secret_path, cached: the policy asks it for every word of every shell command."""
    rel = rel.replace("\\", "/").strip("/")
    if not rel or rel == ".":
        return False
    if _default(rel.rsplit("/", 1)[-1]):
        return True
    return bool(extra) and any(p.matches_or_within(rel) for p in _compiled(extra))


def is_secret_dir(rel: str, extra: Iterable[str] = ()) -> bool:
    """Whether a directory is secret as a whole (only the user's patterns name directories)."""
    extra = tuple(extra)
    return bool(extra) and any(
        p.matches(rel, is_dir=True) or p.matches_or_within(rel) for p in _compiled(extra)
    )


_UNKNOWN = re.compile(r"[*?\[$`]")  # a glob or an expansion: not a literal path


def _is_normal(value: str) -> bool:
    """Whether normpath would leave `value` as it is (no empty, `.` or `..` component): the
    common case, checked without normpath's cost for every word of every shell command."""
    parts = value.split("/")
    return "" not in parts and "." not in parts and ".." not in parts


# Every default secret name (_default) holds one of these, lowered: one search over all of a
# command's words rules most commands out at once (a superset: a hit is then checked word by word;
# lowering the joined words lowers each word as _default does, and normpath, the `--x=` split and
# the last component keep a substring of the word).
def _pieces_rx(pieces: set[str]) -> re.Pattern[str]:
    """A search for any of `pieces`: only the pieces no other one is part of (`.env` finds
    `.envrc`), the dotted ones behind one `\\.` (the scan stops at dots, not at every letter)."""
    kept = sorted(p for p in pieces if not any(q != p and q in p for q in pieces))
    dotted = "|".join(re.escape(p[1:]) for p in kept if p.startswith("."))
    rest = "|".join(re.escape(p) for p in kept if not p.startswith("."))
    return re.compile(rf"\.(?:{dotted})|{rest}")


_MAYBE_SECRET = _pieces_rx({*SECRET_NAMES, *SECRET_SUFFIXES, *_PREFIXED, "id_"})


def secrets_named(words: Iterable[str], workspace: str, extra: Iterable[str] = ()) -> list[str]:
    """The secret files among shell words (`cat .env`, `--env-file=.env.prod`, `> a/.npmrc`),
    as workspace-relative paths; lexical only, never a glob or a variable."""
    extra = tuple(extra)
    if not extra:
        words = list(words)
        if _MAYBE_SECRET.search("\n".join(words).lower()) is None:
            return []  # no word holds a piece a default secret name needs
    root = workspace.rstrip("/") + "/"
    found: list[str] = []
    for word in words:
        rel = _secret_in(word, root, extra)
        if rel is not None and rel not in found:
            found.append(rel)
    return found


@lru_cache(maxsize=4096)
def _secret_in(word: str, root: str, extra: tuple[str, ...]) -> str | None:
    """The secret file one shell word names (workspace-relative), else None; cached because
    the same words (`-q`, `README.md`, `src/…`) recur across commands. Pure: lexical only."""
    value = word.split("=", 1)[1] if word.startswith("-") and "=" in word else word
    if not value or _UNKNOWN.search(value):
        return None
    if value.startswith("/"):
        if not value.startswith(root):
            return None
        value = value[len(root) :]
    rel = value if _is_normal(value) else posixpath.normpath(value)
    if rel.startswith("../") or rel in ("..", "."):
        return None
    # uncached: this result is cached per word already, and a second cache's miss costs more
    return rel if _is_secret.__wrapped__(rel, extra) else None


# --- values to mask -----------------------------------------------------------------------------

MIN_VALUE = 8  # shorter values ("true", "8080") would mask ordinary text
MAX_VALUES_PER_FILE = 64
_SECRETISH_KEY = ("pass", "secret", "token", "auth", "key", "cred", "private")
_URL_PASSWORD = re.compile(r"://[^/\s:@]*:([^@\s/]+)@")
_NETRC_PASSWORD = re.compile(r"\bpassword\s+(\S+)")


def _token_like(value: str) -> bool:
    """A value that looks generated (a key, a token), not a word: long, no spaces, mixed."""
    return (
        len(value) >= 16
        and not any(c.isspace() for c in value)
        and any(c.isdigit() for c in value)
        and any(c.isalpha() for c in value)
    )


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"`":
        return value[1:-1]
    if " #" in value:  # dotenv inline comment
        value = value.split(" #", 1)[0].rstrip()
    return value


def _assignment(line: str) -> tuple[str, str] | None:
    """`KEY=v`, `export KEY="v"`, `//host/:_authToken=v` (split at `=`), else `key: v`."""
    line = line.removeprefix("export ").strip()
    sep = "=" if "=" in line else ":" if ":" in line else None
    if sep is None:
        return None
    key, _, value = line.partition(sep)
    return (key.strip(), _unquote(value)) if key.strip() else None


def values_in(text: str) -> list[str]:
    """The values in a secret file's text worth masking: assignments to secret-named keys,
    token-like values, passwords inside URLs and .netrc lines, and key material (PEM body lines).
    Short values and plain words are left alone so masking does not eat ordinary output."""
    found: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";", "-----")):
            continue
        found += [m.group(1) for m in _URL_PASSWORD.finditer(line)]
        found += [m.group(1) for m in _NETRC_PASSWORD.finditer(line)]
        pair = _assignment(line)
        if pair and pair[1]:
            key, value = pair
            secretish = is_secret_name(key) or any(w in key.lower() for w in _SECRETISH_KEY)
            if secretish or _token_like(value):
                found.append(value)
        elif len(line) >= 16 and " " not in line:  # PEM / base64 body, a bare token
            found.append(line)
        if len(found) >= MAX_VALUES_PER_FILE:
            break
    return list(dict.fromkeys(v for v in found if len(v) >= MIN_VALUE))
