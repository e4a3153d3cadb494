"""`init` scaffolding on real git repos: empty, populated, twice, --force, --dry-run, not a repo."""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from pathlib import Path

import pytest

from harness_ls.diagrams import render as diagrams
from harness_ls.errors import InvalidInput
from harness_ls.scaffold import init
from harness_ls.scaffold.detect import detect_project, read_makefile, read_package_json
from harness_ls.workspace.git import NotAGitRepo

REPO = Path(__file__).resolve().parents[2]
SCAFFOLD = [
    "AGENTS.md",
    "specs/README.md",
    "docs/diagrams/architecture.mmd",
    "scripts/render-diagrams",
    "scripts/render_diagrams_io.py",
    "scripts/render_diagrams_tools.py",
    ".harness/policy.toml",
    "Makefile",  # only when the repo has none: `make diagrams`
]
POPULATED = [p for p in SCAFFOLD if p != "Makefile"]  # populate() writes a Makefile of its own


def git_init(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q"], cwd=path, check=True)
    return path


def populate(ws: Path) -> None:
    (ws / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nrequires-python = ">=3.11"\n'
        '[project.optional-dependencies]\ndev = ["pytest"]\n[tool.ruff]\nline-length = 100\n'
    )
    (ws / "Makefile").write_text(
        "VAR := 1\n.PHONY: test\ntest:\n\tpytest\nlint: deps\n\truff check .\n%.o: %.c\n\tcc $<\n"
    )
    (ws / "package.json").write_text(
        json.dumps(
            {
                "name": "web",
                "scripts": {"test": "vitest", "build": "tsc"},
                "devDependencies": {"typescript": "5"},
            }
        )
    )
    (ws / "pnpm-lock.yaml").write_text("")
    (ws / "go.mod").write_text("module example.com/demo\n\ngo 1.22\n")
    (ws / "Cargo.toml").write_text('[package]\nname = "demo-rs"\nedition = "2021"\n')
    for f in (
        "src/app.py",
        "src/util.py",
        "web/main.ts",
        "cmd/main.go",
        "tests/test_app.py",
        "specs/login/spec.md",
    ):
        (ws / f).parent.mkdir(parents=True, exist_ok=True)
        (ws / f).write_text("x\n")
    (ws / ".github" / "workflows").mkdir(parents=True)
    (ws / ".github" / "workflows" / "ci.yml").write_text("on: push\n")


def test_init_on_an_empty_repo_creates_everything(tmp_path):
    ws = git_init(tmp_path / "empty")
    report = init(ws)
    assert report.created == SCAFFOLD and report.updated == [".gitignore"]
    assert not report.skipped and not report.dry_run
    for rel in SCAFFOLD:
        assert (ws / rel).is_file(), rel
    package = Path(diagrams.__file__).parent
    for shipped, copy in [
        ("render.py", "scripts/render-diagrams"),
        ("render_io.py", "scripts/render_diagrams_io.py"),
        ("render_tools.py", "scripts/render_diagrams_tools.py"),
    ]:
        assert (ws / copy).read_bytes() == (package / shipped).read_bytes(), copy
    assert os.access(ws / "scripts/render-diagrams", os.X_OK)
    assert (ws / "scripts/render_diagrams_io.py").stat().st_mode & 0o777 == 0o644
    assert not (ws / ".harness/spec.schema.json").exists()
    agents = (ws / "AGENTS.md").read_text()
    assert "No build or test commands were found" in agents and "specs/<name>/spec.md" in agents
    assert ".tools/" in (ws / ".gitignore").read_text().splitlines()


def test_init_on_a_populated_repo_lists_languages_and_commands(tmp_path):
    ws = git_init(tmp_path / "pop")
    populate(ws)
    init(ws)
    agents = (ws / "AGENTS.md").read_text()
    assert (
        "**demo**" in agents
        and "Python (3 files)" in agents
        and "TypeScript (1 file)" in agents
        and "Go (1 file)" in agents
    )
    for cmd in (
        "make test",
        "make lint",
        "pytest",
        "ruff check .",
        "pnpm test",
        "pnpm build",
        "pnpm install",
        "go test ./...",
        "cargo test",
        'pip install -e ".[dev]"',
    ):
        assert f"`{cmd}`" in agents, cmd
    assert "make deps" not in agents and "make VAR" not in agents and "%.o" not in agents
    assert "Run the tests (`make test`)" in agents
    assert "`specs/login/spec.md`" in agents and ".github/workflows" in agents
    assert "Line length 100." in agents and "Rust edition 2021" in agents and "Go 1.22" in agents
    readme = (ws / "specs/README.md").read_text()
    assert "# Goal" in readme and "Acceptance tests" in readme


def test_init_twice_skips_everything_and_writes_nothing(tmp_path):
    ws = git_init(tmp_path / "twice")
    populate(ws)
    init(ws)
    (ws / "AGENTS.md").write_text("# my own notes\n")
    mtimes = {p: (ws / p).stat().st_mtime_ns for p in POPULATED}
    second = init(ws)
    assert second.created == [] and second.skipped == POPULATED and second.updated == []
    assert {p: (ws / p).stat().st_mtime_ns for p in POPULATED} == mtimes
    assert (ws / "AGENTS.md").read_text() == "# my own notes\n"


def test_force_backs_up_changed_files_and_leaves_identical_ones(tmp_path):
    ws = git_init(tmp_path / "force")
    init(ws)
    (ws / "AGENTS.md").write_text("# my own notes\n")
    report = init(ws, force=True)
    assert report.overwritten == ["AGENTS.md"] and set(report.unchanged) == set(SCAFFOLD) - {
        "AGENTS.md"
    }
    (backup,) = report.backed_up
    assert (ws / backup.backup).read_text() == "# my own notes\n"
    assert backup.backup.startswith(".harness/backups/")
    assert (ws / "AGENTS.md").read_text().startswith("# AGENTS.md")


def test_dry_run_plans_without_writing(tmp_path):
    ws = git_init(tmp_path / "dry")
    report = init(ws, dry_run=True, with_schema=True)
    assert report.dry_run and ".harness/spec.schema.json" in report.created
    assert "would create    AGENTS.md" in report.summary()
    assert sorted(p.name for p in ws.iterdir()) == [".git"]
    init(ws)
    (ws / "AGENTS.md").write_text("mine\n")
    forced = init(ws, force=True, dry_run=True)
    assert forced.overwritten == ["AGENTS.md"] and (ws / "AGENTS.md").read_text() == "mine\n"
    assert not (ws / ".harness" / "backups").exists()


def test_with_schema_copies_the_builtin_schema(tmp_path):
    ws = git_init(tmp_path / "schema")
    init(ws, with_schema=True)
    copied = ws / ".harness" / "spec.schema.json"
    assert copied.read_bytes() == (REPO / "specs-schema" / "spec.schema.json").read_bytes()
    assert (ws / ".harness" / "spec.schema.meta.json").exists()  # the copy's $schema resolves
    from harness_ls.spec.schema import load_schema

    assert load_schema(ws).sections  # the workspace schema loads


def test_policy_template_parses_and_documents_the_modes(tmp_path):
    ws = git_init(tmp_path / "policy")
    init(ws)
    text = (ws / ".harness" / "policy.toml").read_text()
    data = tomllib.loads(text)
    assert data["mode"] == "ask" and set(data) >= {"allow", "ask", "deny"}
    assert all(
        isinstance(v, list) for table in ("allow", "ask", "deny") for v in data[table].values()
    )
    for mode in ("read-only", "auto-edit", "full-auto"):
        assert f'"{mode}"' in text


def test_not_a_git_repo_is_a_clear_error_with_the_git_init_hint(tmp_path):
    with pytest.raises(NotAGitRepo) as err:
        init(tmp_path)
    assert "not inside a git work tree" in err.value.message and "git init" in err.value.hint
    with pytest.raises(InvalidInput):
        init(tmp_path / "missing")
    assert list(tmp_path.iterdir()) == []


def test_init_in_a_subdirectory_of_a_repo(tmp_path):
    ws = git_init(tmp_path / "mono")
    (ws / "services" / "api").mkdir(parents=True)
    (ws / "services" / "api" / "go.mod").write_text("module x\n\ngo 1.22\n")
    report = init(ws / "services" / "api")
    assert "AGENTS.md" in report.created and (ws / "services" / "api" / "AGENTS.md").exists()
    assert "`go test ./...`" in (ws / "services" / "api" / "AGENTS.md").read_text()


def test_detectors_are_pure_and_tolerate_bad_manifests(tmp_path):
    assert [c.command for c in read_makefile("all: build\nbuild:\n\tx\nclean :\n")] == [
        "make all",
        "make build",
        "make clean",
    ]
    _, cmds, _, ts = read_package_json(
        '{"scripts": {"test": "x", "pretest": "y"}}', {"package-lock.json"}
    )
    assert [c.command for c in cmds] == ["npm ci", "npm test"] and not ts
    (tmp_path / "pyproject.toml").write_text("[project\nname=")
    facts = detect_project(tmp_path, ["pyproject.toml"])
    assert any("pyproject.toml could not be read" in c for c in facts.conventions)


def test_existing_makefile_is_left_alone_with_a_note(tmp_path):
    ws = git_init(tmp_path / "mk")
    (ws / "Makefile").write_text("test:\n\tpytest\n")
    report = init(ws)
    assert "Makefile" not in report.created and (ws / "Makefile").read_text() == "test:\n\tpytest\n"
    assert any("diagrams" in n for n in report.notes) and "note" in report.summary()


def test_scaffolded_makefile_runs_the_renderer(tmp_path):
    ws = git_init(tmp_path / "mk2")
    init(ws)
    out = subprocess.run(
        ["make", "-n", "diagrams"], cwd=ws, capture_output=True, text=True, check=True
    )
    assert "scripts/render-diagrams docs/diagrams" in out.stdout
