"""Known safe is exact: a command runs unasked only when every part is on the list with options
known not to write, execute or evaluate, operands inside the workspace and no secret read.

Decided in mode `ask` with no rules, in a workspace holding a secret file, git metadata and a link
out of the workspace; every example of issue 31 item 3 and row 7 is here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness_ls.tools.knownsafe import SPECS, unsafe_reason
from harness_ls.tools.policy import Policy
from harness_ls.tools.shellparse import parse_command


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "m.py").write_text("x = 1\n")
    (root / "a.txt").write_text("a\nb\n")
    (root / "b.txt").write_text("b\n")
    (root / ".env.local").write_text("API_KEY=sk-secret\n")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("no\n")
    os.symlink(tmp_path / "outside", root / "out")
    return root


def _decide(ws: Path, command: str) -> str:
    return Policy("ask", [], ws, ws.parent / "data").decide("shell", {"command": command}).action


SAFE = [
    "cat a.txt", "cat -n a.txt b.txt", "head -n 5 a.txt", "head -5 a.txt", "tail -n +2 a.txt",
    "wc -l a.txt", "ls", "ls -la src", "ls -R", "grep -n b a.txt", "grep -rn x src",
    "grep -e b -e a a.txt", "egrep 'a|b' a.txt", "rg -n x src", "rg --files", "echo hi",
    "echo -n 'a b' > /dev/null", "printf '%s\\n' a b", "true", "false", ":", "pwd",
    "test -f a.txt", "[ -d src ]", "[[ -f a.txt && a == b ]]", "[ 1 -eq 1 ]", "diff a.txt b.txt",
    "diff -u a.txt b.txt", "cmp a.txt b.txt", "stat a.txt", "file a.txt", "basename src/x.py",
    "dirname src/x.py", "nl a.txt", "cut -d: -f1 a.txt", "tr a-z A-Z < a.txt", "seq 1 10",
    "seq 5", "realpath a.txt", "readlink -f a.txt", "du -sh src", "tree -L 2 src",
    "sha256sum a.txt", "md5sum a.txt", "which ls", "type cat", "command -v git",
    "sort a.txt", "sort -u -k1,1 a.txt", "uniq -c a.txt", "comm -12 a.txt b.txt", "rev a.txt",
    "tac a.txt", "paste a.txt b.txt", "base64 a.txt", "uname -a", "whoami", "id -u",
    "sed -n 1,5p a.txt", "sed -n '2p' a.txt", "sed 's/a/b/g' a.txt", "sed -e '/^#/d' a.txt",
    "sed -n '/start/,/end/p' a.txt", "awk '{print $1}' a.txt", "awk -F: '$1 > 3' a.txt",
    "jq -r '.items[] | select(.ok) | .name' a.txt", "jq '{name: .name}' a.txt",
    "find . -name '*.py'", "find src -type f -newer a.txt -print", "cat *.txt", "cat src/*/m.py",
    "cat {a,b}.txt", "cat a.txt | grep b | wc -l", "grep -c b a.txt || true",
    "ls src && cat a.txt; echo done", "cat a.txt 2>/dev/null", "cat a.txt 2>&1 | head -3",
    "cat < a.txt", "cat <<'EOF'\n$(not run)\nEOF", "grep b <<< 'a b'", "timeout 5 cat a.txt",
    "nice -n 5 cat a.txt", "env cat a.txt", "time cat a.txt", "command cat a.txt", "expr 1 + 2",
    "cat .git/config",
]  # fmt: skip

NOT_SAFE = [
    # row 1 and everything that assigns, evaluates or looks a variable up by name
    "printf -v x 'a[\\x24(touch pwned)]'; test -v 'a[x]'", "printf -v x y", "test -v x",
    "[ -v x ]", "[[ -v a[x] ]]", "[[ a[$(touch p)] ]]", "[[ x -eq 1 ]]", "(( x ))", "(( 1 ))",
    "let x=1", "declare x=1", "typeset x", "local x", "export x=1", "readonly x", "read x",
    "mapfile a", "eval echo", "source x.sh", ". x.sh", "trap 'echo' EXIT", "complete -C x y",
    "bind -x x", "enable -f x.so y", "hash -p /bin/sh cat", "alias ls=x", "x=1; cat a.txt",
    "echo ${x@P}", "echo ${!x}", "echo $((x))", "echo ${x:1}", "echo ${a[i]}", "echo $x",
    "cat <(ls)", "cat <<< \"$x\"", "cat <<EOF\n$x\nEOF", "echo `ls`", "echo $(ls)",
    "for f in a; do cat a.txt; done", "(cat a.txt)", "{ cat a.txt; }", "cat a.txt &",
    "f() { :; }", "if true; then :; fi",
    # options that write, execute or evaluate
    "find . -exec cat {} \\;", "find . -execdir cat {} +", "find . -ok rm {} \\;",
    "find . -delete", "find . -fprint out", "find . -fprintf out %p", "find . -fls out",
    "find . -fprint0 out", "rg --pre cat x", "rg --pre=cat x", "rg --pre-glob '*' x",
    "rg -z x", "rg -L x", "sed -i s/a/b/ a.txt", "sed --in-place s/a/b/ a.txt",
    "sed 's/a/b/w out' a.txt", "sed 'w out' a.txt", "sed 'W out' a.txt", "sed 1e a.txt",
    "sed 's/a/id/e' a.txt", "sed 'r /etc/passwd' a.txt", "sed -f x.sed a.txt",
    "awk '{system(\"id\")}' a.txt", "awk '{print | \"sh\"}' a.txt", "awk '{print > \"x\"}' a.txt",
    "awk '{\"id\" | getline x}' a.txt", "awk 'BEGIN{while(1)print}'", "awk -f x.awk a.txt",
    "awk '@load \"x\"'", "file -C a.txt", "file -m x a.txt", "file -z a.txt", "tree -o out",
    "sort -o out a.txt", "sort --output=out a.txt", "sort --compress-program=sh a.txt",
    "sort -T /tmp a.txt", "uniq a.txt out.txt", "tail -f a.txt", "tail -F a.txt",
    "jq -n 'repeat(1)'", "jq 'def f: f; f' a.txt", "jq 'import \"x\" as x; .' a.txt",
    "jq -n '\"x\" * 100'", "jq -f prog.jq a.txt", "grep -R x src", "grep --pre x a.txt",
    "ls --hyperlinks=x", "head --bytes 5 a.txt --follow", "cat --unknown a.txt", "cat -Z a.txt",
    "diff -l a.txt b.txt", "date -s now",
    # git: a repository's own config runs programs
    "git status", "git -c core.pager=x log", "git --config-env=x=y log", "git --exec-path=x log",
    "git log", "git diff --ext-diff",
    # pagers, wrappers around something unsafe, generators
    "less a.txt", "man ls", "more a.txt", "env rm a.txt", "env FOO=1 cat a.txt",
    "env -C /tmp cat a.txt", "env -S 'cat a.txt'", "xargs cat", "time rm a.txt",
    "nice rm a.txt", "timeout 5 rm a.txt", "nohup cat a.txt", "command rm a.txt",
    "builtin eval x", "sudo cat a.txt", "seq 1 99999999999", "seq 0 0.000001 1000", "yes",
    "yes | head -1", "cat /dev/zero", "head -c 10 /dev/urandom", "sleep 1",
    "printf '%999999999s' x", "printf '%*s' 99 x",
    # assignments before a command that change what it runs
    "GIT_DIR=x cat a.txt", "LD_PRELOAD=x.so cat a.txt", "BASH_ENV=x cat a.txt",
    "PAGER=x cat a.txt", "FOO=1 cat a.txt",
    # paths: outside, through a link, secrets (globs and braces expanded), the home directory
    "cat /etc/passwd", "cat ../x", "cat out/secret.txt", "cat ~/.ssh/id_rsa", "cat .env.local",
    "cat .e*", "cat .env*", "cat .{env.local,x}", "cat ./.e?v.local", "grep -r KEY .",
    "grep -rn KEY", "rg --hidden KEY", "rg -uu KEY", "diff -r src .", "cat < .env.local",
    "cd src && cat m.py", "ls /", "find / -name x", "head -c 5 a.txt > copy.txt",
    "cat a.txt > /tmp/x", "echo x >> a.txt",
]  # fmt: skip


@pytest.mark.parametrize("command", SAFE)
def test_known_safe_commands_run_unasked(ws: Path, command: str) -> None:
    decision = Policy("ask", [], ws, ws.parent / "data").decide("shell", {"command": command})
    assert decision.action == "allow", decision
    assert all(p.rule.startswith("built-in: ") for p in decision.parts), decision


@pytest.mark.parametrize("command", NOT_SAFE)
def test_anything_off_the_exact_list_asks(ws: Path, command: str) -> None:
    assert _decide(ws, command) == "ask", command


def test_read_only_mode_still_denies_known_safe_commands(ws: Path) -> None:
    decision = Policy("read-only", [], ws).decide("shell", {"command": "cat a.txt"})
    assert decision.action == "deny"


@pytest.mark.parametrize(
    ("command", "named"),
    [
        ("cat .e*", ".env.local"),
        ("grep -r KEY .", ".env.local"),
        ("cat out/secret.txt", "outside the workspace"),
        ("seq 1 99999999999", "more than 100000"),
        ("find . -delete", "-delete"),
        ("sed -i s/a/b/ a.txt", "-i"),
        ("rg --pre cat x", "--pre"),
    ],
)
def test_the_reason_names_what_made_it_unsafe(ws: Path, command: str, named: str) -> None:
    decision = Policy("ask", [], ws).decide("shell", {"command": command})
    assert decision.action == "ask" and named in decision.rule, decision.rule


def test_every_listed_command_rejects_an_unknown_option(ws: Path) -> None:
    """Anything unknown is not safe: a made-up long option fails on every entry of the list."""
    for name, spec in SPECS.items():
        if spec.operands in ("text", "wrapper") and not spec.flags and not spec.long:
            continue
        part = parse_command(f"{name} --made-up-option a.txt").parts[0]
        assert unsafe_reason(part, str(ws)) is not None, name


def test_an_abbreviated_long_option_is_not_the_option_it_abbreviates(ws: Path) -> None:
    # GNU getopt takes `--ev` for `--eval` and `--in` for `--in-place`; the list takes neither
    assert _decide(ws, "sed --in s/a/b/ a.txt") == "ask"
    assert _decide(ws, "sort --out=x a.txt") == "ask"
    assert _decide(ws, "sed --quiet -n 1p a.txt") == "allow"
