"""One trust for every workspace config file (harness_ls/trust.py): keyed by the place and the
sha256 of the content, never through a symlink, read without blocking or reading too much."""

from __future__ import annotations

import json
import os
import stat
import threading

import pytest

from harness_ls.errors import InvalidInput
from harness_ls.tools import Policy, sandbox
from harness_ls.trust import (
    CONFIG_FILES,
    MAX_BYTES,
    POLICY,
    TRUST_FILE,
    env_needs_trust,
    locate,
    read_all,
    read_config,
    trust_config,
    trusted_files,
    untrust_config,
)

WIDE = '[allow]\nshell = ["*"]\n'


def _ws(tmp_path, name="ws"):
    ws = tmp_path / name
    (ws / ".harness").mkdir(parents=True)
    return ws


def test_trust_is_for_this_content_at_this_place(tmp_path):
    data = tmp_path / "data"
    ws = _ws(tmp_path)
    (ws / ".harness" / "policy.toml").write_text(WIDE)
    assert not read_config(ws, POLICY, data).trusted
    file = trust_config(data, ws, POLICY)
    assert file.trusted and trusted_files(data) == {str(ws / POLICY): file.sha256}
    assert stat.S_IMODE((data / TRUST_FILE).stat().st_mode) == 0o600
    assert read_config(ws, POLICY, data).trusted
    copy = _ws(tmp_path, "copy")  # the same bytes elsewhere: another place, not trusted
    (copy / ".harness" / "policy.toml").write_text(WIDE)
    assert not read_config(copy, POLICY, data).trusted
    (ws / ".harness" / "policy.toml").write_text(WIDE + "# edited\n")  # any edit un-trusts
    assert not read_config(ws, POLICY, data).trusted
    assert untrust_config(data, ws, POLICY) and trusted_files(data) == {}


@pytest.mark.parametrize("link", ["file", "directory", "workspace-relative"])
def test_a_symlinked_config_file_is_never_trusted_nor_trustable(tmp_path, link):
    """Row 9: borrowing another workspace's trusted file through a link trusts nothing."""
    data = tmp_path / "data"
    other = _ws(tmp_path, "other")
    (other / ".harness" / "policy.toml").write_text(WIDE)
    trust_config(data, other, POLICY)
    ws = tmp_path / "ws"
    ws.mkdir()
    if link == "directory":
        (ws / ".harness").symlink_to(other / ".harness")
    else:
        (ws / ".harness").mkdir()
        target = other / ".harness" / "policy.toml"
        if link == "workspace-relative":  # a relative link to a copy inside the workspace
            (ws / "p.toml").write_text(WIDE)
            target = ws / "p.toml"
        (ws / ".harness" / "policy.toml").symlink_to(target)
    file = read_config(ws, POLICY, data)
    assert file.content == WIDE.encode() and file.symlink and not file.trusted
    assert "symlink" in file.state()
    with pytest.raises(InvalidInput, match="symlink"):
        trust_config(data, ws, POLICY)
    policy = Policy.load(ws, data, None)  # its deny/ask still narrow; its allow does not count
    assert policy.decide("shell", {"command": "make"}).action == "ask"
    assert "is a symlink" in policy.warnings[0]


def test_a_fifo_or_a_huge_file_is_reported_not_read(tmp_path):
    data = tmp_path / "data"
    ws = _ws(tmp_path)
    os.mkfifo(ws / ".harness" / "policy.toml")
    done = threading.Event()
    result = {}

    def read() -> None:
        result["file"] = read_config(ws, POLICY, data)
        done.set()

    threading.Thread(target=read, daemon=True).start()
    assert done.wait(10), "reading a FIFO config file blocked"
    assert result["file"].problem == "not a regular file" and result["file"].content is None
    assert Policy.load(ws, data, None).warnings[0].endswith("ignored: not a regular file")
    (ws / ".harness" / "policy.toml").unlink()
    (ws / ".harness" / "policy.toml").write_bytes(b"#" * (MAX_BYTES + 1))
    assert "larger than" in read_config(ws, POLICY, data).problem


def test_the_sandbox_widens_only_on_the_bytes_it_parsed(tmp_path):
    data = tmp_path / "data"
    ws = _ws(tmp_path)
    (ws / ".harness" / "policy.toml").write_text('sandbox = "off"\n')
    assert sandbox.load(ws, data).mode == "workspace-write"  # untrusted: may not loosen
    trust_config(data, ws, POLICY)
    assert sandbox.load(ws, data).mode == "off"
    assert sandbox.load(ws, data, trusted=True).mode == "off"
    (ws / ".harness" / "policy.toml").write_text('sandbox = "off"\n# swapped after trust\n')
    assert sandbox.load(ws, data, trusted=True).mode == "workspace-write"  # a stale "trusted"


def test_locate_and_read_all_name_every_config_file(tmp_path):
    ws = _ws(tmp_path)
    assert locate(ws / ".harness" / "models.toml") == (ws, ".harness/models.toml")
    assert locate(ws / ".env.local") == (ws, ".env.local")
    with pytest.raises(InvalidInput, match="not a workspace config file"):
        locate(ws / "README.md")
    assert [f.name for f in read_all(ws, None)] == list(CONFIG_FILES)


def test_a_damaged_trust_store_trusts_nothing(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for text in ("not json", "[]", json.dumps({"files": []})):
        (data / TRUST_FILE).write_text(text)
        assert trusted_files(data) == {}


@pytest.mark.parametrize(
    ("name", "server", "needs_trust"),
    [
        ("OPENAI_API_KEY", True, False), ("ANTHROPIC_API_KEY", True, False),
        ("MY_GATEWAY_TOKEN", True, False), ("HARNESS_MODEL", True, False),
        ("HARNESS_AUTH_TOKEN", False, False), ("HARNESS_AUTH_TOKEN", True, True),
        ("OPENAI_BASE_URL", True, True), ("OLLAMA_HOST", True, True), ("HARNESS_URL", False, True),
        ("HARNESS_DATA_DIR", False, True), ("HTTPS_PROXY", True, True), ("PATH", True, True),
        ("LD_PRELOAD", True, True), ("GIT_CONFIG_GLOBAL", True, True), ("SSL_CERT_FILE", True, True),
    ],
)  # fmt: skip
def test_what_an_untrusted_env_file_may_set(name, server, needs_trust):
    assert (env_needs_trust(name, server=server) is not None) is needs_trust
