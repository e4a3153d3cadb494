"""What a repository is made of, for AGENTS.md: languages, build/test commands, conventions.

Pure readers over file text (pyproject.toml, package.json, Makefile, go.mod, Cargo.toml) plus one
`git ls-files` for the language census, so `agentctl init` stays fast on big repositories.
Nothing here runs the project's tools.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tomllib
from collections import Counter
from pathlib import Path

from pydantic import BaseModel

EXTENSIONS = {
    ".py": "Python",
    ".pyi": "Python",
    ".ts": "TypeScript",
    ".tsx": "TypeScript",
    ".mts": "TypeScript",
    ".js": "JavaScript",
    ".jsx": "JavaScript",
    ".mjs": "JavaScript",
    ".cjs": "JavaScript",
    ".go": "Go",
    ".rs": "Rust",
    ".java": "Java",
    ".kt": "Kotlin",
    ".rb": "Ruby",
    ".php": "PHP",
    ".cs": "C#",
    ".c": "C",
    ".h": "C",
    ".cc": "C++",
    ".cpp": "C++",
    ".hpp": "C++",
    ".swift": "Swift",
    ".sh": "Shell",
    ".bash": "Shell",
    ".lua": "Lua",
    ".ex": "Elixir",
    ".exs": "Elixir",
    ".scala": "Scala",
    ".dart": "Dart",
    ".zig": "Zig",
    ".vue": "Vue",
    ".svelte": "Svelte",
    ".sql": "SQL",
    ".tf": "Terraform",
}
_MAKE_TARGET = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_./-]*)\s*:(?![:=])(.*)$")
_KINDS = {
    "install": ("install", "setup", "deps", "bootstrap", "sync"),
    "build": ("build", "all", "compile", "dist", "package"),
    "test": ("test", "tests", "check", "ci", "unit", "e2e", "test:unit", "test:e2e"),
    "lint": ("lint", "vet", "clippy"),
    "format": ("fmt", "format", "prettier"),
    "typecheck": ("typecheck", "types", "type-check", "mypy", "tsc"),
    "run": ("run", "dev", "start", "serve"),
    "docs": ("docs", "diagrams"),
}


class Command(BaseModel):
    kind: str  # install | build | test | lint | format | typecheck | run | docs | other
    command: str
    source: str  # the file it was found in


class ProjectFacts(BaseModel):
    name: str | None = None
    languages: list[tuple[str, int]] = []  # (language, file count), most files first
    manifests: list[str] = []
    commands: list[Command] = []
    conventions: list[str] = []
    top_dirs: list[str] = []
    specs: list[str] = []
    ci: list[str] = []


def kind_of(name: str) -> str:
    low = name.lower()
    for kind, names in _KINDS.items():
        if low in names or low.split(":")[0] in names:
            return kind
    return "other"


def read_pyproject(text: str, files: set[str]) -> tuple[str | None, list[Command], list[str]]:
    data = tomllib.loads(text)
    project, tool = data.get("project", {}), data.get("tool", {})
    name = project.get("name") or tool.get("poetry", {}).get("name")
    runner = (
        "uv run "
        if "uv.lock" in files
        else "poetry run "
        if "poetry.lock" in files
        else "pdm run "
        if "pdm.lock" in files
        else ""
    )
    src = "pyproject.toml"
    cmds: list[Command] = []
    if "uv.lock" in files:
        cmds.append(Command(kind="install", command="uv sync", source="uv.lock"))
    elif "poetry.lock" in files or "poetry" in tool:
        cmds.append(Command(kind="install", command="poetry install", source=src))
    else:
        extras = project.get("optional-dependencies", {})
        cmds.append(
            Command(
                kind="install",
                command='pip install -e ".[dev]"' if "dev" in extras else "pip install -e .",
                source=src,
            )
        )
    deps = json.dumps(
        [
            project.get("optional-dependencies", {}),
            data.get("dependency-groups", {}),
            tool.get("poetry", {}),
        ]
    )
    if "pytest" in tool or "pytest" in deps or any(f.startswith("tests/") for f in files):
        cmds.append(Command(kind="test", command=f"{runner}pytest", source=src))
    if "ruff" in tool:
        cmds += [
            Command(kind="lint", command=f"{runner}ruff check .", source=src),
            Command(kind="format", command=f"{runner}ruff format .", source=src),
        ]
    elif "black" in tool:
        cmds.append(Command(kind="format", command=f"{runner}black .", source=src))
    if "mypy" in tool:
        cmds.append(Command(kind="typecheck", command=f"{runner}mypy .", source=src))
    if "pyright" in tool:
        cmds.append(Command(kind="typecheck", command=f"{runner}pyright", source=src))
    conv = []
    if project.get("requires-python"):
        conv.append(f"Python {project['requires-python']} (pyproject `requires-python`).")
    ruff = tool.get("ruff", {})
    if ruff.get("line-length") or tool.get("black", {}).get("line-length"):
        conv.append(f"Line length {ruff.get('line-length') or tool['black']['line-length']}.")
    if ruff:
        conv.append(
            "Python code is linted and formatted with ruff: run it before finishing a step."
        )
    return name, cmds, conv


def read_package_json(
    text: str, files: set[str]
) -> tuple[str | None, list[Command], list[str], bool]:
    """(name, commands, conventions, is TypeScript)."""
    data = json.loads(text)
    pm_field = str(data.get("packageManager", ""))
    pm = next((m for m in ("pnpm", "yarn", "bun") if pm_field.startswith(m)), None) or (
        "pnpm"
        if "pnpm-lock.yaml" in files
        else "yarn"
        if "yarn.lock" in files
        else "bun"
        if {"bun.lockb", "bun.lock"} & files
        else "npm"
    )
    src = "package.json"
    install = "npm ci" if pm == "npm" and "package-lock.json" in files else f"{pm} install"
    cmds = [Command(kind="install", command=install, source=src)]
    for script in data.get("scripts", {}) or {}:
        if script.startswith(("pre", "post")) and script[3:] in data.get("scripts", {}):
            continue
        if pm == "npm":
            cmd = f"npm {script}" if script in ("test", "start") else f"npm run {script}"
        else:
            cmd = f"{pm} run {script}" if pm == "bun" else f"{pm} {script}"
        cmds.append(Command(kind=kind_of(script), command=cmd, source=src))
    deps = {**data.get("dependencies", {}), **data.get("devDependencies", {})}
    conv = []
    if data.get("type") == "module":
        conv.append('JavaScript modules are ES modules (`"type": "module"`).')
    for tool in ("eslint", "prettier", "biome", "@biomejs/biome"):
        if tool in deps:
            conv.append(
                f"{tool.split('/')[-1]} is configured (package.json): keep its checks clean."
            )
    ts = "tsconfig.json" in files or "typescript" in deps
    return data.get("name"), cmds, conv, ts


def read_makefile(text: str, source: str = "Makefile") -> list[Command]:
    cmds: list[Command] = []
    for line in text.splitlines():
        m = _MAKE_TARGET.match(line)
        if not m or m.group(1).startswith(".") or "%" in m.group(1) or "/" in m.group(1):
            continue
        target = m.group(1)
        if any(c.command == f"make {target}" for c in cmds):
            continue
        cmds.append(Command(kind=kind_of(target), command=f"make {target}", source=source))
    return cmds[:25]


def read_go_mod(text: str) -> tuple[str | None, list[Command], list[str]]:
    module = re.search(r"^module\s+(\S+)", text, re.M)
    version = re.search(r"^go\s+(\S+)", text, re.M)
    cmds = [
        Command(kind="build", command="go build ./...", source="go.mod"),
        Command(kind="test", command="go test ./...", source="go.mod"),
        Command(kind="lint", command="go vet ./...", source="go.mod"),
        Command(kind="format", command="gofmt -l -w .", source="go.mod"),
    ]
    conv = [f"Go {version.group(1)} (go.mod)."] if version else []
    return (module.group(1) if module else None), cmds, conv


def read_cargo_toml(text: str) -> tuple[str | None, list[Command], list[str]]:
    data = tomllib.loads(text)
    ws = " --workspace" if "workspace" in data else ""
    cmds = [
        Command(kind="build", command=f"cargo build{ws}", source="Cargo.toml"),
        Command(kind="test", command=f"cargo test{ws}", source="Cargo.toml"),
        Command(
            kind="lint",
            command=f"cargo clippy{ws} --all-targets -- -D warnings",
            source="Cargo.toml",
        ),
        Command(kind="format", command="cargo fmt --all", source="Cargo.toml"),
    ]
    pkg = data.get("package", {})
    conv = [f"Rust edition {pkg['edition']} (Cargo.toml)."] if pkg.get("edition") else []
    return pkg.get("name"), cmds, conv


def detect_project(root: Path, files: list[str]) -> ProjectFacts:
    """Facts from the repository's files (`files`: workspace-relative paths, tracked + untracked)."""
    fileset = set(files)
    facts = ProjectFacts()
    counts = Counter(EXTENSIONS[Path(f).suffix] for f in files if Path(f).suffix in EXTENSIONS)
    facts.languages = counts.most_common()
    facts.top_dirs = sorted(
        {f.split("/", 1)[0] + "/" for f in files if "/" in f and not f.startswith(".")}
    )[:20]
    facts.specs = sorted(f for f in files if re.fullmatch(r"specs/[^/]+/spec\.md", f))
    facts.ci = sorted(
        {
            f.split("/")[0] + ("/" + f.split("/")[1] if f.startswith(".github/") else "")
            for f in files
            if f.startswith((".github/workflows/", ".gitlab-ci.yml", ".ci/", ".circleci/"))
        }
    )

    def read(name: str) -> str | None:
        return read_manifest(root / name)

    for name in ("GNUmakefile", "Makefile", "makefile"):
        if (text := read(name)) is not None:
            facts.manifests.append(name)
            facts.commands += read_makefile(text, name)
            break

    def package_json(text: str) -> tuple[str | None, list[Command], list[str]]:
        name, cmds, conv, ts = read_package_json(text, fileset)
        return name, cmds, conv + (["TypeScript: keep `tsc --noEmit` clean."] if ts else [])

    readers = {
        "pyproject.toml": lambda t: read_pyproject(t, fileset),
        "package.json": package_json,
        "go.mod": read_go_mod,
        "Cargo.toml": read_cargo_toml,
    }
    for manifest, reader in readers.items():
        if (text := read(manifest)) is None:
            continue
        facts.manifests.append(manifest)
        try:
            name, cmds, conv = reader(text)
        except (ValueError, AttributeError, TypeError) as exc:  # TOMLDecodeError is a ValueError
            facts.conventions.append(
                f"{manifest} could not be read ({exc}); fix it before relying on it."
            )
            continue
        facts.name = facts.name or name
        facts.commands += cmds
        facts.conventions += conv
    for extra, cmd, kind in (
        ("tox.ini", "tox", "test"),
        ("noxfile.py", "nox", "test"),
        ("requirements.txt", "pip install -r requirements.txt", "install"),
    ):
        if extra in fileset:
            facts.manifests.append(extra)
            facts.commands.append(Command(kind=kind, command=cmd, source=extra))
    if not any("pytest" in c.command for c in facts.commands):
        if source := pytest_source(root, fileset):
            if source in fileset:
                facts.manifests.append(source)
            facts.commands.append(Command(kind="test", command="pytest", source=source))
    if (root / ".editorconfig").exists():
        facts.conventions.append("Follow .editorconfig (indentation, final newline).")
    return facts


def pytest_source(root: Path, files: set[str]) -> str | None:
    """Why pytest is this project's test runner without a pyproject saying so: a pytest.ini,
    a `[tool:pytest]` setup.cfg, a conftest.py, or test_*.py / *_test.py under tests/."""
    for name in ("pytest.ini", "conftest.py"):
        if name in files:
            return name
    if "setup.cfg" in files:
        try:
            if "[tool:pytest]" in (read_manifest(root / "setup.cfg") or ""):
                return "setup.cfg"
        except (OSError, UnicodeDecodeError):
            pass
    for f in files:
        name = f.rsplit("/", 1)[-1]
        if (
            f.startswith(("tests/", "test/"))
            and name.endswith(".py")
            and (name.startswith("test_") or name.endswith("_test.py"))
        ):
            return f.split("/", 1)[0] + "/"
    return None


MAX_MANIFEST_BYTES = 1 << 20


def read_manifest(path: Path) -> str | None:
    """A project file's text, or None: only a regular file, opened non-blocking, at most 1 MiB —
    a cloned repository's `Makefile -> /dev/zero` filled agentctl's memory, a FIFO hung it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = fh.read(MAX_MANIFEST_BYTES + 1)
    if len(data) > MAX_MANIFEST_BYTES:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
