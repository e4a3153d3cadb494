"""Ranking: the file that defines what the task names comes first; PageRank is a real PageRank."""

from __future__ import annotations

import pytest

from harness_ls.context import build_context
from harness_ls.context.cache import load_index
from harness_ls.context.rank import build_graph, pagerank

FILES = {
    "app/main.py": "from app.billing import compute_invoice_total\nfrom app.users import load_user\n\n"
    "def main():\n    user = load_user(1)\n    return compute_invoice_total(user)\n",
    "app/billing.py": "from app.users import load_user\n\ndef compute_invoice_total(user):\n"
    "    return sum(line.price for line in user.lines)\n\ndef refund_invoice(inv):\n    return inv\n",
    "app/users.py": "class User:\n    pass\n\ndef load_user(uid):\n    return User()\n",
    "app/reports.py": "def quarterly_report():\n    return 'q'\n",
    "docs/billing.md": "# Billing\n\nInvoices are computed monthly.\n",
    "README.md": "# Demo\n",
}


def test_file_defining_the_named_symbol_ranks_first(repo, data_dir):
    root = repo(FILES)
    res = build_context(root, "refund_invoice returns the wrong amount", 2000, data_dir=data_dir)
    assert res.files[0] == "app/billing.py"
    assert "refund_invoice" in res.excerpts_text and "app/billing.py:" in res.excerpts_text


def test_a_mentioned_path_ranks_first(repo, data_dir):
    root = repo(FILES)
    res = build_context(root, "tidy up app/reports.py please", 2000, data_dir=data_dir)
    assert res.files[0] == "app/reports.py"


def test_plain_words_find_files_by_path_and_definition_names(repo, data_dir):
    root = repo(FILES)
    res = build_context(root, "quarterly report is slow", 2000, data_dir=data_dir)
    assert res.files[0] == "app/reports.py"


def test_without_a_task_central_files_rank_high(repo, data_dir):
    root = repo(FILES)
    res = build_context(root, "", 2000, data_dir=data_dir, use_git_recency=False)
    assert res.files.index("app/users.py") < res.files.index("app/reports.py")


def test_uncommitted_changes_seed_the_ranking(repo, data_dir):
    root = repo(FILES)
    (root / "app/reports.py").write_text("def quarterly_report():\n    return 'changed'\n")
    res = build_context(root, "", 2000, data_dir=data_dir)
    assert res.files[0] == "app/reports.py"


def test_pagerank_matches_networkx(repo, data_dir):
    import networkx as nx  # a runtime dependency
    from networkx.algorithms.link_analysis.pagerank_alg import _pagerank_python

    root = repo(FILES)
    graph = build_graph(load_index(root, data_dir))
    g = nx.DiGraph()
    g.add_nodes_from(range(len(graph.files)))
    for i, out in enumerate(graph.out_edges):
        for j, w in out:
            g.add_edge(i, j, weight=w)
    seeds = {graph.files.index("app/main.py"): 1.0}
    ours = pagerank(graph, seeds, tol=1e-10)
    theirs = _pagerank_python(g, personalization=seeds, tol=1e-10, dangling=None)
    for i in range(len(graph.files)):
        assert ours[i] == pytest.approx(theirs[i], abs=1e-6)


def test_dotted_mention_excerpts_the_member_of_that_owner(repo, data_dir):
    files = {f"tests/test_{k}.py": "def answer():\n    return 0\n" for k in range(4)}
    files["core/broker.py"] = (
        "class Broker:\n    '''Routes answers.'''\n"
        + "".join(f"    def helper_{k}(self):\n        return {k}\n" for k in range(20))
        + "    def answer(self, decision):\n        return decision == 'ok'\n"
    )
    root = repo(files)
    res = build_context(root, "Broker.answer should accept 'yes'", 3000, data_dir=data_dir)
    assert res.files[0] == "core/broker.py"
    assert "def answer(self, decision):" in res.excerpts_text
    assert "helper_10" not in res.excerpts_text  # the class excerpt is its head only
