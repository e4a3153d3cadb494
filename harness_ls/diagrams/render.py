#!/usr/bin/env python3
"""Render docs/diagrams/*.mmd (Mermaid) and *.dac (AWS diagram-as-code) sources to PNG.

Standard library only: `agentctl init` copies this very file to `scripts/render-diagrams` in
scaffolded repos, so it must run without harness-ls installed. Only sources whose content hash
differs from `docs/diagrams/.hashes.json` are re-rendered; all stale Mermaid diagrams render in
one chromium launch (a generated Markdown file holding them all), falling back to one launch per
diagram only to find which source is broken.

Tools: `mmdc` from npm `@mermaid-js/mermaid-cli` (looked up in $MMDC, PATH, then the project's
`.tools/node_modules/.bin/` and `node_modules/.bin/`) driving a system Chromium
($PUPPETEER_EXECUTABLE_PATH, else chromium / chromium-browser / google-chrome on PATH);
`awsdac` on PATH for `.dac` files.

Exit status: 0 all diagrams up to date or rendered; 1 a diagram failed to render; 2 bad usage
(no such directory); 3 a needed tool is missing (the message says what to install and how);
4 `--check` found stale or unrendered diagrams.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = ".hashes.json"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_MISSING_TOOL, EXIT_STALE = 0, 1, 2, 3, 4
MMDC_PACKAGE = "@mermaid-js/mermaid-cli@11"
MMDC_INSTALL = (
    f"PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix .tools --no-audit --no-fund {MMDC_PACKAGE}"
)
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
SOURCE_TOOLS = {".mmd": "mmdc", ".dac": "awsdac"}
RENDER_TIMEOUT = 180.0


@dataclass
class MissingTool:
    """A tool a source needs that is not installed, with the exact way to install it."""

    tool: str
    needed_for: list[str]
    install: str

    def message(self) -> str:
        return f"{self.tool} not found (needed for {', '.join(self.needed_for)}).\n{self.install}"


@dataclass
class RenderResult:
    rendered: list[str] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # with check=True: what would render
    failed: dict[str, str] = field(default_factory=dict)  # source -> error text
    missing: list[MissingTool] = field(default_factory=list)

    @property
    def exit_status(self) -> int:
        if self.missing:
            return EXIT_MISSING_TOOL
        if self.failed:
            return EXIT_FAILED
        if self.stale:
            return EXIT_STALE
        return EXIT_OK


def sha256_file(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def load_manifest(diagrams_dir: Path) -> dict[str, dict[str, str]]:
    """The `diagrams` table of the manifest: source name -> {source, output, output_sha256}."""
    try:
        data = json.loads((diagrams_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    entries = data.get("diagrams") if isinstance(data, dict) else None
    return entries if isinstance(entries, dict) else {}


def save_manifest(diagrams_dir: Path, entries: dict[str, dict[str, str]]) -> None:
    data = {
        "version": 1,
        "note": "written by scripts/render-diagrams; a source is re-rendered when its hash differs",
        "diagrams": dict(sorted(entries.items())),
    }
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    _write_in(diagrams_dir, MANIFEST, text.encode("utf-8"))


def _place(png: Path, out: Path) -> None:
    _write_in(out.parent, out.name, png.read_bytes())
    png.unlink()


def _open_dir(folder: Path) -> int:
    """A descriptor of `folder`'s real path, each folder opened from `/` with no link followed."""
    dirs = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open("/", dirs)
    try:
        for part in [p for p in str(folder.resolve()).split("/") if p]:
            nxt = os.open(part, dirs, dir_fd=fd)
            os.close(fd)
            fd = nxt
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_source(src: Path) -> str:
    """A source's text by descriptors, no link followed, non-blocking, regular files only: mmdc
    opened it by name, so one swapped for a link to your key after the check was read, and the
    parse error quoted it (to the model, in a run)."""
    fd = _open_dir(src.parent)
    try:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        with os.fdopen(os.open(src.name, flags, dir_fd=fd), "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise OSError(f"{src.name} is not a regular file")
            return fh.read().decode("utf-8", errors="replace")
    finally:
        os.close(fd)


def _write_in(folder: Path, name: str, data: bytes) -> None:
    """Write `folder/name` by descriptors (a run renders outside the sandbox, in a folder the
    agent writes): each folder opened from `/` with no link followed, a fresh temp file renamed
    over `name` relative to the last one. A link planted at the output (`flow.png -> ~/x`) or
    at a temp name (`.hashes.json.tmp`), or a folder swapped for one, is never written through
    (by name, both overwrote a file of yours)."""
    fd = _open_dir(folder)
    try:
        tmp = f".{name}.{os.urandom(6).hex()}.tmp"
        new = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            with os.fdopen(os.open(tmp, new, 0o644, dir_fd=fd), "wb") as fh:
                fh.write(data)
            os.replace(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=fd)
            except OSError:
                pass
            raise
    finally:
        os.close(fd)


def sources(diagrams_dir: Path) -> list[Path]:
    return sorted(p for p in diagrams_dir.iterdir() if p.suffix in SOURCE_TOOLS and p.is_file())


def output_for(source: Path) -> Path:
    return source.with_suffix(".png")


def is_fresh(source: Path, entry: dict[str, str] | None) -> bool:
    """Fresh = the manifest records this source's hash and the PNG it produced is unchanged."""
    if not entry or entry.get("source") != sha256_file(source):
        return False
    out = output_for(source)
    return out.exists() and entry.get("output_sha256") == sha256_file(out)


def stale_sources(diagrams_dir: Path) -> list[Path]:
    manifest = load_manifest(diagrams_dir)
    return [s for s in sources(diagrams_dir) if not is_fresh(s, manifest.get(s.name))]


def find_root(start: Path) -> Path:
    """The enclosing repository root (has .git), else `start` itself."""
    for d in [start, *start.parents]:
        if (d / ".git").exists():
            return d
    return start


def find_mmdc(root: Path, confine: Path | None = None) -> str | None:
    """$MMDC, then PATH (skipping PyPI's unrelated `mmdc` package), then project-local installs.
    With `confine` (a run's workspace), nothing whose real path is inside it: the agent can
    change those files, and the renderer runs outside the sandbox."""
    if os.environ.get("MMDC"):
        return os.environ["MMDC"]
    candidates = [shutil.which("mmdc")]
    candidates += [str(root / d / "node_modules" / ".bin" / "mmdc") for d in (".tools", ".")]
    for c in candidates:
        if c and os.access(c, os.X_OK) and not _is_pypi_mmdc(c) and _outside(c, confine):
            return c
    return None


def _plain_file(path: Path) -> bool:
    """A regular file itself, not a link to one (nor a FIFO or device)."""
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _outside(path: str, confine: Path | None) -> bool:
    """Whether a tool's real path (and so the code it runs) is outside `confine`."""
    if confine is None:
        return True
    return not Path(os.path.realpath(path)).is_relative_to(os.path.realpath(confine))


def _is_pypi_mmdc(path: str) -> bool:
    """PyPI's deprecated `mmdc` installs a Python script of the same name; npm's is a node link."""
    try:
        with open(os.path.realpath(path), "rb") as f:
            head = f.read(200)
    except OSError:
        return False
    return head.startswith(b"#!") and b"python" in head.split(b"\n", 1)[0]


def find_chromium() -> str | None:
    env = os.environ.get("PUPPETEER_EXECUTABLE_PATH")
    if env and os.access(env, os.X_OK):
        return env
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def tool_paths(root: Path) -> dict[str, str | None]:
    """Where each diagram tool was found (None: missing), for `agentctl doctor`."""
    return {"mmdc": find_mmdc(root), "chromium": find_chromium(), "awsdac": shutil.which("awsdac")}


def missing_tools(root: Path, needed: list[Path], confine: Path | None = None) -> list[MissingTool]:
    """What is not installed for these sources, each with the exact install command."""
    out: list[MissingTool] = []
    mmd = [s.name for s in needed if s.suffix == ".mmd"]
    dac = [s.name for s in needed if s.suffix == ".dac"]
    if mmd and not find_mmdc(root, confine) and find_mmdc(root):
        out.append(
            MissingTool(
                "mmdc",
                mmd,
                f"the only mmdc is inside the workspace ({find_mmdc(root)}), where the agent "
                "can change it, so a run does not start it: it would run outside the sandbox.\n"
                f"Install it outside the workspace (npm install -g {MMDC_PACKAGE}) or set "
                "MMDC=/path/to/mmdc; `make diagrams` (scripts/render-diagrams) still uses the "
                "project's copy when you run it yourself.",
            )
        )
    elif mmd and not find_mmdc(root):
        node = (
            ""
            if shutil.which("npm")
            else "First install Node.js >= 18 with npm (Debian: apt-get install -y nodejs npm).\n"
        )
        out.append(
            MissingTool(
                "mmdc",
                mmd,
                f"{node}Install it into the project (git-ignored .tools/):\n  cd {root} && {MMDC_INSTALL}\nor put an `mmdc` on PATH, or set MMDC=/path/to/mmdc.",
            )
        )
    if mmd and not find_chromium():
        out.append(
            MissingTool(
                "chromium",
                mmd,
                "mmdc drives a system Chromium: apt-get install -y chromium (or set PUPPETEER_EXECUTABLE_PATH to a Chrome/Chromium binary).",
            )
        )
    if dac and not shutil.which("awsdac"):
        out.append(
            MissingTool(
                "awsdac",
                dac,
                "Install AWS diagram-as-code (Go): go install github.com/awslabs/diagram-as-code/cmd/awsdac@latest and put $(go env GOPATH)/bin on PATH.",
            )
        )
    return out


def _puppeteer_config(tmp: Path, chromium: str) -> Path:
    cfg = tmp / "puppeteer.json"
    args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
    cfg.write_text(json.dumps({"executablePath": chromium, "args": args, "pipe": True}))
    return cfg


def _run(cmd: list[str], cwd: Path) -> tuple[bool, str]:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=RENDER_TIMEOUT)
    except subprocess.TimeoutExpired:
        return False, f"timed out after {RENDER_TIMEOUT:.0f} s: {' '.join(cmd)}"
    except OSError as exc:
        return False, f"could not start {cmd[0]}: {exc}"
    return proc.returncode == 0, (proc.stderr or proc.stdout).strip()


_FRAME = re.compile(r"^\s*at\s|\((?:https?|file|node):[^()]*:\d+:\d+\)\s*$")


def _first_error(text: str) -> str:
    """mmdc prints a JS stack after the parse error (frames with "at ", and the first one bare:
    `Parser.parseError (https://mermaid-cli-intercept.invalid/…:1523:21)`); keep the part a
    person (or the model) needs: the message, without any frame."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not _FRAME.search(ln)]
    return "\n".join(lines[:6])


def render_mermaid(root: Path, items: list[Path], confine: Path | None = None) -> dict[str, str]:
    """Render Mermaid sources to PNG next to them; returns {source name: error} for failures."""
    mmdc, chromium = find_mmdc(root, confine), find_chromium()
    assert mmdc and chromium, "call missing_tools() first"
    failed: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="render-diagrams-") as t:
        tmp = Path(t)
        base = [mmdc, "-p", str(_puppeteer_config(tmp, chromium)), "-b", "white", "-s", "2", "-q"]
        texts: dict[Path, str] = {}  # mmdc reads private copies, never the folder by name
        for src in items:
            try:  # a run's render (confine) follows no link; your own `make diagrams` does
                texts[src] = _read_source(src) if confine else src.read_text(encoding="utf-8")
            except OSError:
                failed[src.name] = "not rendered: it is a symbolic link or not a regular file"
        items = [s for s in items if s in texts]
        (tmp / "src").mkdir()
        if len(items) > 1:  # one chromium launch for all: a Markdown input with every diagram
            md = tmp / "all.md"
            md.write_text(
                "".join(f"```mermaid\n{texts[s]}\n```\n\n" for s in items), encoding="utf-8"
            )
            ok, _ = _run([*base, "-i", str(md), "-o", str(tmp / "out.md"), "-e", "png"], tmp)
            pngs = [tmp / f"out-{i}.png" for i in range(1, len(items) + 1)]
            if ok and all(p.exists() for p in pngs):
                for src, png in zip(items, pngs, strict=True):
                    _place(png, output_for(src))
                return failed
        for src in items:  # single diagram, or the batch failed: find the broken one(s)
            tmp_png = tmp / (src.stem + ".png")
            copy = tmp / "src" / src.name
            copy.write_text(texts[src], encoding="utf-8")
            ok, err = _run([*base, "-i", str(copy), "-o", str(tmp_png)], tmp)
            if ok and tmp_png.exists():
                _place(tmp_png, output_for(src))
            else:
                failed[src.name] = _first_error(err) or "mmdc failed without a message"
    return failed


def render_dac(items: list[Path]) -> dict[str, str]:
    failed: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="render-diagrams-") as t:
        for src in items:  # into a private folder first: awsdac would follow a link at the output
            png = Path(t) / (src.stem + ".png")
            ok, err = _run(["awsdac", str(src), "-o", str(png)], src.parent)
            if ok and png.exists():
                _place(png, output_for(src))
            else:
                failed[src.name] = _first_error(err) or "awsdac failed without a message"
    return failed


def render_diagrams(
    diagrams_dir: Path,
    *,
    root: Path | None = None,
    force: bool = False,
    check: bool = False,
    only: set[str] | None = None,
    confine: Path | None = None,
) -> RenderResult:
    """Render stale sources in `diagrams_dir` and update the manifest (check=True only reports).
    `only`: source names to consider (a run renders what it changed, not every stale source).
    `confine`: a run's workspace, where the agent writes while this runs outside the sandbox: no
    renderer installed inside it is started (find_mmdc), no source that is a link (to your
    ~/.ssh/id_rsa, whose text a parse error would quote to the model) is read, and a diagrams
    folder leading out of it is refused.
    The manifest is written only when an entry changed."""
    diagrams_dir = diagrams_dir.resolve()
    if not diagrams_dir.is_dir():
        raise FileNotFoundError(f"no diagrams directory at {diagrams_dir}")
    root = (root or find_root(diagrams_dir)).resolve()
    if confine is not None and _outside(str(diagrams_dir), confine):
        raise ValueError(
            f"{diagrams_dir} is outside the workspace {confine} (a link): diagrams not rendered"
        )
    manifest = load_manifest(diagrams_dir)
    saved = dict(manifest)
    all_sources = sources(diagrams_dir)
    if only is not None:
        all_sources = [s for s in all_sources if s.name in only]
    result = RenderResult()
    if confine is not None:  # read outside the sandbox: a link could reach any file of yours
        for src in [s for s in all_sources if not _plain_file(s)]:
            result.failed[src.name] = (
                "not rendered: it is a symbolic link or not a regular file; a run renders only "
                "regular files in the diagrams folder (replace the link with the file)"
            )
            all_sources.remove(src)
    todo = [s for s in all_sources if force or not is_fresh(s, manifest.get(s.name))]
    result.up_to_date = [s.name for s in all_sources if s not in todo]
    if check:
        result.stale = [s.name for s in todo]
        return result
    result.missing = missing_tools(root, todo, confine)
    blocked = {name for m in result.missing for name in m.needed_for}
    runnable = [s for s in todo if s.name not in blocked]
    mmd = [s for s in runnable if s.suffix == ".mmd"]
    dac = [s for s in runnable if s.suffix == ".dac"]
    if mmd:
        result.failed.update(render_mermaid(root, mmd, confine))
    if dac:
        result.failed.update(render_dac(dac))
    for src in runnable:
        if src.name not in result.failed:
            out = output_for(src)
            manifest[src.name] = {
                "source": sha256_file(src),
                "output": out.name,
                "output_sha256": sha256_file(out),
            }
            result.rendered.append(src.name)
    names = {s.name for s in sources(diagrams_dir)}
    kept = {k: v for k, v in manifest.items() if k in names}
    if kept != saved:
        save_manifest(diagrams_dir, kept)
    return result


def markdown_image(doc: Path, image: Path, alt: str) -> str:
    """`![alt](relative/path.png)` as seen from the Markdown file `doc` (for docs steps)."""
    rel = os.path.relpath(image.resolve(), doc.resolve().parent)
    return f"![{alt}]({Path(rel).as_posix()})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="render-diagrams",
        description="Render docs/diagrams/*.mmd and *.dac to PNG (only changed sources).",
        epilog="exit status: 0 ok, 1 a diagram failed, 2 bad usage, 3 a tool is missing, 4 --check found stale diagrams",
    )
    parser.add_argument(
        "dir", nargs="?", help="diagrams directory (default: <repo root>/docs/diagrams)"
    )
    parser.add_argument("--force", action="store_true", help="re-render every source")
    parser.add_argument(
        "--check", action="store_true", help="render nothing; exit 4 if any diagram is stale"
    )
    args = parser.parse_args(argv)
    root = find_root(Path.cwd())
    diagrams_dir = Path(args.dir) if args.dir else root / "docs" / "diagrams"
    try:
        result = render_diagrams(diagrams_dir, force=args.force, check=args.check)
    except FileNotFoundError as exc:
        print(f"render-diagrams: {exc} (create it and add *.mmd sources)", file=sys.stderr)
        return EXIT_USAGE
    for name in result.rendered:
        print(f"rendered   {name} -> {output_for(Path(name)).name}")
    for name in result.stale:
        print(f"stale      {name} (run scripts/render-diagrams)")
    for name, err in result.failed.items():
        print(f"FAILED     {name}:\n  " + err.replace("\n", "\n  "), file=sys.stderr)
    for m in result.missing:
        print(f"MISSING    {m.message()}", file=sys.stderr)
    if not (result.rendered or result.stale or result.failed or result.missing):
        print(f"{len(result.up_to_date)} diagram(s) up to date in {diagrams_dir}")
    return result.exit_status


if __name__ == "__main__":
    sys.exit(main())
