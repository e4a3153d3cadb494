"""Secret files: the one list, the cached workspace scan, and the values masked from results."""
# ruff: noqa: ASYNC240 - tests may block on small local files

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness_ls.secrets import mask_secrets
from harness_ls.tools import TOOLS, Policy, ToolContext, wsscan
from harness_ls.tools.secretfiles import is_secret_path, secrets_named, values_in

SECRET = [".env", ".env.local", "app/.env.production", "prod.env", ".envrc", "certs/server.pem",
          "tls.key", "keystore.jks", "id_rsa", ".ssh/id_ed25519", "id_ecdsa_sk", ".npmrc",
          ".pypirc", ".netrc", ".git-credentials", ".aws/credentials", "credentials.json",
          "gcp/credentials-prod.yaml", ".streamlit/secrets.toml", "secrets", ".pgpass", "x.p12",
          ".ENV", "Credentials.JSON"]  # fmt: skip
NOT_SECRET = [".env.example", ".env.sample", "config/.env.template", "id_rsa.pub",
              "id_utils.py", "credentials.py", "src/secrets.py", "auth/credentials_test.go",
              "README.md", ".environment", "keys.md", "docs/env.md", ".", ""]  # fmt: skip


@pytest.mark.parametrize("rel", SECRET)
def test_secret_paths(rel: str) -> None:
    assert is_secret_path(rel), rel


@pytest.mark.parametrize("rel", NOT_SECRET)
def test_not_secret_paths(rel: str) -> None:
    assert not is_secret_path(rel), rel


def test_user_patterns_add_files_and_whole_directories() -> None:
    extra = ("config/*.secret", "vault/")
    assert is_secret_path("config/db.secret", extra) and not is_secret_path("db.secret", extra)
    assert is_secret_path("vault/a/b.txt", extra) and not is_secret_path("vaults/x", extra)


def test_values_worth_masking_are_found_and_words_are_not() -> None:
    text = """# comment
export OPENAI_API_KEY="sk-abc123def456ghi789"
NODE_ENV=production
PORT=8080
DATABASE_URL=postgres://app:hunter2-long-pass@db:5432/app
SESSION=9f8e7d6c5b4a39281706f5e4
machine api.example.com login me password n3tRcPassw0rd
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
-----END OPENSSH PRIVATE KEY-----
"""
    found = values_in(text)
    assert "sk-abc123def456ghi789" in found and "hunter2-long-pass" in found
    assert "9f8e7d6c5b4a39281706f5e4" in found and "n3tRcPassw0rd" in found
    assert "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW" in found
    assert "production" not in found and "8080" not in found


def test_secret_words_of_a_command() -> None:
    words = ["-la", ".env", "./app/../.npmrc", "--env-file=.env.prod", "/ws/certs/a.pem",
             "/elsewhere/.env", ".e*", "$F", "../.env", "README.md"]  # fmt: skip
    assert secrets_named(words, "/ws") == [".env", ".npmrc", ".env.prod", "certs/a.pem"]


def test_scan_finds_secrets_and_git_dirs_and_sees_new_ones_at_once(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "sub" / "node_modules" / "x").mkdir(parents=True)
    (ws / ".git").mkdir()
    (ws / "vendor" / "lib").mkdir(parents=True)
    (ws / "vendor" / "lib" / ".git").write_text("gitdir: ../../.git/modules/lib\n")
    (ws / ".env").write_text("A_TOKEN=tok-0123456789abcdef\n")
    (ws / "sub" / "node_modules" / "x" / ".env").write_text("ignored\n")
    (ws / "sub" / "link.env").symlink_to("../.env")
    first = wsscan.scan(ws)
    assert first.secrets == (".env",) and first.gits == (".git", "vendor/lib/.git")
    (ws / "sub" / ".npmrc").write_text("//r/:_authToken=npm_abcdefghijklmnop1234\n")
    assert wsscan.scan(ws).secrets == (".env", "sub/.npmrc")  # same second: racy dirs re-listed
    os.utime(ws / "sub", ns=(time.time_ns() - 10**10, time.time_ns() - 10**10))
    wsscan.scan(ws)
    (ws / "sub" / ".npmrc").unlink()
    assert wsscan.scan(ws).secrets == (".env",)
    assert mask_secrets("token tok-0123456789abcdef and npm_abcdefghijklmnop1234") == (
        "token **** and ****"
    )


def test_scan_never_blocks_on_a_fifo_named_like_a_secret(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    os.mkfifo(ws / ".env")
    assert wsscan.scan(ws).secrets == (".env",)


def _ctx(ws: Path, **extra) -> ToolContext:
    return ToolContext(workspace=ws, extra=extra)


@pytest.fixture
def secret_ws(repo: Path) -> Path:
    (repo / ".env.local").write_text("STRIPE_KEY=rk_live_abcdefghijklmnop0123\nHOST=db\n")
    (repo / "notes.txt").write_text("host is db\n")
    (repo / "env-link").symlink_to(".env.local")
    return repo


def test_reading_a_secret_file_asks_and_names_it(secret_ws: Path, tmp_path: Path) -> None:
    for mode in ("ask", "auto-edit", "full-auto"):
        policy = Policy(mode, workspace=secret_ws)
        d = policy.decide("read_file", {"path": ".env.local"})
        assert d.action == "ask" and ".env.local" in d.rule and d.secrets == [".env.local"], mode
        assert policy.decide("search", {"pattern": "x", "path": ".env.local"}).action == "ask"
        assert policy.decide("read_file", {"path": "notes.txt"}).action == "allow"
    assert Policy("read-only", workspace=secret_ws).decide(
        "read_file", {"path": ".env.local"}
    ).action in ("ask", "allow", "deny")


def test_an_allow_rule_of_yours_reads_it_and_approve_similar_does_not(secret_ws: Path) -> None:
    data = secret_ws.parent / "data"
    data.mkdir()
    (data / "policy.toml").write_text('[allow]\nread = [".env.local"]\n')
    policy = Policy.load(secret_ws, data)
    assert policy.decide("read_file", {"path": ".env.local"}).action == "allow"
    assert policy.secret_allowed(".env.local") and not policy.secret_allowed(".env")
    session = Policy("ask", workspace=secret_ws)
    session.with_session_rule("read_file", "/*", "allow")
    assert session.decide("read_file", {"path": ".env.local"}).action == "ask"


async def test_read_file_refuses_a_secret_it_was_not_approved_for(secret_ws: Path) -> None:
    read = TOOLS["read_file"]
    for path in (".env.local", "env-link", "./sub/../.env.local"):
        r = await read.run(_ctx(secret_ws), {"path": path})
        assert not r.ok and r.error_code == "refused" and ".env.local" in r.output, path
    ok = await read.run(_ctx(secret_ws).with_reveal([".env.local"]), {"path": ".env.local"})
    assert ok.ok and "STRIPE_KEY" in ok.output
    assert "rk_live_abcdefghijklmnop0123" not in mask_secrets(ok.output)  # values stay masked


async def test_search_skips_secret_files_unless_approved(secret_ws: Path) -> None:
    search = TOOLS["search"]
    r = await search.run(_ctx(secret_ws), {"pattern": "db"})
    assert "notes.txt" in r.output and ".env.local" not in r.output.split("[skipped")[0]
    assert r.data["skipped_secret_files"] == [".env.local"] and "by its own path" in r.output
    asked = _ctx(secret_ws).with_reveal([".env.local"])
    r = await search.run(asked, {"pattern": "HOST", "path": ".env.local"})
    assert ".env.local:2: HOST=db" in r.output


_WORD_PIECES = [*SECRET, *NOT_SECRET, "--env-file=", "-f=", "/ws/", "../", "./", "a/", "x", "=",
                ".", "K", "\u212a", "\u0130d_rsa", "ID_", "_NETRC", ".Key", "\\", "*", "$"]  # fmt: skip


@given(st.lists(st.lists(st.sampled_from(_WORD_PIECES), max_size=4).map("".join), max_size=8))
def test_the_one_search_before_the_word_checks_drops_no_secret(words: list[str]) -> None:
    """secrets_named's (and is_secret_path's) search (taken without extra patterns) names exactly
    what the word-by-word check names (taken when there are extra patterns: one that never
    matches leaves the defaults alone)."""
    assert secrets_named(words, "/ws") == secrets_named(words, "/ws", ["/no-such-name-xyz"])
    for word in words:
        assert is_secret_path(word) == is_secret_path(word, ["/no-such-name-xyz"]), word
