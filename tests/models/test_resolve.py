"""Model resolution: precedence, credentials, capabilities, models.toml, and the offline path."""

from __future__ import annotations

import json

import pytest

from harness_ls.errors import InvalidInput
from harness_ls.models import (
    Message,
    ModelAuthError,
    ModelConfigError,
    ModelNotConfigured,
    ModelUnsuitable,
    OfflineProvider,
    ScriptedProvider,
    TextDelta,
    UnknownModel,
    describe,
    resolve,
)

HI = [Message(role="user", content="hi")]


def test_nothing_configured_resolves_offline_and_explains(clean_env):
    m = resolve("run")
    assert m.is_offline and isinstance(m.provider, OfflineProvider)
    assert "OPENAI_API_KEY" in m.reason and "ANTHROPIC_API_KEY" in m.reason
    assert m.hint and "docs/models.md" in m.hint


async def test_offline_provider_refuses_with_how_to_configure(clean_env):
    m = resolve("session")
    with pytest.raises(ModelNotConfigured, match="no model is configured") as info:
        await m.complete(HI)
    assert "OPENAI_API_KEY" in info.value.hint and "docs/models.md" in info.value.hint
    with pytest.raises(ModelNotConfigured):
        async for _ in m.stream(HI):
            pass


def test_openai_key_picks_a_tool_capable_openai_model(clean_env, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-aaaaaaaaaaaaaaaaaaaaaaaa")
    m = resolve("run")
    assert m.name == "openai:gpt-5" and not m.is_offline
    assert "OPENAI_API_KEY" in m.reason and "tools" in m.reason


def test_anthropic_key_alone_picks_claude(clean_env, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-aaaaaaaaaaaa")
    assert resolve("session").name == "anthropic:claude-sonnet-4-5"


def test_audio_need_picks_an_audio_model(clean_env, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-aaaaaaaaaaaaaaaaaaaaaaaa")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-aaaaaaaaaaaa")
    assert resolve("chat", {"audio"}).name == "openai:gpt-4o-audio-preview"


def test_explicit_beats_env_beats_models_toml_defaults(clean_env, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-aaaaaaaaaaaaaaaaaaaaaaaa")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-aaaaaaaaaaaa")
    (clean_env / "models.toml").write_text('[defaults]\nrun = "openai:gpt-4.1-mini"\n')
    assert resolve("run").name == "openai:gpt-4.1-mini"
    assert resolve("spec").name == "openai:gpt-5"  # no default for spec: automatic
    monkeypatch.setenv("HARNESS_MODEL", "claude-haiku-4-5")
    assert resolve("run").name == "anthropic:claude-haiku-4-5"
    m = resolve("run", explicit="openai:gpt-4o")
    assert m.name == "openai:gpt-4o" and "--model" in m.reason


def test_unknown_bare_model_suggests_close_names(clean_env):
    with pytest.raises(UnknownModel, match="unknown model 'gtp-4.1'") as info:
        resolve("run", explicit="gtp-4.1")
    assert "gpt-4.1" in info.value.hint and "openai:gtp-4.1" in info.value.hint


def test_explicit_model_without_its_key_names_the_variable(clean_env):
    with pytest.raises(ModelNotConfigured, match="ANTHROPIC_API_KEY") as info:
        resolve("run", explicit="anthropic:claude-sonnet-4-5")
    assert ".env.local" in info.value.hint


def test_explicit_model_without_tools_is_unsuitable_for_a_run(clean_env):
    with pytest.raises(ModelUnsuitable, match="does not support tools, needed for a run"):
        resolve("run", explicit="ollama:llama3.2-vision:11b")
    assert resolve("chat", {"vision"}, explicit="ollama:llama3.2-vision:11b").info.supports_vision


def test_vision_need_with_only_text_models_configured_raises(clean_env, tmp_path, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")
    ws = tmp_path / "ws"
    (ws / ".harness").mkdir(parents=True)
    (ws / ".harness" / "models.toml").write_text(
        '[[models]]\nid = "qwen2.5-coder:7b"\nprovider = "ollama"\ncontext_window = 32768\n'
    )
    assert resolve("run", workspace=ws).name == "ollama:qwen2.5-coder:7b"
    with pytest.raises(ModelUnsuitable, match="supports tools, vision") as info:
        resolve("session", {"vision"}, workspace=ws)
    assert "HARNESS_MODEL" in info.value.hint


def test_key_for_the_wrong_provider_is_caught(clean_env, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-ant-api03-aaaaaaaaaaaaaaaa")
    with pytest.raises(ModelAuthError, match="OPENAI_API_KEY holds an Anthropic key") as info:
        resolve("run")
    assert "sk-ant-api03" not in info.value.one_line()


def test_unknown_need_or_purpose_is_invalid_input(clean_env):
    with pytest.raises(InvalidInput, match="capability"):
        resolve("run", {"telepathy"})
    with pytest.raises(InvalidInput, match="purpose"):
        resolve("dance")  # type: ignore[arg-type]


def test_scripted_path_is_relative_to_the_workspace(clean_env, tmp_path):
    (tmp_path / "script.json").write_text(json.dumps({"responses": [{"text": "hi"}]}))
    m = resolve("run", explicit="scripted:script.json", workspace=tmp_path)
    assert isinstance(m.provider, ScriptedProvider) and not m.is_offline
    assert m.info.supports_tools and m.name == f"scripted:{(tmp_path / 'script.json').resolve()}"


def test_missing_script_file_is_a_clear_error(clean_env, tmp_path):
    with pytest.raises(ModelConfigError, match="no such script file"):
        resolve("run", explicit="scripted:nope.json", workspace=tmp_path)


def test_explicit_offline(clean_env, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-aaaaaaaaaaaaaaaaaaaaaaaa")
    m = resolve("run", explicit="offline")
    assert m.is_offline and "--model" in m.reason


def test_loopback_base_url_without_model_name_goes_offline_saying_what_to_set(
    clean_env, monkeypatch
):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    m = resolve("run")
    assert m.is_offline and "HARNESS_MODEL=openai:<model>" in m.reason


def test_remote_base_url_without_key_is_not_configured(clean_env, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "https://gateway.example.com/v1")
    with pytest.raises(ModelNotConfigured, match="OPENAI_API_KEY"):
        resolve("run", explicit="openai:some-model")


async def test_local_openai_compatible_server_needs_no_key(clean_env, monkeypatch, oai):
    monkeypatch.setenv("OPENAI_BASE_URL", oai.base_url)
    monkeypatch.setenv("HARNESS_MODEL", "openai:llama3.1:8b")
    m = resolve("run")
    assert m.info.id == "llama3.1:8b" and not m.info.known
    oai.push_text("local ", "answer")
    evs = [e async for e in m.stream(HI)]
    assert "".join(e.text for e in evs if isinstance(e, TextDelta)) == "local answer"
    assert "authorization" not in oai.headers[0]
    assert oai.requests[0]["model"] == "llama3.1:8b"


async def test_ollama_host_forms_are_normalized(clean_env, monkeypatch, oai):
    host = oai.base_url.removeprefix("http://").removesuffix("/v1")
    monkeypatch.setenv("OLLAMA_HOST", host)
    m = resolve("run", explicit="ollama:qwen2.5-coder:7b")
    assert m.provider.base_url == oai.base_url
    oai.push_text("from ollama")
    assert (await m.complete(HI)).text == "from ollama"


async def test_custom_provider_from_models_toml(clean_env, monkeypatch, oai):
    monkeypatch.setenv("LMSTUDIO_KEY", "lm-secret-0000000000")
    (clean_env / "models.toml").write_text(
        f'[providers.lmstudio]\nkind = "openai"\nbase_url = "{oai.base_url}"\napi_key_env = "LMSTUDIO_KEY"\n\n'
        '[[models]]\nid = "qwen3-coder"\nprovider = "lmstudio"\nsupports_vision = true\n'
    )
    m = resolve("session", {"vision"})
    assert m.name == "lmstudio:qwen3-coder"
    oai.push_text("hi")
    await m.complete(HI)
    assert oai.headers[0]["authorization"] == "Bearer lm-secret-0000000000"


def test_workspace_models_toml_overrides_data_dir(clean_env, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-aaaaaaaaaaaaaaaaaaaaaaaa")
    (clean_env / "models.toml").write_text(
        '[[models]]\nid = "gpt-5"\nprovider = "openai"\nsupports_tools = false\n'
    )
    assert resolve("run").name == "openai:gpt-4.1"  # gpt-5 declared tool-less in the data dir
    ws = tmp_path / "ws"
    (ws / ".harness").mkdir(parents=True)
    (ws / ".harness" / "models.toml").write_text('[[models]]\nid = "gpt-5"\nprovider = "openai"\n')
    assert resolve("run", workspace=ws).name == "openai:gpt-5"


@pytest.mark.parametrize("text,match", [
    ("[[models]\nid=1", "cannot read models.toml"),
    ('[[models]]\nid = "x"\nprovider = "nobody"\n', "unknown provider 'nobody'"),
    ('[[models]]\nid = "x"\nprovider = "openai"\ncontext_window = "big"\n', "context_window"),
    ('[defaults]\nbuild = "openai:gpt-5"\n', "not one of run"),
    ('[[models]]\nid = "x"\nprovider = "openai"\nsuports_tools = true\n', "#1: unknown key suports_tools"),
    ("models = 3\n", "must be a list"),
])  # fmt: skip
def test_invalid_models_toml_names_the_file_and_problem(clean_env, text, match):
    (clean_env / "models.toml").write_text(text)
    with pytest.raises(ModelConfigError, match=match) as info:
        resolve("run")
    assert str(clean_env / "models.toml") in info.value.message


def test_describe_reports_providers_without_key_values(clean_env, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-zzzzzzzzzzzzzz")
    info = describe()
    by = {p["name"]: p for p in info["providers"]}
    assert by["anthropic"]["configured"] and by["anthropic"]["key_set"]
    assert not by["openai"]["configured"] and by["openai"]["missing"] == "set OPENAI_API_KEY"
    assert "sk-ant-test-zzzz" not in json.dumps(info)
    assert "openai:gpt-5" in info["models"]


async def test_missing_ollama_model_says_to_pull_it(clean_env, monkeypatch, oai, fast):
    from harness_ls.models import ModelNotFound

    monkeypatch.setenv("OLLAMA_HOST", oai.base_url.removesuffix("/v1"))
    m = resolve("run", explicit="ollama:qwen2.5-coder:7b")
    oai.push_error(404, "model 'qwen2.5-coder:7b' not found, try pulling it first")
    m.provider.settings = fast
    with pytest.raises(ModelNotFound) as info:
        await m.complete(HI)
    assert info.value.hint == "pull it first: ollama pull qwen2.5-coder:7b"


def test_price_gives_cost_and_unknown_price_gives_none(clean_env, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-aaaaaaaaaaaaaaaaaaaaaaaa")
    assert resolve("run", explicit="gpt-4.1").info.cost(1_000_000, 500_000) == pytest.approx(6.0)
    assert resolve("run", explicit="openai:brand-new").info.cost(10, 10) is None


async def test_resolving_a_script_again_continues_where_it_was(clean_env, tmp_path):
    path = tmp_path / "turns.json"
    path.write_text(json.dumps({"responses": [{"text": "turn 1"}, {"text": "turn 2"}]}))
    assert (await resolve("session", explicit=f"scripted:{path}").complete(HI)).text == "turn 1"
    assert (await resolve("session", explicit=f"scripted:{path}").complete(HI)).text == "turn 2"
    path.write_text(json.dumps({"responses": [{"text": "edited script, first answer"}]}))
    again = await resolve("session", explicit=f"scripted:{path}").complete(HI)
    assert again.text == "edited script, first answer"


async def test_gemini_key_uses_the_openai_compatible_endpoint(clean_env, monkeypatch, oai):
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-test-key-000000000")
    m = resolve("session", {"vision"})
    assert m.name == "gemini:gemini-2.5-pro"
    assert m.provider.base_url == "https://generativelanguage.googleapis.com/v1beta/openai"
    monkeypatch.setenv("GEMINI_BASE_URL", oai.base_url)  # a gateway / the local fake
    oai.push_text("hi from gemini")
    m = resolve("run", explicit="gemini-2.5-flash")
    assert (await m.complete(HI)).text == "hi from gemini"
    assert oai.headers[0]["authorization"] == "Bearer gemini-test-key-000000000"
