"""The workspace travels as git: out to a worker as a bundle + a patch, back as packs of objects.

Out: the control plane snapshots the work tree into the workspace's shadow repository (T0, the
same snapshot a local run starts from: untracked files in, ignored files and the user's excludes
out, oversize files out) minus secret files (`.env`, keys), then ships the user's `HEAD` as a git
bundle and `HEAD → T0` as a binary patch. The worker clones the bundle, applies the patch and so
stands on exactly T0: its checkpoints are trees the control plane can read.

Back: every event naming a tree (checkpoint.*) travels with a pack of the objects the control
plane does not have yet (`rev-list --objects new --not already-sent`), unpacked into the shadow
repository before the event is appended, so the log never names an object that is missing here.

Every git call goes through harness_ls.gitrun (`Repo.run` and `Shadow.run`; `own_git` on the
worker's own checkout); the user's
repository is only read (`bundle create` writes to a pipe).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from harness_ls.errors import HarnessError, InvalidInput
from harness_ls.tools.secretfiles import is_secret_path
from harness_ls.workspace.git import EMPTY_TREE, Repo, open_repo
from harness_ls.workspace.shadow import Shadow, open_shadow
from harness_ls.workspace.snapshot import snapshot

SENT_WINDOW = 4  # trees a pack excludes: the last ones sent (older duplicates are harmless)


class WorkspacePayload(BaseModel):
    """What a worker needs to stand on the user's tree (bytes travel as Ray objects)."""

    head: str | None = None  # the base commit (None: no repository, or no commit yet)
    prefix: str = ""  # the workspace inside its repository ("" at the top)
    tree: str  # T0: the tree the worker must reproduce
    excludes: str = ""  # the user's .git/info/exclude, so the worker ignores what the user does
    left_out: list[str] = []  # secret files not shipped
    bundle_bytes: int = 0
    patch_bytes: int = 0


class WorkspaceShipment(BaseModel):
    payload: WorkspacePayload
    bundle: bytes | None = None
    patch: bytes = b""


def _user_repo(ws: Path) -> Repo | None:
    try:
        return open_repo(ws)
    except HarnessError:
        return None


def shippable_tree(
    shadow: Shadow, index: str, tree: str, extra: tuple[str, ...] = ()
) -> tuple[str, list[str]]:
    """`tree` without secret files (`extra`: your policies' `secret_files`): (tree, left out)."""
    raw = shadow.run("ls-tree", "-r", "-z", "--name-only", "--full-tree", tree).stdout
    # never shipped: the secret files every other layer keeps from the model (tools/secretfiles.py;
    # a list of its own here shipped `.envrc`, `credentials`, `.git-credentials`, `prod.env`)
    secret = [
        p for p in (os.fsdecode(x) for x in raw.split(b"\0") if x) if is_secret_path(p, extra)
    ]
    if not secret:
        return tree, []
    tmp = f"{index}.ship"
    try:
        shadow.run("read-tree", tree, index=tmp)
        shadow.run("rm", "-q", "--cached", "--", *secret, index=tmp)
        return shadow.out("write-tree", index=tmp), secret
    finally:
        shadow.index_path(tmp).unlink(missing_ok=True)


def pack_workspace(
    data_dir: Path, workspace: Path, index: str, tree: str | None = None
) -> WorkspaceShipment:
    """Bundle + patch of the work tree as it is now (or of `tree`, a tree already in the shadow
    repository: where a resumed run's last worker left it)."""
    shadow = open_shadow(data_dir, workspace)
    if tree is None:
        tree = snapshot(shadow, index).tree
    from harness_ls.tools.sandbox import secret_patterns

    tree, left_out = shippable_tree(shadow, index, tree, secret_patterns(workspace, data_dir))
    repo = _user_repo(workspace)
    head = repo.head() if repo is not None else None
    payload = WorkspacePayload(tree=tree, left_out=left_out)
    bundle: bytes | None = None
    base = EMPTY_TREE
    env = None
    if repo is not None and head is not None:
        prefix = os.path.relpath(shadow.root, repo.root)
        payload.prefix = "" if prefix == "." else Path(prefix).as_posix()
        payload.head = head
        spec = f"{head}:{payload.prefix}" if payload.prefix else f"{head}^{{tree}}"
        found = repo.run("rev-parse", "-q", "--verify", spec, check=False)
        base = found.stdout.decode().strip() if found.returncode == 0 else EMPTY_TREE
        bundle = repo.run("bundle", "create", "-q", "-", "HEAD").stdout
        env = {"GIT_ALTERNATE_OBJECT_DIRECTORIES": str(repo.common_dir / "objects")}
        payload.excludes = _read(repo.common_dir / "info" / "exclude")
    patch = shadow.run(
        "diff-tree", "-r", "-p", "--binary", "--full-index", "--no-renames", base, tree, env=env
    ).stdout  # fmt: skip
    payload.bundle_bytes = len(bundle or b"")
    payload.patch_bytes = len(patch)
    return WorkspaceShipment(payload=payload, bundle=bundle, patch=patch)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def materialize(shipment: WorkspaceShipment, root: Path) -> Path:
    """Worker side: a checkout under `root` standing on the shipped tree; returns the workspace.
    The checkout is ours (a clone made here), so git runs on it as on our own repositories."""
    from harness_ls.gitrun import SafeGit, own_git, standalone

    p = shipment.payload
    checkout = root / "checkout"
    if shipment.bundle is not None and p.head:
        bundle = root / "base.bundle"
        bundle.write_bytes(shipment.bundle)
        # no transport (gitrun allows none): init, then unbundle the objects into it
        _ok(standalone().run("init", "-q", str(checkout)), "init")
        git = own_git(checkout / ".git", checkout)
        _ok(git.run("bundle", "unbundle", str(bundle)), "bundle unbundle")
        bundle.unlink()
        _ok(git.run("checkout", "-q", "--detach", p.head), "checkout")
        if p.excludes:
            (checkout / ".git" / "info").mkdir(parents=True, exist_ok=True)
            (checkout / ".git" / "info" / "exclude").write_text(p.excludes)
    else:
        checkout.mkdir(parents=True)
        git = SafeGit(cwd=checkout)
    workspace = checkout / p.prefix if p.prefix else checkout
    workspace.mkdir(parents=True, exist_ok=True)
    if shipment.patch:
        where = ["--directory", p.prefix] if p.prefix and p.head else []
        _ok(
            git.run("apply", "--binary", "--whitespace=nowarn", *where, "-", input=shipment.patch),
            "apply",
        )
    return workspace


def _ok(proc: Any, what: str) -> None:
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        raise InvalidInput(f"git {what} failed on the worker: {err[-1] if err else 'no message'}")


class ObjectCourier:
    """Worker side: packs the objects of new trees, skipping what was sent recently."""

    def __init__(self, shadow: Shadow, known: str | None) -> None:
        self.shadow = shadow
        self.sent: list[str] = [known] if known else []

    def pack(self, trees: list[str]) -> bytes:
        new = [t for t in dict.fromkeys(trees) if t and t not in self.sent]
        if not new:
            return b""
        nots = ["--not", *self.sent[-SENT_WINDOW:]] if self.sent else []
        listed = self.shadow.run("rev-list", "--objects", *new, *nots).stdout
        self.sent += new
        if not listed.strip():
            return b""
        return self.shadow.run("pack-objects", "-q", "--stdout", input=listed).stdout


def receive_objects(data_dir: Path, workspace: Path, pack: bytes) -> None:
    """Control plane: store a worker's pack in the workspace's shadow repository."""
    if not pack:
        return
    shadow = open_shadow(data_dir, workspace)
    # --strict: git's fsck on every object (a worker is another trust zone: a tree entry named
    # `.git`, `..` or holding a `/` is refused here, before any later step reads it)
    if len(pack) < 1 << 20:
        shadow.run("unpack-objects", "-q", "--strict", input=pack)
    else:
        shadow.run("index-pack", "-q", "--strict", "--stdin", input=pack)


def check_tree(shadow: Shadow, tree: str) -> None:
    """InvalidInput when a tree the log names is missing from the shadow repository."""
    if shadow.run("cat-file", "-e", f"{tree}^{{tree}}", check=False).returncode != 0:
        raise InvalidInput(f"tree {tree} is not in {shadow.git_dir}")
