"""What the safe git runner (harness_ls.gitrun) costs per git call, vs plain git (figures only).

.venv/bin/python benchmarks/gitrun_overhead.py [--files 2000] [--repeat 200]

Paired and interleaved on one synthetic repository: `git status --porcelain`, `git ls-files -co
--exclude-standard` and `git diff-files --name-only` as plain git (discovery from the cwd, the
repository's config, the system and global config read) and through `workspace_git` (explicit
dirs, the config shim, ~25 `-c` settings, a built environment). CPU is that of the git children
(RUSAGE_CHILDREN), which a loaded machine disturbs far less than wall time. Also: the Python side
of one call — finding the repository and checking its shim (`workspace_git`), building argv+env.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from harness_ls.gitrun import workspace_git

COMMANDS = (
    ("status", "--porcelain"),
    ("ls-files", "-co", "--exclude-standard"),
    ("diff-files", "--name-only"),
)


def cpu_ms() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r.ru_utime + r.ru_stime) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as t:
        ws = Path(t) / "ws"
        ws.mkdir()
        plain = ["git", "-c", "user.name=b", "-c", "user.email=b@b"]
        subprocess.run([*plain, "init", "-q"], cwd=ws, check=True)
        for i in range(args.files):
            d = ws / f"pkg{i % 40}"
            d.mkdir(exist_ok=True)
            (d / f"m{i}.py").write_text(f"x = {i}\n")
        subprocess.run([*plain, "add", "."], cwd=ws, check=True)
        subprocess.run([*plain, "commit", "-qm", "init"], cwd=ws, check=True)
        time.sleep(1.5)  # past git's racy-clean window
        print(f"repo: {args.files} tracked files; {args.repeat} calls each, interleaved")
        git = workspace_git(ws)
        for cmd in COMMANDS:
            cpu: dict[str, list[float]] = {"plain": [], "runner": []}
            wall: dict[str, list[float]] = {"plain": [], "runner": []}
            for _ in range(args.repeat):
                for kind in ("plain", "runner"):
                    c0, t0 = cpu_ms(), time.perf_counter()
                    if kind == "plain":
                        subprocess.run(["git", *cmd], cwd=ws, capture_output=True, check=True)
                    else:
                        assert git.run(*cmd).returncode == 0
                    wall[kind].append((time.perf_counter() - t0) * 1000)
                    cpu[kind].append(cpu_ms() - c0)
            print(
                f"git {cmd[0]:10} CPU median plain {statistics.median(cpu['plain']):5.2f} ms, "
                f"runner {statistics.median(cpu['runner']):5.2f} ms; wall median plain "
                f"{statistics.median(wall['plain']):5.2f} ms, runner "
                f"{statistics.median(wall['runner']):5.2f} ms"
            )
        n = 2000
        t0 = time.perf_counter()
        for _ in range(n):
            workspace_git(ws)
        found = (time.perf_counter() - t0) / n * 1e6
        t0 = time.perf_counter()
        for _ in range(n):
            git.argv("status")
            git.env()
        built = (time.perf_counter() - t0) / n * 1e6
        print(f"python side: workspace_git() {found:.0f} us, argv+env {built:.0f} us per call")


if __name__ == "__main__":
    main()
