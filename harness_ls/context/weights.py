"""The ranking's learned weights, one set with git history and one without.

Learned on the train split of benchmarks/context_recall.py (see docs/context.md): `--learn`
averages coordinate searches over bootstrap resamples of the tasks, maximising mean(top-1) +
mean(top-5 recall) of the truth files, once on the tasks built with their history (checkout at
the parent commit) and once on the same trees without it (a fresh single-commit `git init`),
and prints both dicts to paste here. Kept apart from the code so a re-fit does not change the
key of the features the benchmark caches.
"""

from __future__ import annotations

# Learned on the train split of benchmarks/context_recall.py (9 repos, 360 commits; see
# docs/context.md): `python benchmarks/context_recall.py --learn ...` averages coordinate searches
# over bootstrap resamples of the tasks, maximising mean(top-1) + mean(top-5 recall) of the
# truth files; the result is pasted here.
WEIGHTS: dict[str, float] = {
    "path": 2.0, "stem": 0.85, "symbol": 2.35, "word_def": 0.57, "uses": 1.5, "bm25": 2.5,
    "bm25_path": 0.45, "bm25_def": 0.45, "bm25_rank": 0.15, "bm25_abs": -0.33,
    "bm25_path_abs": 0.07, "pagerank": 0.38, "similar": 0.7, "similar_max": 0.68, "cochange": 0.4,
    "recent": 0.97, "churn": 0.53, "prior": 0.03, "size": 0.0, "test": -4.0, "prose": -4.0,
    "prose_doc_task": 1.0, "changelog": -4.0, "example": -4.0, "other": -4.0, "decl": -1.2,
    "decl_types_task": 0.0,
}  # fmt: skip
BIAS = -2.0

WEIGHTS_NO_HISTORY: dict[str, float] = dict(WEIGHTS)
