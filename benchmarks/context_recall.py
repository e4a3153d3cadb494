"""Does the context show the files a real change needed? Measured on real git histories.

For each repo (a work tree or a git dir, never modified: a `--shared` scratch clone is used), the
last N commits that modified 1-3 source files become tasks (benchmarks/context_tasks.py: the
commit message in the spec template, given as a run gives it; truth = those files), each run on
the commit's parent tree twice: **with history** (the clone at the parent) and **without** (the
same tree as a fresh single-commit `git init`). Reported per repo, for ours (`build_context(...,
8000)`, exactly what the agent sees) and for a BM25 baseline (files ranked by BM25 of the Goal's
words, trailers and spec scaffolding left out, over whole file contents; whole files packed into
the budget):
  top1     share of tasks whose first-ranked file is a truth file
  top5     mean share of truth files among the first five ranked files
  content  mean share of truth files whose content the agent sees (ours: in an excerpt;
           BM25: the whole file fitted into the budget)
  sec      median seconds per task (ours: warm cache except the files the checkout changed)

Usage:
  python benchmarks/context_recall.py --repos benchmarks/context_repos.json --mirror DIR
  python benchmarks/context_recall.py --train R1 R2 --heldout R3 [--commits 40]
  ... --learn [--cv]   fit both weight sets on the train split (context_fit.py), print them to
                       paste into harness_ls/context/weights.py; --cv adds leave-one-repo-out
  --only train|heldout runs one split; --markdown prints README rows.
Everything computed is cached under --scratch (features per code version, our figures per
weights, the baseline per task), so a re-fit or a re-run only computes what changed. The
held-out split is never used for learning.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import statistics
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

from context_fit import Task, compact, learn, leave_one_repo_out
from context_tasks import (
    as_spec,
    bm25_packed,
    bm25_rank,
    checkout,
    language,
    pick_commits,
    run_task,
    scratch_clone,
    without_history,
)

import harness_ls.context as ctx
from harness_ls.context import build_context, weights
from harness_ls.context.cache import load_index
from harness_ls.context.history import load_history
from harness_ls.context.rank import build_graph, rank_files
from harness_ls.context.recent import recent_files
from harness_ls.context.task import read_task

MODES = ("hist", "nohist")


def _key(*files: Path) -> str:
    h = hashlib.sha1()
    for f in sorted(files):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:12]


CODE = Path(ctx.__file__).parent
FEATURE_KEY = _key(*(f for f in CODE.glob("*.py") if f.name != "weights.py"))
WEIGHTS_KEY = _key(*CODE.glob("*.py"))


def scores(ranked: list[str], seen: set[str], truth: set[str]) -> tuple[float, float, float]:
    top1 = 1.0 if ranked and ranked[0] in truth else 0.0
    return top1, len(truth & set(ranked[:5])) / len(truth), len(truth & seen) / len(truth)


def _features(clone: Path, data: Path, task: str, truth: set[str], name: str, sha: str) -> list:
    index = load_index(clone, data)
    graph = build_graph(index)
    rk = rank_files(graph, task, recent_files(clone), load_history(clone, data_dir=data))
    hidden = {i for i, h in enumerate(graph.hidden) if h or index.tags[graph.files[i]].skip}
    idx = {graph.pos[f] for f in truth if f in graph.pos}
    return compact(Task(name, idx, rk.features.values, hidden, len(graph.files), sha))


def label(repo: Path) -> str:
    """owner/name for a mirror's OWNER+NAME/repo git dir, else the directory's name."""
    return repo.parent.name.replace("+", "/") if repo.name == "repo" else repo.name


def run_repo(repo: Path, args: argparse.Namespace) -> tuple[dict, dict[str, list]]:
    """Per mode: our figures and the baseline's; and the compacted feature rows per task."""
    scratch = args.scratch
    name = label(repo).replace("/", "+")
    # fit-only reads the clone's log and nothing else: it never touches a clone another run uses
    clone = scratch / "ws" / name if args.fit_only else scratch_clone(repo, scratch / "ws", name)
    cache_path = scratch / "cache" / f"{name}.pkl"
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    cache = pickle.loads(cache_path.read_bytes()) if cache_path.exists() else {}
    lang = language(clone)
    data = scratch / "data"
    rows: dict[str, list] = {m: [] for m in MODES}
    feats: dict[str, list] = {m: [] for m in MODES}
    base: list = []
    for c in pick_commits(clone, args.commits):
        task, truth = run_task(as_spec(c.message, lang)), set(c.truth)
        keys = {m: (m, c.sha, WEIGHTS_KEY, args.budget) for m in MODES}
        fkeys = {m: ("f", m, c.sha, FEATURE_KEY) for m in MODES}
        bkey = ("bm25-goal", c.sha, args.budget)
        todo = [m for m in args.modes if keys[m] not in cache or fkeys[m] not in cache]
        if args.fit_only:  # the cached features only: no checkout, no build
            feats = {m: v + [(name, cache[fkeys[m]])] if fkeys[m] in cache else v
                     for m, v in feats.items()}  # fmt: skip
            continue
        if ("broken", c.sha) in cache:
            continue
        if todo or bkey not in cache:
            try:
                checkout(clone, f"{c.sha}^")
            except subprocess.CalledProcessError:  # a snapshot lacks its blobs of 4 MiB and more
                print(
                    f"  skipped {name} {c.sha[:8]}: the tree cannot be checked out", file=sys.stderr
                )
                cache[("broken", c.sha)] = True
                continue
        if bkey not in cache:
            index = load_index(clone, data)
            mapped = [f for f in index.tags if not index.tags[f].skip]
            ranked = bm25_rank(clone, mapped, read_task(task).goal)  # the Goal's words only
            cache[bkey] = scores(ranked, bm25_packed(clone, ranked, args.budget), truth)
        for m in todo:
            with without_history(clone) if m == "nohist" else nullcontext(clone):
                t0 = time.perf_counter()
                res = build_context(clone, task, args.budget, data_dir=data)
                sec = time.perf_counter() - t0
                cache[keys[m]] = (*scores(res.files, set(res.excerpt_files), truth), sec,
                                  res.files[:5])  # fmt: skip
                cache[fkeys[m]] = _features(clone, data, task, truth, name, c.sha)
        for m in args.modes:
            rows[m].append(cache[keys[m]])
            feats[m].append((name, cache[fkeys[m]]))
            if args.verbose and repo in args.train and not cache[keys[m]][0]:
                print(f"  miss {m} {name} {c.sha[:8]} {c.message.splitlines()[0][:60]!r}\n"
                      f"       truth {sorted(truth)} top5 {cache[keys[m]][4]}")  # fmt: skip
        base.append(cache[bkey])
        if todo:  # a stopped run keeps what it computed
            cache_path.write_bytes(pickle.dumps(cache))
    cache_path.write_bytes(pickle.dumps(cache))
    if args.fit_only:
        return {}, feats
    out = {m: _row(rows[m], base) for m in args.modes}
    for m in out:
        out[m]["lang"] = lang
    return out, feats


def _row(ours: list, base: list) -> dict:
    def mean(vals: list, k: int) -> float:
        return statistics.mean(v[k] for v in vals) if vals else 0.0

    return {
        "tasks": len(ours),
        "ours": {"top1": mean(ours, 0), "top5": mean(ours, 1), "content": mean(ours, 2),
                 "sec": statistics.median(v[3] for v in ours) if ours else 0.0},
        "bm25": {"top1": mean(base, 0), "top5": mean(base, 1), "content": mean(base, 2)},
    }  # fmt: skip


def pooled(rows: dict[str, dict]) -> dict:
    """Task-weighted mean of the per-repo rows (seconds: median of the per-repo medians)."""
    n = sum(r["tasks"] for r in rows.values()) or 1
    out: dict = {"tasks": n, "lang": "", "ours": {}, "bm25": {}}
    for method in ("ours", "bm25"):
        for k in ("top1", "top5", "content"):
            out[method][k] = sum(r[method][k] * r["tasks"] for r in rows.values()) / n
    out["ours"]["sec"] = statistics.median(r["ours"]["sec"] for r in rows.values())
    return out


def table(title: str, rows: dict[str, dict]) -> None:
    print(f"\n{title}")
    for name, r in rows.items():
        o, b = r["ours"], r["bm25"]
        print(
            f"{name:<28} {r['tasks']:>4} | {o['top1']:5.0%} {o['top5']:5.0%} {o['content']:5.0%}"
            f" {o['sec']:5.2f} | bm25 {b['top1']:4.0%} {b['top5']:4.0%} {b['content']:4.0%}"
        )


def markdown(report: dict) -> None:
    """README rows: per repo, with history, without, BM25 (the same tasks, no history needed)."""

    def cell(r: dict, method: str = "ours") -> str:
        o = r[method]
        return f"{o['top1']:.0%} / {o['top5']:.0%} / {o['content']:.0%}"

    hist, nohist = report.get("hist", {}), report.get("nohist", {})
    print("\n| split | repo | lang | tasks | with history | without history | sec | BM25 |")
    print("|---|---|---|---|---|---|---|---|")
    for split in ("train", "heldout"):
        for name, r in hist.get(split, {}).items():
            n = nohist.get(split, {}).get(name)
            bold = "**" if name == "ALL" else ""
            print(f"| {split} | {bold}{name}{bold} | {r['lang']} | {r['tasks']} | {bold}{cell(r)}"
                  f"{bold} | {bold}{cell(n) if n else '-'}{bold} | {r['ours']['sec']:.2f} | "
                  f"{cell(r, 'bm25')} |")  # fmt: skip


def _repos(args: argparse.Namespace) -> None:
    if args.repos:
        spec = json.loads(args.repos.read_text())
        for split in ("train", "heldout"):
            paths = [args.mirror / r["name"].replace("/", "+") / "repo" for r in spec[split]]
            setattr(args, split, getattr(args, split) + paths)
    if args.only:
        setattr(args, "heldout" if args.only == "train" else "train", [])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--train", nargs="*", type=Path, default=[])
    ap.add_argument("--heldout", nargs="*", type=Path, default=[])
    ap.add_argument("--repos", type=Path, help="JSON with the train and heldout repo names")
    ap.add_argument("--mirror", type=Path, default=Path("/work/.mirror"),
                    help="with --repos: where OWNER+NAME/repo git dirs are")  # fmt: skip
    ap.add_argument("--only", choices=("train", "heldout"))
    ap.add_argument("--commits", type=int, default=40)
    ap.add_argument("--budget", type=int, default=8000)
    ap.add_argument("--modes", default="hist,nohist", type=lambda s: s.split(","))
    ap.add_argument("--scratch", type=Path, default=Path("/work/scratch/context"))
    ap.add_argument("--learn", action="store_true", help="fit the weights on the train split")
    ap.add_argument("--cv", action="store_true", help="with --learn: leave-one-repo-out")
    ap.add_argument("--cv-folds", type=int, default=0,
                    help="with --cv: leave repos out in this many groups (0: one at a time)")  # fmt: skip
    ap.add_argument("--fit-only", action="store_true",
                    help="with --learn: fit on the cached features, build nothing")  # fmt: skip
    ap.add_argument("--verbose", action="store_true", help="print train tasks missed at top-1")
    ap.add_argument("--markdown", action="store_true", help="print README table rows")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    _repos(args)
    if not args.train and not args.heldout:
        ap.error("give repositories with --repos, --train and/or --heldout")
    args.train = [p.resolve() for p in args.train]
    report: dict = {}
    train_feats: dict[str, list] = {m: [] for m in MODES}
    for split in ("train", "heldout"):
        for repo in getattr(args, split):
            t0 = time.perf_counter()
            row, feats = run_repo(repo.resolve(), args)
            for m in row:
                report.setdefault(m, {}).setdefault(split, {})[label(repo)] = row[m]
            for m in feats if split == "train" else ():
                train_feats[m] += feats[m]
            print(f"{split} {label(repo)}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    for m in args.modes:
        for split, rows in report.get(m, {}).items():
            rows["ALL"] = pooled(rows)
            table(f"{split}, {m} (budget {args.budget} tokens)", rows)
    if args.markdown:
        markdown(report)
    if args.learn:
        for m in args.modes:
            start = weights.WEIGHTS if m == "hist" else weights.WEIGHTS_NO_HISTORY
            tasks = [rows for _, rows in train_feats[m]]
            if args.cv:
                report.setdefault("cv", {})[m] = leave_one_repo_out(
                    train_feats[m], start, args.cv_folds
                )
            w = learn(tasks, start)
            name = "WEIGHTS" if m == "hist" else "WEIGHTS_NO_HISTORY"
            print(f"\nlearned {name} =", json.dumps(w))
            report.setdefault("learned", {})[m] = w
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
