"""The ranking's measured features (issue 21): names the task uses but no file defines, call
syntax, docstring tasks, churn and changelogs, and an `--explain` that adds up to the score."""

from __future__ import annotations

import pytest

from harness_ls.context import build_context
from harness_ls.context.cache import load_index
from harness_ls.context.features import squash
from harness_ls.context.history import churn, load_history
from harness_ls.context.rank import BIAS, build_graph, rank_files
from harness_ls.context.task import is_doc_task

from .conftest import git, write
from .test_relevance import SRC

CLI = {
    "src/cli/decorators.py": "def pass_meta(package_name=None):\n"
    "    name = package_name or guess()\n    return name\n\n\ndef guess():\n    return 'x'\n",
    "src/cli/core.py": "class Command:\n    def invoke(self, ctx):\n        return ctx.run()\n\n\n"
    "def resolution(ctx):\n    return ctx\n",
    "src/cli/termui.py": "def style(text, fg=None):\n    return text\n\n\ndef echo(text):\n"
    "    print(text)\n",
    "src/cli/utils.py": "from cli.termui import style\n\n\ndef paint(color):\n"
    "    return style('x', fg=color)\n\n\ndef check(color):\n    return style(color)\n",
    "docs/colors.md": "# Colors\n\nValidate color arguments of style.\n",
}


def test_a_name_the_task_uses_but_nobody_defines_ranks_its_users(repo, data_dir):
    root = repo(CLI)
    res = build_context(root, "Fix `package_name` resolution", 4000, data_dir=data_dir,
                        explain=True)  # fmt: skip
    assert res.files[0] == "src/cli/decorators.py"
    assert "uses" in dict(res.explain["src/cli/decorators.py"])


def test_call_syntax_marks_a_plain_word_as_the_function_it_names(repo, data_dir):
    root = repo(CLI)
    res = build_context(root, "Validate style() color arguments", 4000, data_dir=data_dir,
                        explain=True)  # fmt: skip
    assert res.files[0] == "src/cli/termui.py"
    assert "symbol" in dict(res.explain["src/cli/termui.py"])


@pytest.mark.parametrize(
    ("task", "doc"),
    [
        ("Fix the installation guide docs: upgrading section", True),
        ("Update the README for the new flag", True),
        ("Clarify decode_unicode behaviour in docstrings", False),
        ("docs: fix asyncLocalStorage comment", False),
        ("Fix remaining typos", False),
    ],
)
def test_docstrings_and_comments_are_code_not_docs(task, doc):
    assert is_doc_task(task) is doc


def test_a_docstring_task_ranks_the_code(repo, data_dir):
    root = repo(SRC)
    res = build_context(root, "Clarify the installation docstring of apply_discount", 4000,
                        data_dir=data_dir)  # fmt: skip
    assert res.files[0] == "src/shop/pricing.py"
    assert res.files.index("src/shop/pricing.py") < res.files.index("docs/install.md")


def test_churn_counts_changes_and_changelogs_are_their_own_kind(repo, data_dir):
    root = repo(SRC)
    for n in range(4):
        write(root, {"src/shop/pricing.py": SRC["src/shop/pricing.py"] + f"# {n}\n",
                     "CHANGELOG.md": SRC["CHANGELOG.md"] + f"- {n}\n"})  # fmt: skip
        git(root, "commit", "-qam", f"pricing tweak {n}")
    hist = load_history(root)
    busy = churn(hist)
    assert busy["src/shop/pricing.py"] == 1.0  # 5 commits: the busiest file
    assert 0 < busy["src/shop/shipping.py"] < 1.0  # only the initial commit
    graph = build_graph(load_index(root, data_dir))
    ranking = rank_files(graph, "pricing", {}, hist)
    assert graph.pos["CHANGELOG.md"] in ranking.features.values["changelog"]
    assert graph.pos["src/shop/pricing.py"] not in ranking.features.values["changelog"]


def test_explain_adds_up_to_the_score(repo, data_dir):
    """`--explain` is the whole story: bias + the listed contributions give the file's score."""
    root = repo(CLI)
    graph = build_graph(load_index(root, data_dir))
    ranking = rank_files(graph, "Validate style() color arguments", {}, load_history(root))
    for rel in CLI:
        i = graph.pos[rel]
        total = BIAS + sum(v for _, v in ranking.explain(i))
        assert ranking.scores[i] == pytest.approx(squash(total), abs=1e-6)
