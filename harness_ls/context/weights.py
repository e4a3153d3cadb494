"""The ranking's learned weights, one set with git history and one without.

Learned on the train split of benchmarks/context_recall.py (see docs/context.md): `--learn`
averages coordinate searches over bootstrap resamples of the tasks, maximising mean(top-1) +
mean(top-5 recall) of the truth files, once on the tasks built with their history (checkout at
the parent commit) and once on the same trees without it (a fresh single-commit `git init`),
and prints both dicts to paste here. Kept apart from the code so a re-fit does not change the
key of the features the benchmark caches.
"""

from __future__ import annotations

# Learned on the train split of benchmarks/context_repos.json (23 repos in Python, JS/TS, Go,
# Rust and Java; 460 commits), with history:
WEIGHTS: dict[str, float] = {
    "path": 2.0, "stem": 0.81, "symbol": 2.81, "word_def": 0.05, "uses": 2.23, "bm25": 2.45,
    "bm25_path": 0.54, "bm25_def": 0.45, "bm25_rank": 0.17, "bm25_abs": -0.28,
    "bm25_path_abs": 0.19, "pagerank": 0.37, "similar": 0.68, "similar_max": 0.76, "cochange": 0.4,
    "recent": 1.07, "churn": 0.45, "prior": 0.03, "size": 0.0, "test": -4.0, "prose": -4.0,
    "prose_doc_task": 1.0, "changelog": -4.0, "example": -4.0, "other": -4.0, "decl": -0.78,
    "decl_types_task": 0.0,
}  # fmt: skip
BIAS = -2.0

# ... and on the same trees without history (history features are all zero there):
WEIGHTS_NO_HISTORY: dict[str, float] = {
    "path": 2.0, "stem": 0.51, "symbol": 1.94, "word_def": 0.28, "uses": 2.0, "bm25": 2.8,
    "bm25_path": 0.34, "bm25_def": 0.53, "bm25_rank": -0.37, "bm25_abs": 0.52,
    "bm25_path_abs": 0.43, "pagerank": 0.38, "similar": 0.7, "similar_max": 0.68, "cochange": 0.4,
    "recent": 0.97, "churn": 0.53, "prior": 0.17, "size": 0.33, "test": -4.0, "prose": -4.0,
    "prose_doc_task": 1.0, "changelog": -4.0, "example": -4.0, "other": -4.0, "decl": -0.36,
    "decl_types_task": 0.0,
}  # fmt: skip
