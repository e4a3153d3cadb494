#!/usr/bin/env python3
"""Render docs/diagrams/*.mmd (Mermaid) and *.dac (AWS diagram-as-code) sources to PNG.

Standard library only: `agentctl init` copies this very file to `scripts/render-diagrams` in
scaffolded repos, and next to it its file IO (render_io.py) as `scripts/render_diagrams_io.py`
and its tool lookup (render_tools.py) as `scripts/render_diagrams_tools.py`, so it must run
without harness-ls installed. Only sources whose content hash differs from
`docs/diagrams/.hashes.json` are re-rendered; all stale Mermaid diagrams render in
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
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType


def _sibling(*names: str) -> ModuleType:
    """The first of `<name>.py` next to this file (scripts/render_diagrams_io.py, or render_io.py
    in the package), loaded by its path: PYTHONSAFEPATH or `python -I` leave the script's folder
    off sys.path, and no other module of that name is wanted."""
    here = Path(os.path.realpath(__file__)).parent
    path = next((here / f"{n}.py" for n in names if (here / f"{n}.py").is_file()), None)
    spec = importlib.util.spec_from_file_location(path.stem, path) if path else None
    if path is None or spec is None or spec.loader is None:
        print(f"render-diagrams: {here / names[0]}.py is missing: run `agentctl init` again "
              "(it writes the script and the files next to it)", file=sys.stderr)  # fmt: skip
        raise SystemExit(3)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


if __package__:  # harness_ls.diagrams.render
    import harness_ls.diagrams.render_io as dio
    import harness_ls.diagrams.render_tools as tools
else:  # scripts/render-diagrams, run as a file
    dio = _sibling("render_diagrams_io", "render_io")
    tools = _sibling("render_diagrams_tools", "render_tools")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_MISSING_TOOL, EXIT_STALE = 0, 1, 2, 3, 4
SOURCE_TOOLS = {".mmd": "mmdc", ".dac": "awsdac"}
RENDER_TIMEOUT = 180.0


@dataclass
class RenderResult:
    rendered: list[str] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # with check=True: what would render
    failed: dict[str, str] = field(default_factory=dict)  # source -> error text
    missing: list[tools.MissingTool] = field(default_factory=list)

    @property
    def exit_status(self) -> int:
        if self.missing:
            return EXIT_MISSING_TOOL
        if self.failed:
            return EXIT_FAILED
        if self.stale:
            return EXIT_STALE
        return EXIT_OK


def sources(diagrams_dir: Path) -> list[Path]:
    return sorted(p for p in diagrams_dir.iterdir() if p.suffix in SOURCE_TOOLS and p.is_file())


def output_for(source: Path) -> Path:
    return source.with_suffix(".png")


def is_fresh(source: Path, entry: dict[str, str] | None, *, follow: bool = True) -> bool:
    """Fresh = the manifest records this source's hash and the PNG it produced is unchanged."""
    try:
        if not entry or entry.get("source") != dio.sha256_file(source, follow=follow):
            return False
        return entry.get("output_sha256") == dio.sha256_file(output_for(source), follow=follow)
    except OSError:  # missing, a link, a FIFO, huge: not fresh (the output is re-rendered)
        return False


def stale_sources(diagrams_dir: Path) -> list[Path]:
    manifest = dio.load_manifest(diagrams_dir)
    return [s for s in sources(diagrams_dir) if not is_fresh(s, manifest.get(s.name))]


def find_root(start: Path) -> Path:
    """The enclosing repository root (has .git), else `start` itself."""
    for d in [start, *start.parents]:
        if (d / ".git").exists():
            return d
    return start


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
    mmdc, chromium = tools.find_mmdc(root, confine), tools.find_chromium()
    assert mmdc and chromium, "call missing_tools() first"
    failed: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="render-diagrams-") as t:
        tmp = Path(t)
        base = [mmdc, "-p", str(_puppeteer_config(tmp, chromium)), "-b", "white", "-s", "2", "-q"]
        texts: dict[Path, str] = {}  # mmdc reads private copies, never the folder by name
        for src in items:
            try:  # a run's render (confine) follows no link; your own `make diagrams` does
                texts[src] = dio.read_source(src, follow=confine is None)
            except OSError as exc:
                failed[src.name] = f"not rendered: {exc}"
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
                    dio.place(png, output_for(src))
                return failed
        for src in items:  # single diagram, or the batch failed: find the broken one(s)
            tmp_png = tmp / (src.stem + ".png")
            copy = tmp / "src" / src.name
            copy.write_text(texts[src], encoding="utf-8")
            ok, err = _run([*base, "-i", str(copy), "-o", str(tmp_png)], tmp)
            if ok and tmp_png.exists():
                dio.place(tmp_png, output_for(src))
            else:
                failed[src.name] = _first_error(err) or "mmdc failed without a message"
    return failed


def render_dac(items: list[Path], confine: Path | None = None) -> dict[str, str]:
    """Render AWS diagram-as-code sources, each from a private copy read by descriptors (awsdac
    opened the source by name: one swapped for a link to your key after the check was read)
    into a private folder (awsdac would follow a link at the output); {source name: error}."""
    awsdac = tools.find_awsdac(confine)
    assert awsdac, "call missing_tools() first"
    failed: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="render-diagrams-") as t:
        for src in items:
            png = Path(t) / (src.stem + ".png")
            try:
                copy = dio.private_copy(src, Path(t), follow=confine is None)
            except OSError as exc:
                failed[src.name] = f"not rendered: {exc}"
                continue
            ok, err = _run([awsdac, str(copy), "-o", str(png)], src.parent)
            if ok and png.exists():
                dio.place(png, output_for(src))
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
    if confine is not None and tools.outside(str(diagrams_dir), confine):
        raise ValueError(
            f"{diagrams_dir} is outside the workspace {confine} (a link): diagrams not rendered"
        )
    manifest = dio.load_manifest(diagrams_dir)
    saved = dict(manifest)
    all_sources = sources(diagrams_dir)
    if only is not None:
        all_sources = [s for s in all_sources if s.name in only]
    result = RenderResult()
    follow = confine is None  # a run's render reads outside the sandbox: no link followed
    for src in list(all_sources):  # links (in a run), FIFOs, huge files: never read
        if problem := dio.source_problem(src, follow=follow):
            result.failed[src.name] = f"not rendered: {problem}"
            all_sources.remove(src)
    todo = [s for s in all_sources if force or not is_fresh(s, manifest.get(s.name), follow=follow)]
    result.up_to_date = [s.name for s in all_sources if s not in todo]
    if check:
        result.stale = [s.name for s in todo]
        return result
    result.missing = tools.missing_tools(root, todo, confine)
    blocked = {name for m in result.missing for name in m.needed_for}
    runnable = [s for s in todo if s.name not in blocked]
    mmd = [s for s in runnable if s.suffix == ".mmd"]
    dac = [s for s in runnable if s.suffix == ".dac"]
    if mmd:
        result.failed.update(render_mermaid(root, mmd, confine))
    if dac:
        result.failed.update(render_dac(dac, confine))
    for src in [s for s in runnable if s.name not in result.failed]:
        out = output_for(src)
        try:
            source_hash = dio.sha256_file(src, dio.MAX_SOURCE, follow=follow)
            manifest[src.name] = {
                "source": source_hash,
                "output": out.name,
                "output_sha256": dio.sha256_file(out, follow=follow),
            }
        except OSError as exc:  # changed while it rendered
            result.failed[src.name] = f"rendered, not recorded: {exc}"
            continue
        result.rendered.append(src.name)
    names = {s.name for s in sources(diagrams_dir)}
    kept = {k: v for k, v in manifest.items() if k in names}
    if kept != saved:
        dio.save_manifest(diagrams_dir, kept)
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
