"""Differential corpus: the shell policy's decisions are pinned, byte for byte, on thousands of
commands (tests/tools/data/policy_corpus.json.xz, built by tests/tools/data/make_policy_corpus.py
from the code before the parser was made faster).

Each entry holds a command and, for several policies (modes, rule sets, with and without a
workspace), the whole decision as `Decision.record` gives it — action, deciding rule, every part
with its own rule, named secrets — plus the parse (parts with argv, redirections, context,
opacity, literal flags, assignments; the whole-line opacity and shape) and "approve similar"'s
pattern. A speed-up that changes any of them, for any command, fails here: what a hostile model
can get allowed must not move when the code only gets faster. Paths of the temporary workspace
are written as <WS>, <DATA> and <ROOT>. A new tree-sitter-bash may parse some commands
differently: then rebuild the corpus and review every changed decision before committing it.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from harness_ls.tools.policy import Policy, Rule
from harness_ls.tools.shellparse import parse_command

CORPUS = Path(__file__).parent / "data" / "policy_corpus.json.xz"
# `../../x` from the workspace names a path outside it by depth: the workspace is always made
# directly under /tmp (a pytest tmp_path is deeper), here and when the corpus is built
TMP = "/tmp"

RULES = [
    Rule("allow", "shell", p, "user [allow]")
    for p in ("pytest *", "python -m pytest *", "ruff check *", "echo *", "npm test *", "go test *",
              "cargo test *", "make test *", "git status *", "git diff *", "FOO=1 make *",
              "*/tool *", "ls", "cat src/*", "find . -name *")
] + [
    Rule("ask", "shell", p, "user [ask]") for p in ("git commit *", "*curl*", "docker *")
] + [
    Rule("deny", "shell", p, "user [deny]")
    for p in ("rm *", "git push *", "sudo *", "rm -rf /*", "*.ssh*", "chmod ?77 *")
]  # fmt: skip
SECRET_PATTERNS = ("*.pem", "credentials*", "conf/private/")


def workspace(root: Path) -> tuple[Path, Path]:
    """The workspace the corpus is decided in: plain files, secrets, protected files, links in
    and out of it, and a data dir."""
    ws, data = root / "ws", root / "data"
    for d in ("src/pkg", "docs", "out_dir", ".harness", ".git", "conf/private", "build"):
        (ws / d).mkdir(parents=True, exist_ok=True)
    data.mkdir()
    (root / "outside").mkdir()
    files = {"a.txt": "a\n", "b.txt": "b\n", "README.md": "# x\n", "src/m.py": "x = 1\n",
             "src/pkg/__init__.py": "", "docs/guide.md": "g\n", ".env": "K=1\n",
             ".env.local": "K=2\n", "id_rsa": "k\n", "server.pem": "p\n", "credentials.json": "{}",
             "conf/private/key.txt": "k\n", ".harness/policy.toml": "", ".git/config": "",
             ".gitignore": "build/\n", "Makefile": "test:\n", "build/out.txt": "o\n"}  # fmt: skip
    for name, text in files.items():
        (ws / name).write_text(text)
    (root / "outside" / "secret.txt").write_text("no\n")
    os.symlink(root / "outside", ws / "out")
    os.symlink(".harness", ws / "h")
    os.symlink(".env", ws / "envlink")
    os.symlink("/etc/passwd", ws / "pw")
    return ws, data


def policies(ws: Path, data: Path) -> dict[str, Policy]:
    rich = Policy("ask", list(RULES), ws, data)
    rich.secret_patterns = SECRET_PATTERNS
    return {
        "ask": rich,
        "read-only": Policy("read-only", list(RULES), ws, data),
        "full-auto": Policy("full-auto", [r for r in RULES if r.action == "deny"], ws, data),
        "bare": Policy("ask", [], ws),
        "nows": Policy("auto-edit", list(RULES)),
    }


DIGESTED = ("read-only", "full-auto", "nows")  # the other policies are kept whole


def record(command: str, pols: dict[str, Policy], names: dict[str, str]) -> dict[str, Any]:
    """Everything the corpus pins for one command, paths replaced by their names; the decisions
    of the DIGESTED policies as action, rule and a digest of the whole decisions."""
    parsed = parse_command(command)
    entry: dict[str, Any] = {
        "c": command,
        "parse": [
            parsed.opaque,
            parsed.not_plain,
            [
                [
                    p.argv,
                    p.text,
                    [[r.op, r.target] for r in p.redirects],
                    p.context,
                    p.background,
                    p.opaque,
                    p.literal,
                    p.assigns,
                ]
                for p in parsed.parts
            ],
        ],  # fmt: skip
        "similar": pols["ask"].similar_pattern("shell", {"command": command}),
    }
    for key, policy in pols.items():
        entry[key] = policy.decide("shell", {"command": command}).model_dump()
    text = json.dumps(entry, ensure_ascii=False)
    for real, name in names.items():
        text = text.replace(real, name)
    entry = json.loads(text)
    full = {k: entry.pop(k) for k in DIGESTED}  # to keep the file small: action, rule, digest
    entry["digest"] = hashlib.sha256(json.dumps(full).encode()).hexdigest()[:16]
    entry.update({k: [full[k]["action"], full[k]["rule"]] for k in DIGESTED})
    return entry


def path_names(root: Path, ws: Path, data: Path) -> dict[str, str]:
    """Longest first, so the workspace is not written as <ROOT>/ws."""
    return {
        os.path.realpath(ws): "<WS>",
        str(ws): "<WS>",
        os.path.realpath(data): "<DATA>",
        str(data): "<DATA>",
        os.path.realpath(root): "<ROOT>",
        str(root): "<ROOT>",
    }


def load() -> list[dict[str, Any]]:
    with lzma.open(CORPUS, "rt", encoding="utf-8") as f:
        return json.load(f)


CHUNKS = 8


@pytest.fixture(scope="module")
def corpus() -> list[dict[str, Any]]:
    return load()


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_decisions_match_the_recorded_corpus(corpus: list[dict[str, Any]], chunk: int) -> None:
    assert len(corpus) > 5000
    differ = []
    with tempfile.TemporaryDirectory(dir=TMP) as tmp:
        root = Path(tmp)
        ws, data = workspace(root)
        pols = policies(ws, data)
        names = path_names(root, ws, data)
        for entry in corpus[chunk::CHUNKS]:
            got = record(entry["c"], pols, names)
            if got != entry:
                keys = [k for k in entry if got.get(k) != entry[k]]
                differ.append((entry["c"][:300], {k: (entry[k], got.get(k)) for k in keys}))
    assert not differ, f"{len(differ)} commands decided differently, e.g. {differ[:3]!r}"


def test_one_recorded_decision_names_every_field(corpus: list[dict[str, Any]]) -> None:
    """The corpus is not vacuous: it holds allows, asks and denies, parts and secrets."""
    actions = {e[k]["action"] for e in corpus for k in ("ask", "bare")}
    actions |= {e[k][0] for e in corpus for k in DIGESTED}
    assert actions == {"allow", "ask", "deny"}
    assert sum(1 for e in corpus if e["ask"]["secrets"]) > 50
    assert sum(1 for e in corpus if e["bare"]["action"] == "allow") > 300
    assert sum(1 for e in corpus if e["parse"][0]) > 100  # whole-line parse failures


_FRAGMENTS = """
from harness_ls.tools.policy import Policy, Rule
rules = [Rule("deny", "shell", "rm *", "base"), Rule("deny", "shell", "/usr/bin/rm *", "written")]
d = Policy("ask", rules).decide("shell", {"command": "echo 'x; /usr/bin/rm -rf x"})
print(d.action, d.rule)
"""


def test_unparsable_command_names_the_same_deny_rule_under_every_hash_seed() -> None:
    """A fragment of text bash cannot parse is matched as written, then by the program's
    basename: the same rule decides whatever the hash seed (a set's order would not)."""
    root = Path(__file__).resolve().parents[2]
    got = set()
    for seed in ("0", "1", "2", "3", "4", "5"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)}
        run = subprocess.run(
            [sys.executable, "-c", _FRAGMENTS],
            env=env,
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        got.add(run.stdout)
    assert got == {"deny written shell '/usr/bin/rm *'\n"}
