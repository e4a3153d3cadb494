"""`agentctl init`: prepare a git repository for spec-driven work.

Writes AGENTS.md, specs/README.md, docs/diagrams/architecture.mmd, scripts/render-diagrams (and
the two modules it loads from its folder), .harness/policy.toml and (asked for)
.harness/spec.schema.json. Idempotent: existing files are skipped; `force` overwrites them after
copying the old file to `.harness/backups/<time>/`; `dry_run` only plans. Works without a
daemon: plain files and one `git ls-files`.
"""

from __future__ import annotations

import os
import re
import stat
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from pydantic import BaseModel

import harness_ls.nofollow as nofollow
from harness_ls.errors import InvalidInput, Refused
from harness_ls.scaffold.agents_md import (
    render_agents_md,
    render_specs_readme,
    spec_sections,
    template_text,
)
from harness_ls.scaffold.detect import ProjectFacts, detect_project
from harness_ls.workspace.git import open_repo

BACKUP_DIR = Path(".harness") / "backups"
GITIGNORE_LINES = [".tools/", ".harness/backups/"]
MAX_LISTED_FILES = 50_000
MAX_GITIGNORE = 4 * 1024 * 1024  # a larger .gitignore is refused, never cut


class PlannedFile(BaseModel):
    path: str  # workspace-relative, POSIX
    content: bytes
    executable: bool = False


class Backup(BaseModel):
    path: str
    backup: str


class InitReport(BaseModel):
    workspace: str
    dry_run: bool
    force: bool
    created: list[str] = []
    overwritten: list[str] = []
    unchanged: list[str] = []  # --force with identical content: nothing to do
    skipped: list[str] = []  # existed, left alone (no --force)
    backed_up: list[Backup] = []
    updated: list[str] = []  # appended to (.gitignore)
    notes: list[str] = []  # what the user may want to do by hand
    facts: ProjectFacts = ProjectFacts()

    def summary(self) -> str:
        verb = "would " if self.dry_run else ""
        lines = [f"{'plan for' if self.dry_run else 'initialised'} {self.workspace}"]
        lines += [f"  {verb}create    {p}" for p in self.created]
        lines += [f"  {verb}overwrite {p}" for p in self.overwritten]
        lines += [f"  {verb}back up   {b.path} -> {b.backup}" for b in self.backed_up]
        lines += [f"  {verb}update    {p}" for p in self.updated]
        lines += [f"  unchanged {p}" for p in self.unchanged]
        lines += [
            f"  skip      {p} (exists; --force overwrites it with a backup)" for p in self.skipped
        ]
        lines += [f"  note      {n}" for n in self.notes]
        return "\n".join(lines)


def _schema_files() -> list[tuple[str, bytes]]:
    """The built-in spec schema (and its meta-schema, which it references) as shipped files."""
    candidates: list[Path] = []
    try:
        from harness_ls.spec.schema import builtin_schema_path

        candidates.append(builtin_schema_path())
    except ImportError:
        pass
    candidates.append(Path(__file__).resolve().parents[2] / "specs-schema" / "spec.schema.json")
    for path in candidates:
        if path.is_file():
            out = [("spec.schema.json", path.read_bytes())]
            meta = path.with_name("spec.schema.meta.json")
            if meta.is_file():
                out.append(("spec.schema.meta.json", meta.read_bytes()))
            return out
    raise InvalidInput(
        "the built-in spec schema (specs-schema/spec.schema.json) is missing from this installation",
        hint="reinstall harness-ls, or run init without --with-schema",
    )


SCRIPT = "scripts/render-diagrams"
RENDERER_FILES = [  # package file -> scaffolded path (render.py loads its siblings by these names)
    ("render.py", SCRIPT),
    ("render_io.py", "scripts/render_diagrams_io.py"),
    ("render_tools.py", "scripts/render_diagrams_tools.py"),
]

MAKEFILE = """# Written by `agentctl init` (harness-ls). `make diagrams` renders docs/diagrams/*.mmd to PNG.
.PHONY: diagrams
diagrams:
\tscripts/render-diagrams docs/diagrams
"""
MAKEFILE_HINT = "your Makefile has no `diagrams` target; add one that runs `scripts/render-diagrams docs/diagrams`"


def _has_makefile(root: Path) -> bool:
    """A Makefile of the user's (one init wrote itself is still init's, so a rerun lists it)."""
    for name in ("Makefile", "makefile", "GNUmakefile"):
        path = root / name
        if path.exists():
            return not (
                name == "Makefile" and path.is_file() and path.read_bytes() == MAKEFILE.encode()
            )
    return False


def _makefile_note(root: Path) -> str | None:
    if not _has_makefile(root):
        return None
    for name in ("GNUmakefile", "makefile", "Makefile"):
        path = root / name
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            return None if re.search(r"^diagrams\s*:", text, re.MULTILINE) else MAKEFILE_HINT
    return None


def _renderer_files() -> list[PlannedFile]:
    """The diagram renderer, byte for byte: the script and the modules it loads from its folder."""
    here = resources.files("harness_ls.diagrams")
    return [
        PlannedFile(path=dest, content=here.joinpath(src).read_bytes(), executable=dest == SCRIPT)
        for src, dest in RENDERER_FILES
    ]


def plan_files(root: Path, facts: ProjectFacts, *, with_schema: bool) -> list[PlannedFile]:
    """Every file init writes, with its content (pure apart from reading packaged templates)."""
    sections = spec_sections()
    files = [
        PlannedFile(path="AGENTS.md", content=render_agents_md(facts, root, sections).encode()),
        PlannedFile(
            path="specs/README.md",
            content=render_specs_readme(sections, with_schema=with_schema).encode(),
        ),
        PlannedFile(
            path="docs/diagrams/architecture.mmd",
            content=template_text("architecture.mmd").encode(),
        ),
        *_renderer_files(),
        PlannedFile(path=".harness/policy.toml", content=template_text("policy.toml").encode()),
    ]
    if not _has_makefile(root):
        files.append(PlannedFile(path="Makefile", content=MAKEFILE.encode()))
    if with_schema:
        files += [
            PlannedFile(path=f".harness/{name}", content=data) for name, data in _schema_files()
        ]
    return files


def _listed_files(workspace: Path) -> list[str]:
    repo = open_repo(workspace)
    out = repo.run(
        "ls-files", "-z", "-c", "-o", "--exclude-standard", "--", str(workspace.resolve())
    ).stdout
    prefix = os.path.relpath(workspace.resolve(), repo.root)
    names = [os.fsdecode(p) for p in out.split(b"\0")[:MAX_LISTED_FILES] if p]
    if prefix != ".":
        names = [n[len(prefix) + 1 :] for n in names if n.startswith(prefix + "/")]
    return names


def _write(ws: Path, target: Path, f: PlannedFile) -> None:
    """By descriptors from the folder's real path, no link followed, through a fresh temp file:
    a `.<name>.init-tmp` link a cloned repository shipped had init overwrite (and chmod +x) the
    file it leads to."""
    mode = 0o755 if f.executable else 0o644
    folder = os.path.realpath(target.parent)
    if not Path(folder).is_relative_to(ws):  # checked before anything was written; changed since
        raise Refused(f"init writes {target.name} into {folder}, outside the workspace {ws}")
    nofollow.replace_in(folder, target.name, f.content, mode)


def _refuse_links_out(ws: Path, rels: list[str]) -> None:
    """Refused, before anything is written, when a folder init writes into leads out of the
    workspace (a cloned repository's `scripts -> ~/.local/bin`) or `.gitignore`, which init
    appends to, is a link or no regular file (`-> ~/.bashrc`, `-> /dev/zero`)."""
    for rel in rels:
        parent = (ws / rel).parent.resolve()
        if not parent.is_relative_to(ws):
            raise Refused(
                f"init writes {rel}, but {Path(rel).parent} leads outside the workspace "
                f"(to {parent}) through a symbolic link",
                hint="remove or replace the link, then run init again",
            )
    ignore = ws / ".gitignore"
    hint = "replace it with a regular file, then run init again"
    if ignore.is_symlink():
        where = os.path.realpath(ignore)
        raise Refused(f"init appends to .gitignore, but it is a link to {where}", hint=hint)
    if ignore.exists() and not ignore.is_file():
        raise Refused("init appends to .gitignore, but it is not a regular file", hint=hint)


def _read_gitignore(ws: Path) -> str:
    """.gitignore's text read with no link followed ("" when missing); a link or no regular
    file (checked before anything was written) is refused here too, in case it changed."""
    try:
        fd = nofollow.open_file(os.path.join(ws, ".gitignore"), os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise Refused(f"init appends to .gitignore, but cannot read it: {exc}") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Refused("init appends to .gitignore, but it is not a regular file")
        data = fh.read(MAX_GITIGNORE + 1)
    if len(data) > MAX_GITIGNORE:
        raise Refused("init appends to .gitignore, but it is larger than 4 MiB")
    return data.decode("utf-8", errors="replace")


def _gitignore_additions(workspace: Path) -> list[str]:
    have = set(_read_gitignore(workspace).split("\n"))
    return [line for line in GITIGNORE_LINES if line not in have and "/" + line not in have]


def init(
    workspace: str | os.PathLike[str],
    *,
    force: bool = False,
    dry_run: bool = False,
    with_schema: bool = False,
) -> InitReport:
    """Scaffold `workspace` (inside a git work tree); see the module docstring."""
    ws = Path(workspace).expanduser()
    open_repo(ws)  # NotAGitRepo with the `git init` hint
    ws = ws.resolve()
    facts = detect_project(ws, _listed_files(ws))
    # AGENTS.md describes the repo as it is after init, so a second run finds nothing to change
    facts.top_dirs = sorted({*facts.top_dirs, "docs/", "scripts/", "specs/"})
    report = InitReport(workspace=str(ws), dry_run=dry_run, force=force, facts=facts)
    if note := _makefile_note(ws):
        report.notes.append(note)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    planned = plan_files(ws, facts, with_schema=with_schema)
    backups = [(BACKUP_DIR / stamp / f.path).as_posix() for f in planned] if force else []
    _refuse_links_out(ws, [f.path for f in planned] + backups)
    for f in planned:
        target = ws / f.path
        if target.is_dir():
            raise InvalidInput(
                f"{target} is a directory, init needs to write a file there",
                hint="rename or remove it",
            )
        if not target.exists() and not target.is_symlink():
            report.created.append(f.path)
            if not dry_run:
                _write(ws, target, f)
            continue
        if not force:
            report.skipped.append(f.path)
            continue
        if target.is_file() and target.read_bytes() == f.content:
            report.unchanged.append(f.path)
            continue
        backup = BACKUP_DIR / stamp / f.path
        report.backed_up.append(Backup(path=f.path, backup=backup.as_posix()))
        report.overwritten.append(f.path)
        if not dry_run:
            (ws / backup).parent.mkdir(parents=True, exist_ok=True)
            os.replace(target, ws / backup)
            _write(ws, target, f)
    if missing := _gitignore_additions(ws):
        report.updated.append(".gitignore")
        if not dry_run:
            old = _read_gitignore(ws)
            sep = "" if not old or old.endswith("\n") else "\n"
            block = (
                "# harness-ls: local tool installs and init backups\n" + "\n".join(missing) + "\n"
            )
            text = old + sep + ("\n" if old else "") + block
            mode = nofollow.mode_of(str(ws), ".gitignore") or 0o644
            nofollow.replace_in(str(ws), ".gitignore", text.encode("utf-8"), mode)
    return report
