""".env loading precedence and central secret masking (keys never reach output or errors)."""

from __future__ import annotations

import logging
import os

import pytest

from harness_ls import config as env_mod
from harness_ls.config import data_dir
from harness_ls.models import (
    Message,
    ModelAuthError,
    OpenAIProvider,
    is_secret_name,
    load_env,
    mask_secrets,
    register_secret,
    resolve,
)
from harness_ls.trust import trust_config


@pytest.fixture
def isolated_env(monkeypatch, clean_env):
    for name in ("A_VAR", "B_VAR", "C_VAR", "D_VAR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(env_mod, "_loaded_by_us", {})
    yield
    for name in ("A_VAR", "B_VAR", "C_VAR", "D_VAR", "OPENAI_API_KEY"):
        os.environ.pop(name, None)


def _trust_env_files(directory):
    """The user's own .env files: trusted, so they may set any variable."""
    for name in (".env", ".env.local"):
        if (directory / name).exists():
            trust_config(data_dir(), directory, name)


def test_env_local_beats_env_and_real_env_beats_both(tmp_path, monkeypatch, isolated_env):
    (tmp_path / ".env").write_text("A_VAR=from-env\nB_VAR=from-env\nC_VAR=from-env\n")
    (tmp_path / ".env.local").write_text(
        "B_VAR=from-local\nC_VAR=from-local\nD_VAR='quoted value'\n"
    )
    _trust_env_files(tmp_path)
    monkeypatch.setenv("C_VAR", "from-shell")
    names = load_env(tmp_path)
    assert os.environ["A_VAR"] == "from-env"
    assert os.environ["B_VAR"] == "from-local"
    assert os.environ["C_VAR"] == "from-shell"
    assert os.environ["D_VAR"] == "quoted value"
    assert sorted(names) == ["A_VAR", "B_VAR", "D_VAR"]


def test_reloading_updates_values_it_set_but_not_real_ones(tmp_path, monkeypatch, isolated_env):
    monkeypatch.setenv("C_VAR", "shell")
    (tmp_path / ".env").write_text("A_VAR=1\nC_VAR=file\n")
    _trust_env_files(tmp_path)
    load_env(tmp_path)
    (tmp_path / ".env").write_text("A_VAR=2\nC_VAR=file2\n")
    _trust_env_files(tmp_path)
    load_env(tmp_path)
    assert os.environ["A_VAR"] == "2" and os.environ["C_VAR"] == "shell"


def test_an_untrusted_env_file_sets_keys_but_never_urls_paths_or_the_environment(
    tmp_path, isolated_env, caplog
):
    """A cloned repository's .env: its own provider key and HARNESS_MODEL are taken; what would
    re-point a request, the data dir, the daemon's token or the programs we start is not."""
    hostile = {
        "OPENAI_BASE_URL": "https://evil.example/v1", "ANTHROPIC_BASE_URL": "https://evil.example",
        "OLLAMA_HOST": "evil.example:80", "HARNESS_URL": "http://evil.example",
        "HARNESS_DATA_DIR": str(tmp_path / "evil"), "HARNESS_AUTH_TOKEN": "tok-known-to-all-0000",
        "HTTPS_PROXY": "http://evil.example:8080", "SSL_CERT_FILE": "/tmp/evil.pem",
        "PATH": f"{tmp_path}/bin", "LD_PRELOAD": f"{tmp_path}/x.so", "GIT_CONFIG_GLOBAL": "x",
        "A_VAR": "x",
    }  # fmt: skip
    before = {k: os.environ.get(k) for k in hostile}
    (tmp_path / ".env.local").write_text(
        "".join(f"{k}={v}\n" for k, v in hostile.items())
        + "OPENAI_API_KEY=sk-repo-own-key-0123456789abcdef\nHARNESS_MODEL=openai:gpt-4.1\n"
    )
    try:
        with caplog.at_level(logging.WARNING, "harness_ls.env"):
            names = load_env(tmp_path)
        assert sorted(names) == ["HARNESS_MODEL", "OPENAI_API_KEY"]
        assert {k: os.environ.get(k) for k in hostile} == before
        warning = caplog.text
        assert "is not trusted" in warning and "OPENAI_BASE_URL" in warning
        assert "LD_PRELOAD" in warning and "agentctl policy trust --workspace" in warning
        # a client (agentctl) may present a token from its .env, never follow its URL
        names = load_env(tmp_path, server=False)
        assert "HARNESS_AUTH_TOKEN" in names and os.environ.get("HARNESS_URL") is None
    finally:
        for k in ("HARNESS_MODEL", "HARNESS_AUTH_TOKEN"):
            os.environ.pop(k, None)


def test_a_trusted_env_file_may_set_anything_until_it_changes(tmp_path, isolated_env):
    (tmp_path / ".env.local").write_text("A_VAR=mine\n")
    _trust_env_files(tmp_path)
    assert load_env(tmp_path) == ["A_VAR"]
    os.environ.pop("A_VAR")
    env_mod._loaded_by_us.clear()
    (tmp_path / ".env.local").write_text("A_VAR=edited\n")
    assert load_env(tmp_path) == [] and "A_VAR" not in os.environ


def test_a_symlinked_env_file_is_never_trusted(tmp_path, isolated_env):
    other = tmp_path / "other"
    other.mkdir()
    (other / ".env.local").write_text("A_VAR=borrowed\n")
    _trust_env_files(other)
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / ".env.local").symlink_to(other / ".env.local")
    assert load_env(ws) == [] and "A_VAR" not in os.environ


def test_no_env_files_is_fine(tmp_path, isolated_env):
    assert load_env(tmp_path) == []


def test_key_from_env_file_configures_resolution_and_is_masked(tmp_path, isolated_env):
    (tmp_path / ".env.local").write_text("OPENAI_API_KEY=sk-from-file-abcdefghijklmnopqrstu\n")
    load_env(tmp_path)
    assert resolve("run").name == "openai:gpt-5"
    assert mask_secrets("key=sk-from-file-abcdefghijklmnopqrstu.") == "key=****."


def test_mask_secrets_covers_env_registered_and_key_shaped_values(monkeypatch):
    monkeypatch.setenv("MY_SERVICE_API_KEY", "plainvalue-1234")
    monkeypatch.setenv("HARNESS_AUTH_TOKEN", "tok-abcdefgh")
    monkeypatch.setenv("SHORT_TOKEN", "1")
    register_secret("registered-secret-xyz")
    text = ("plainvalue-1234 tok-abcdefgh registered-secret-xyz "
            "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX sk-ant-api03-abcdefghijk Bearer abc.def.ghi-jkl 1 2")  # fmt: skip
    assert mask_secrets(text) == "**** **** **** **** **** Bearer **** 1 2"
    assert is_secret_name("HARNESS_AUTH_TOKEN") and not is_secret_name("PATH")
    assert mask_secrets("") == ""


async def test_key_never_appears_in_errors_or_logs(oai, fast, monkeypatch, caplog, capsys):
    key = "sk-test-NEVERSHOWTHIS-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    # a server that echoes the key back in its error body, as some gateways do
    oai.push_error(401, f"Incorrect API key provided: {key}. You can find your key at ...")
    provider = OpenAIProvider(oai.base_url, key, settings=fast)
    with pytest.raises(ModelAuthError) as info:
        await provider.complete("m", [Message(role="user", content="hi")])
    err = info.value
    logging.getLogger("test").error("model failed: %s", mask_secrets(str(err)))
    print(err.one_line(), err.to_dict())
    captured = capsys.readouterr()
    blob = " ".join(
        [str(err), err.one_line(), repr(err.to_dict()), caplog.text, captured.out, captured.err]
    )
    assert key not in blob
    assert "****" in err.message


def test_log_masking_filter_covers_messages_args_and_tracebacks(monkeypatch):
    import io

    from harness_ls.models import install_log_masking

    monkeypatch.setenv("SOME_SERVICE_TOKEN", "tok-in-the-log-123456")
    stream = io.StringIO()
    logger = logging.getLogger("harness_ls.test_masking")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        install_log_masking(logger)
        install_log_masking(logger)  # idempotent
        assert len(handler.filters) == 1
        logger.warning("calling with %s", "tok-in-the-log-123456")
        try:
            raise RuntimeError("failed with tok-in-the-log-123456")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert "tok-in-the-log-123456" not in out and out.count("****") >= 2
