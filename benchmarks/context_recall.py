"""Recall of the context builder on real git history, next to a BM25-only baseline.

For each of the last N non-merge commits of a repo (oldest first): check out its parent in a
scratch clone, take the commit message as the task and the files it changed (that already
existed in the parent and are mappable) as the truth, build the 8k-token context, and record
which truth files the agent would see. Reported:
  all   share of commits whose changed files all appear in the context
  any   share of commits with at least one changed file in the context
  mean  mean per-commit share of changed files that appear
for: ours (map + excerpts, exactly what the agent sees), ours map-only, and a BM25 baseline
(files ranked by BM25 of the message over whole file contents, rendered by the same map code
into the same budget).

Usage: python benchmarks/context_recall.py REPO [--commits 40] [--budget 8000] [--no-recency]
REPO may be a work tree or a bare git dir; it is never modified (a `--shared` clone is used).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness_ls.context import build_context
from harness_ls.context.bm25 import BM25, terms
from harness_ls.context.build import compose
from harness_ls.context.cache import load_index
from harness_ls.context.rank import TaskHints, build_graph
from harness_ls.context.render import entry_costs, map_entries, render_map
from harness_ls.context.tokens import count_tokens

TRAILER_RE = re.compile(r"^(Signed-off-by|Co-authored-by|Reviewed-by|Change-Id):.*$", re.M | re.I)
MAX_TRUTH = 12


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, errors="replace"
    ).stdout


def pick_commits(clone: Path, n: int) -> list[tuple[str, str, list[str]]]:
    """(sha, message, changed paths) of the last n usable non-merge commits, oldest first."""
    out = []
    shas = git(clone, "rev-list", "--no-merges", "--max-count", str(n * 4), "HEAD").split()
    for sha in shas:
        parents = git(clone, "rev-list", "--parents", "-n1", sha).split()[1:]
        if len(parents) != 1:
            continue
        changed = git(clone, "diff", "--name-only", "--diff-filter=MD", parents[0], sha).split("\n")
        changed = [c for c in changed if c]
        if not changed or len(changed) > MAX_TRUTH:
            continue
        msg = TRAILER_RE.sub("", git(clone, "log", "-1", "--format=%B", sha)).strip()
        out.append((sha, msg, changed))
        if len(out) >= n:
            break
    return out[::-1]


def bm25_files(root: Path, files: list[str], task: str) -> list[float]:
    docs = []
    for rel in files:
        try:
            text = (root / rel).read_bytes()[: 512 * 1024].decode("utf-8", errors="replace")
        except OSError:
            text = ""
        docs.append(terms(rel + " " + text))
    return BM25(docs).scores(terms(task))


def baseline_files(root: Path, data_dir: Path, task: str, budget: int) -> list[str]:
    """BM25 over whole files, rendered by the same map code into the same budget."""
    index = load_index(root, data_dir)
    graph = build_graph(index)
    scores = bm25_files(root, graph.files, task)
    entries = map_entries(index, graph, scores, TaskHints())
    room = budget - count_tokens(compose("x", "", [])) - 2
    n = used = 0
    for c in entry_costs(index, graph, entries):
        if used + c > room:
            break
        used, n = used + c, n + 1
    return render_map(index, graph, entries[:n])[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("repo", type=Path)
    ap.add_argument("--commits", type=int, default=40)
    ap.add_argument("--budget", type=int, default=8000)
    ap.add_argument("--no-recency", action="store_true", help="do not seed from git history")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ctx-recall-"))
    try:
        clone = tmp / "clone"
        subprocess.run(
            ["git", "clone", "-q", "--shared", "--no-checkout", str(args.repo), str(clone)],
            check=True,
        )
        commits = pick_commits(clone, args.commits)
        names = ("ours", "ours_map_only", "bm25")
        stats = {k: {"all": 0, "any": 0, "mean": 0.0, "top10": 0.0, "shown": 0} for k in names}
        counted = 0
        t0 = time.perf_counter()
        for sha, msg, changed in commits:
            git(clone, "checkout", "-q", "-f", "--detach", f"{sha}^")
            truth = [c for c in changed if (clone / c).is_file()]
            index = load_index(clone, tmp / "data")
            truth = [c for c in truth if c in index.tags and not index.tags[c].skip]
            if not truth:
                continue
            counted += 1
            res = build_context(
                clone, msg, args.budget, data_dir=tmp / "data", use_git_recency=not args.no_recency
            )
            map_only = build_context(
                clone,
                msg,
                args.budget,
                data_dir=tmp / "data",
                excerpts=False,
                use_git_recency=not args.no_recency,
            ).files
            ranked = {
                "ours": list(dict.fromkeys(res.excerpt_files + res.files)),
                "ours_map_only": map_only,
                "bm25": baseline_files(clone, tmp / "data", msg, args.budget),
            }
            for k in names:
                seen = set(ranked[k])
                stats[k]["shown"] += len(seen)
                stats[k]["top10"] += sum(1 for t in truth if t in ranked[k][:10]) / len(truth)
                hit = sum(1 for t in truth if t in seen)
                stats[k]["all"] += hit == len(truth)
                stats[k]["any"] += hit > 0
                stats[k]["mean"] += hit / len(truth)
        elapsed = time.perf_counter() - t0
        print(
            f"repo {args.repo}: {counted} commits scored (of {len(commits)} picked), "
            f"budget {args.budget} tokens, recency {'off' if args.no_recency else 'on'}, "
            f"{elapsed:.1f} s"
        )
        print(f"{'method':<15} {'all':>6} {'any':>6} {'mean':>6} {'top10':>6} {'files':>6}")
        for k in names:
            s = stats[k]
            d = max(counted, 1)
            print(
                f"{k:<15} {s['all'] / d:6.1%} {s['any'] / d:6.1%} {s['mean'] / d:6.1%}"
                f" {s['top10'] / d:6.1%} {s['shown'] / d:6.0f}"
            )
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
