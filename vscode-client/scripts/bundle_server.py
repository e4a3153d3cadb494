"""Bundle harness-ls into the VS Code extension: its wheel and every runtime dependency's wheel,
into vscode-client/bundled/wheels/, for the extension to install into a venv on first start.

The layout follows Microsoft's vscode-python-tools-extension-template (the server and its Python
dependencies ship inside the .vsix; no PyPI package of ours is needed), with a wheelhouse
instead of unpacked libraries because several dependencies are native (pydantic-core,
httptools, tree-sitter and its grammars, cryptography, rpds-py, cffi): pip on the user's machine
picks the right wheel for their Python. Bundled, so the first start needs no network:

- pure-Python wheels (any platform), harness-ls's own wheel, and pip's wheel (pip runs from it:
  the venv is created `--without-pip`, so Debian's python3 works without python3-venv/pip);
- native wheels for manylinux x86_64 (glibc >= 2.34: Debian 12, Ubuntu 22.04, RHEL 9) for
  CPython 3.11-3.13 — the platform of most remote hosts (SSH, WSL, containers, code-server).

Elsewhere (macOS, Windows, arm64, older glibc) the first start fetches the native wheels of the
exact versions pinned in constraints.txt from the user's package index (PyPI by default).

    python vscode-client/scripts/bundle_server.py            # from the repository root
    python vscode-client/scripts/bundle_server.py --pythons 3.11   # a smaller, 3.11-only bundle
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLIENT = HERE.parent
REPO = CLIENT.parent
PYTHONS = ("3.11", "3.12", "3.13")
PLATFORM = "manylinux_2_34_x86_64"  # glibc >= 2.34; wheels tagged for older glibc fit too
PLATFORM_TAGS = [f"manylinux_2_{v}_x86_64" for v in (34, 31, 28, 27, 24, 17, 12, 5)] + [
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
]  # pip does not expand a --platform tag: every compatible one is named
WHEEL_NAME = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)-.*\.whl$")


def pip(*args: str) -> None:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args]
    subprocess.run(cmd, check=True)


def inputs_digest(pythons: tuple[str, ...]) -> str:
    """What the dependency wheels depend on: the declared dependencies and the bundled Pythons."""
    text = (REPO / "pyproject.toml").read_bytes() + repr((pythons, PLATFORM_TAGS)).encode()
    return hashlib.sha256(text).hexdigest()


def build(out: Path, pythons: tuple[str, ...]) -> dict:
    wheels = out / "wheels"
    deps = inputs_digest(pythons)
    old = out / "manifest.json"
    reuse = old.is_file() and json.loads(old.read_text()).get("inputs") == deps
    if out.exists() and not reuse:
        shutil.rmtree(out)
    wheels.mkdir(parents=True, exist_ok=True)
    for stale in wheels.glob("harness_ls-*.whl"):
        stale.unlink()  # our own wheel is rebuilt every time: the code changed
    with tempfile.TemporaryDirectory() as tmp:
        pip("wheel", "--no-deps", "-w", tmp, str(REPO))
        ours = next(Path(tmp).glob("harness_ls-*.whl"))
        shutil.copy(ours, wheels / ours.name)
    name, version = WHEEL_NAME.match(ours.name).group("name", "version")  # type: ignore[union-attr]
    if reuse:  # same dependencies: the wheels downloaded last time stand
        return _manifest(out, name, version, pythons, deps)
    # 1. resolve once (this interpreter and platform), then pin every version found
    pip("download", "--only-binary=:all:", "-d", str(wheels), str(wheels / ours.name))
    pins = sorted({_pin(p) for p in wheels.glob("*.whl") if p.name != ours.name})
    constraints = out / "constraints.txt"
    constraints.write_text("".join(f"{n}=={v}\n" for n, v in pins))
    # 2. the same pins for each bundled CPython on manylinux x86_64
    for py in pythons:
        abi = "cp" + py.replace(".", "")
        platforms = [arg for tag in PLATFORM_TAGS for arg in ("--platform", tag)]
        pip("download", "--only-binary=:all:", *platforms, "--python-version", py,
            "--implementation", "cp", "--abi", abi, "--abi", "abi3", "--abi", "none",
            "-c", str(constraints), "-d", str(wheels), str(wheels / ours.name))  # fmt: skip
    # 3. pip itself, to install with (run from its wheel)
    pip("download", "--only-binary=:all:", "--no-deps", "-d", str(wheels), "pip")
    return _manifest(out, name, version, pythons, deps)


def _manifest(out: Path, name: str, version: str, pythons: tuple[str, ...], deps: str) -> dict:
    wheels = out / "wheels"
    files = sorted(p.name for p in wheels.glob("*.whl"))
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.encode() + b"\0" + (wheels / f).read_bytes())
    manifest = {
        "name": name.replace("_", "-"),
        "version": version,
        "requirement": f"{name.replace('_', '-')}=={version}",
        "pythons": list(pythons),
        "platform": PLATFORM,
        "min_python": "3.11",
        "pip": next(f for f in files if f.startswith("pip-")),
        "wheels": files,
        "sha256": digest.hexdigest(),
        "inputs": deps,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _pin(path: Path) -> tuple[str, str]:
    m = WHEEL_NAME.match(path.name)
    assert m, path.name
    return m.group("name").replace("_", "-").lower(), m.group("version")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=CLIENT / "bundled")
    p.add_argument("--pythons", default=",".join(PYTHONS), help="CPython versions to bundle")
    args = p.parse_args(argv)
    manifest = build(args.out, tuple(v.strip() for v in args.pythons.split(",") if v.strip()))
    size = sum(f.stat().st_size for f in (args.out / "wheels").iterdir())
    print(f"bundle_server: {len(manifest['wheels'])} wheels, {size / 1e6:.1f} MB in "
          f"{args.out / 'wheels'} ({manifest['requirement']}, CPython {', '.join(manifest['pythons'])} "
          f"on {PLATFORM} offline)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
