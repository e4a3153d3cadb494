"""A booby-trapped git repository: every repository-configured program writes a marker file.

As if an earlier escape had planted them, `.git/config` names a program for each key git would
run one from — fsmonitor, hooks (both `core.hooksPath` and `.git/hooks/`), pagers, editors,
`diff.external`, a diff driver's command and textconv, a filter driver's clean/smudge/process,
a merge driver, ssh, askpass, credential helper, gpg (HEAD's commit carries a signature so
`log --show-signature` would verify it), a promisor remote whose lazy fetch runs `ext::` — and
includes a work-tree file that sets more. `.gitattributes` and `.git/info/attributes` route
every path through those drivers; a nested repository `sub/` carries the same traps in its own
config. Each trap touches `<markers>/<name>`: an empty markers directory after the harness's
git has run proves none of them ran (`fired`). `armed_by_plain_git` in the tests shows the
same traps do fire under a plain `git status` / `git diff` / `git log -p`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from harness_ls.gitrun import standalone, workspace_git

IDENTITY = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
HOOKS = ("pre-commit", "post-commit", "post-checkout", "post-merge", "post-rewrite",
         "reference-transaction", "post-index-change", "pre-auto-gc", "pre-push",
         "fsmonitor-watchman", "prepare-commit-msg", "commit-msg")  # fmt: skip
ATTRIBUTES = "* filter=trap diff=trap merge=trap\n"


def _exe(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def trap_script(markers: Path) -> Path:
    """A folder of traps: running `<folder>/<name>` touches markers/<name> and, as a filter or
    textconv, passes the content on. One program per name (no arguments), so each works
    whether git runs it through a shell or directly."""
    markers.mkdir(parents=True, exist_ok=True)
    return markers.parent / f"{markers.name}-traps"


def _trap(folder: Path, markers: Path, name: str) -> Path:
    path = folder / name
    if not path.exists():
        _exe(
            path,
            f"""#!/bin/sh
touch '{markers}/{name}'
case '{name}' in
  *clean|*smudge) cat ;;
  *textconv) cat "$1" ;;
esac
exit 0
""",
        )
    return path


def config_text(markers: Path, prefix: str = "") -> str:
    """Every program-naming key, each running the trap `<prefix><key>`."""
    folder = trap_script(markers)

    def t(name: str) -> Path:
        return _trap(folder, markers, prefix + name)

    return f"""[core]
\trepositoryformatversion = 1
\tfsmonitor = {t("fsmonitor")}
\thooksPath = {folder.parent / (folder.name + "-" + prefix + "hooks")}
\tpager = {t("pager")}
\teditor = {t("editor")}
\tsshCommand = {t("ssh")}
\taskPass = {t("askpass")}
\tgitProxy = {t("gitproxy")}
\talternateRefsCommand = {t("alternate-refs")}
[extensions]
\tpartialClone = origin
[remote "origin"]
\turl = ext::{t("lazy-fetch")} %S
\tpromisor = true
\tuploadpack = {t("uploadpack")}
[protocol "ext"]
\tallow = always
[sequence]
\teditor = {t("sequence-editor")}
[pager]
\tstatus = {t("pager-status")}
\tdiff = {t("pager-diff")}
\tlog = {t("pager-log")}
[diff]
\texternal = {t("diff-external")}
[diff "trap"]
\tcommand = {t("diff-command")}
\ttextconv = {t("textconv")}
[filter "trap"]
\tclean = {t("filter-clean")}
\tsmudge = {t("filter-smudge")}
\tprocess = {t("filter-process")}
[merge "trap"]
\tdriver = {t("merge-driver")}
[credential]
\thelper = {t("credential")}
[gpg]
\tprogram = {t("gpg")}
[log]
\tshowSignature = true
[include]
\tpath = ../{prefix}included.cfg
[includeIf "gitdir:/"]
\tpath = ../{prefix}included-if.cfg
"""


def _arm(repo: Path, markers: Path, prefix: str) -> None:
    folder = trap_script(markers)
    git_dir = repo / ".git"
    (git_dir / "config").write_text(config_text(markers, prefix))
    (git_dir / "info").mkdir(exist_ok=True)
    (git_dir / "info" / "attributes").write_text(ATTRIBUTES)
    inc_fsmonitor = _trap(folder, markers, prefix + "include-fsmonitor")
    inc_filter = _trap(folder, markers, prefix + "include-filter-process")
    (repo / f"{prefix}included.cfg").write_text(
        f'[core]\n\tfsmonitor = {inc_fsmonitor}\n[filter "inc"]\n\tprocess = {inc_filter}\n'
    )
    inc_pager = _trap(folder, markers, prefix + "includeif-pager")
    (repo / f"{prefix}included-if.cfg").write_text(f"[core]\n\tpager = {inc_pager}\n")
    for hook in HOOKS:
        for hooks in (git_dir / "hooks", folder.parent / f"{folder.name}-{prefix}hooks"):
            _exe(
                hooks / hook, f"#!/bin/sh\nexec {_trap(folder, markers, prefix + 'hook-' + hook)}\n"
            )


def _signed_head(repo: Path) -> None:
    """Replace HEAD's commit by one with a (bogus) gpgsig header: `log --show-signature` would
    hand it to gpg.program."""
    git = workspace_git(repo)
    tree = git.run("rev-parse", "HEAD^{tree}").stdout.decode().strip()
    body = (
        f"tree {tree}\nauthor t <t@example.com> 1700000000 +0000\n"
        "committer t <t@example.com> 1700000000 +0000\n"
        "gpgsig -----BEGIN PGP SIGNATURE-----\n \n AAAA\n -----END PGP SIGNATURE-----\n\nsigned\n"
    )
    sha = git.run("hash-object", "-w", "-t", "commit", "--stdin", input=body.encode()).stdout
    git.run("update-ref", "HEAD", sha.decode().strip())


def _init(repo: Path, files: dict[str, str]) -> None:
    repo.mkdir(parents=True, exist_ok=True)
    assert standalone().run("init", "-q", "-b", "main", str(repo)).returncode == 0
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git = workspace_git(repo)
    assert git.run("add", "-A").returncode == 0
    proc = git.run("commit", "-q", "-m", "init", env=IDENTITY)
    assert proc.returncode == 0, proc.stderr


def make_hostile_repo(ws: Path, markers: Path, files: dict[str, str] | None = None) -> Path:
    """A committed repository at `ws` (plus `files`) holding a nested repository `sub/` (a
    gitlink), then armed; markers stay empty until some git run on it obeys its config."""
    _init(ws / "sub", {"inner.txt": "inner\n", ".gitattributes": ATTRIBUTES})
    _init(ws, {"greet.txt": "hi\n", ".gitattributes": ATTRIBUTES, **(files or {})})
    _signed_head(ws)
    _arm(ws, markers, "")
    _arm(ws / "sub", markers, "nested-")
    # stat-dirty and racy files: git must re-read (and clean-filter) them to compare
    for path in (ws / "greet.txt", ws / "sub" / "inner.txt", ws / "sub" / ".git" / "index"):
        os.utime(path)
    return ws


def bare_layout_config(markers: Path) -> str:
    """The config of row 5 of issue 31: written with HEAD, objects/ and refs/ at the root of a
    plain directory, it makes git take that directory for a repository with a work tree."""
    return config_text(markers, "bare-").replace(
        "[core]\n", "[core]\n\tbare = false\n\tworktree = .\n", 1
    )


def fired(markers: Path) -> list[str]:
    """The traps that ran (marker files present)."""
    return sorted(p.name for p in markers.iterdir()) if markers.is_dir() else []
