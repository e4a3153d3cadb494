"""Every git process harness_ls starts goes through harness_ls.gitrun (the safe runner).

Each module of harness_ls (harness_ls/gitrun itself aside) is parsed with `ast` and may not:
build an argv that starts with "git" (a list or tuple literal, or `create_subprocess_exec("git",
...)`), pass a shell string starting with `git ` to a process call, look git up itself
(`shutil.which("git")`, `git_binary()`), or import a git library (gitpython, pygit2, dulwich).
A git call that bypassed the runner would read the repository's own config — and run the
programs it names (fsmonitor, hooks, filter drivers...) outside the sandbox.
"""

from __future__ import annotations

import ast
from pathlib import Path

import harness_ls

PKG = Path(harness_ls.__file__).parent
RUNNER = PKG / "gitrun"
GIT_LIBRARIES = ("git", "pygit2", "dulwich")
PROCESS_CALLS = {
    "run", "Popen", "call", "check_call", "check_output", "create_subprocess_exec",
    "create_subprocess_shell", "system", "popen", "execv", "execvp", "execvpe", "execl",
    "execlp", "spawnv", "spawnvp", "spawnl", "spawnlp", "getoutput", "getstatusoutput",
}  # fmt: skip


def _is_git(node: ast.AST | None) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and (node.value == "git" or node.value.endswith("/git"))
    )


def _name(func: ast.AST) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def bypasses(source: str, filename: str = "<sample>") -> list[str]:
    """`line: what` for every git call in `source` that does not use the runner."""
    out: list[str] = []
    tree = ast.parse(source, filename)
    # a dict literal's keys are a lookup table (the policy's runner table keys `("git", "diff")`),
    # never an argv that runs
    keys = {id(k) for n in ast.walk(tree) if isinstance(n, ast.Dict) for k in n.keys if k}
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if id(node) in keys:
            continue
        if isinstance(node, ast.Import):
            out += [f"{line}: imports {a.name}" for a in node.names
                    if a.name.split(".")[0] in GIT_LIBRARIES]  # fmt: skip
        elif isinstance(node, ast.ImportFrom) and not node.level:
            if (node.module or "").split(".")[0] in GIT_LIBRARIES:
                out.append(f"{line}: imports from {node.module}")
        elif isinstance(node, ast.List | ast.Tuple) and node.elts and _is_git(node.elts[0]):
            out.append(f"{line}: an argv starting with 'git'")
        elif isinstance(node, ast.Call):
            name, first = _name(node.func), node.args[0] if node.args else None
            if name == "which" and _is_git(first):
                out.append(f"{line}: looks git up with which()")
            elif name in ("git_binary", "_git_binary"):
                out.append(f"{line}: builds its own git argv ({name}())")
            elif name in PROCESS_CALLS and _is_git(first):
                out.append(f"{line}: {name}('git', ...)")
            elif (
                name in PROCESS_CALLS
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and first.value.lstrip().startswith("git ")
            ):
                out.append(f"{line}: a shell string running git")
    return out


def test_no_git_call_in_harness_ls_bypasses_the_runner():
    found = []
    for path in sorted(PKG.rglob("*.py")):
        if RUNNER in path.parents:
            continue
        rel = path.relative_to(PKG.parent)
        found += [f"{rel}:{hit}" for hit in bypasses(path.read_text(encoding="utf-8"), str(rel))]
    assert found == [], (
        "git run without harness_ls.gitrun (use workspace_git / own_git / standalone):\n"
        + "\n".join(found)
    )


def test_the_checker_sees_every_form_of_a_bypass():
    samples = {
        'import subprocess\nsubprocess.run(["git", "status"], cwd=ws)': "argv",
        'cmd = ("git", "log")': "argv",
        'await asyncio.create_subprocess_exec("git", "-C", ws, "status")': "create_subprocess_exec",
        'subprocess.Popen(["/usr/bin/git", "diff"])': "argv",
        'os.system("git status")': "shell string",
        'subprocess.run("git diff | cat", shell=True)': "shell string",
        'shutil.which("git")': "which",
        "import git\nrepo = git.Repo(ws)": "imports git",
        "from git import Repo": "imports from git",
        "import pygit2": "imports pygit2",
        "from dulwich.repo import Repo": "imports from dulwich",
        "subprocess.run([git_binary(), 'status'])": "git_binary",
    }
    for source, what in samples.items():
        hits = bypasses(source)
        assert hits and any(what in h for h in hits), (source, hits)


def test_the_checker_leaves_the_runner_and_other_commands_alone():
    clean = [
        'workspace_git(ws).run("status", "--porcelain")',
        'await git.arun("diff", "HEAD")',
        'subprocess.run(["rg", "--files"])',
        '_RUNNERS = {"python", "git", "cargo"}',
        'if name == "git" and rest[1:2]:\n    pass',
        "from harness_ls.tools import git as git_tool",
    ]
    for source in clean:
        assert bypasses(source) == [], source
