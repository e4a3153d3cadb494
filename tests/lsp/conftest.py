from __future__ import annotations

import sys
from pathlib import Path

import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from harness_ls.testing.specs import GOOD_SPEC as GOOD  # noqa: F401


def make_workspace(tmp: Path) -> Path:
    (tmp / "specs" / "login").mkdir(parents=True, exist_ok=True)
    return tmp


NO_SIDECAR = {"harness": {"sidecar": {"enabled": False}}}


async def _start(client: LanguageClient, root: Path, caps: str, options=NO_SIDECAR):
    await client.initialize_session(
        t.InitializeParams(
            capabilities=client_capabilities(caps),
            root_uri=root.as_uri(),
            workspace_folders=[t.WorkspaceFolder(uri=root.as_uri(), name="ws")],
            initialization_options=options,
        )
    )


def _config():
    return ClientServerConfig(server_command=[sys.executable, "-m", "harness_ls"])


@pytest_lsp.fixture(config=_config())
async def nvim_client(lsp_client: LanguageClient, tmp_path):
    root = make_workspace(tmp_path)
    await _start(lsp_client, root, "neovim@v0.11")
    lsp_client.root = root
    yield lsp_client
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=_config())
async def vscode_client(lsp_client: LanguageClient, tmp_path):
    root = make_workspace(tmp_path)
    await _start(lsp_client, root, "visual_studio_code")
    lsp_client.root = root
    yield lsp_client
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=_config())
async def push_client(lsp_client: LanguageClient, tmp_path):
    """A client without pull-diagnostic support: gets publishDiagnostics."""
    root = make_workspace(tmp_path)
    await lsp_client.initialize_session(
        t.InitializeParams(
            capabilities=t.ClientCapabilities(
                text_document=t.TextDocumentClientCapabilities(
                    publish_diagnostics=t.PublishDiagnosticsClientCapabilities()
                )
            ),
            root_uri=root.as_uri(),
            initialization_options=NO_SIDECAR,
        )
    )
    lsp_client.root = root
    yield lsp_client
    await lsp_client.shutdown_session()
