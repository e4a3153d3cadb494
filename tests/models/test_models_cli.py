"""`python -m harness_ls.models` shows the resolution per purpose and can ping the model."""

from __future__ import annotations

from harness_ls.models.__main__ import main
from harness_ls.trust import trust_config


def test_shows_offline_reason_without_configuration(clean_env, tmp_path, capsys):
    assert main(["--workspace", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "run      -> offline" in out and "set OPENAI_API_KEY" in out


def test_ping_through_a_local_server_and_key_stays_hidden(clean_env, tmp_path, capsys, oai):
    (tmp_path / ".env.local").write_text(
        f"OPENAI_BASE_URL={oai.base_url}\nOPENAI_API_KEY=sk-local-cli-secret-0000000000\n"
    )
    trust_config(clean_env, tmp_path, ".env.local")  # the user's own file: it may set a URL
    oai.push_text("OK")
    try:
        assert main(["--workspace", str(tmp_path), "--model", "openai:qwen3", "--ping"]) == 0
    finally:
        import os

        os.environ.pop("OPENAI_BASE_URL", None)
        os.environ.pop("OPENAI_API_KEY", None)
    out = capsys.readouterr().out
    assert "openai:qwen3: 'OK' in" in out and "chat     -> openai:qwen3" in out
    assert "sk-local-cli-secret" not in out


def test_unknown_model_is_reported_per_purpose(clean_env, tmp_path, capsys):
    assert main(["--workspace", str(tmp_path), "--model", "gtp-5"]) == 0
    assert "error: unknown model 'gtp-5'" in capsys.readouterr().out
