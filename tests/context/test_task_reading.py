"""The ranking reads the task, not the spec's scaffolding (issue 36): an acceptance-test line never
lifts a config file, a trailer never matches a path, a heading never matches a function, a
docs task is told by the Goal's subject, `.d.ts` is the code on a types task, and example,
fixture and vendored directories are known by their structure."""

from __future__ import annotations

import pytest

from harness_ls.context import build_context
from harness_ls.context.cache import load_index
from harness_ls.context.kinds import EXAMPLE, SOURCE, TEST, kind_of
from harness_ls.context.rank import build_graph, rank_files, task_hints
from harness_ls.context.task import is_doc_task, is_types_task, read_task

# The features that say the task points at a file (the rest are priors and kinds).
EVIDENCE = ("path", "stem", "symbol", "word_def", "uses", "bm25", "bm25_path", "bm25_def",
            "bm25_abs", "bm25_path_abs", "bm25_rank", "pagerank", "cochange", "similar")  # fmt: skip


def spec(goal: str, tests: str = "- `python -m pytest -q`") -> str:
    """A spec as `agentctl spec new` makes it, given to the ranking as a run gives it."""
    text = (f"<!-- spec: x -->\n\n# Goal\n\n{goal}\n\n# Constraints / nuances\n\n"
            f"- Keep the change focused.\n\n# Acceptance tests\n\n{tests}\n")  # fmt: skip
    return f"{goal.splitlines()[0]}\n{text}"


def evidence(root, data_dir, task: str) -> dict[str, dict[str, float]]:
    """file -> its task evidence (features that point at it), no history."""
    graph = build_graph(load_index(root, data_dir))
    ranking = rank_files(graph, task, {}, None)
    out = {}
    for i, rel in enumerate(graph.files):
        row = ranking.features.row(i)
        out[rel] = {k: v for k, v in row.items() if k in EVIDENCE}
    return out


PY = {
    "pytest.ini": "[pytest]\naddopts = -q\ntestpaths = tests\n",
    "setup.cfg": "[tool:pytest]\naddopts = -q\n",
    "tox.ini": "[testenv]\ncommands = python -m pytest -q\n",
    "pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-q'\n",
    "src/term/cells.py": "def cell_len(text):\n    return sum(char_width(c) for c in text)\n\n\n"
    "def char_width(char):\n    return 2 if ord(char) > 0x1100 else 1\n",
    "src/term/style.py": "class Style:\n    def render(self, text):\n        return text\n",
    "src/term/runner.py": "def test(fn):\n    return fn()\n\n\ndef acceptance(x):\n    return x\n",
    "tests/test_cells.py": "from term.cells import cell_len\n\n\ndef test_len():\n"
    "    assert cell_len('ab') == 2\n",
}


@pytest.mark.parametrize(
    "command",
    ["- `python -m pytest -q`", "- `pytest -c pytest.ini -q`", "```sh\n$ tox -e py311\n```",
     "- `python -m pytest -q --cov-config=setup.cfg`"],
)  # fmt: skip
def test_an_acceptance_test_line_never_lifts_a_config_file(repo, data_dir, command):
    root = repo(PY)
    task = spec("Count emoji joined by a zero-width joiner as one cell in cell_len", command)
    ev = evidence(root, data_dir, task)
    for config in ("pytest.ini", "setup.cfg", "tox.ini", "pyproject.toml"):
        assert ev[config] == {}, config
    res = build_context(root, task, 4000, data_dir=data_dir)
    assert res.files[0] == "src/term/cells.py"
    top = res.files.index("src/term/cells.py")
    assert all(res.files.index(c) > top + 1 for c in ("pytest.ini", "setup.cfg") if c in res.files)


def test_a_test_command_may_point_at_its_test_file_but_at_nothing_else(repo, data_dir):
    root = repo(PY)
    task = spec(
        "Count wide characters right", "- `python -m pytest tests/test_cells.py src/term -q`"
    )
    graph = build_graph(load_index(root, data_dir))
    hints = task_hints(graph, task)
    assert {graph.files[i] for i in hints.paths} == {"tests/test_cells.py"}


def test_the_spec_headings_match_no_function(repo, data_dir):
    root = repo(PY)
    ev = evidence(root, data_dir, spec("Render a style"))
    assert ev["src/term/runner.py"] == {}  # defines `test` and `acceptance`
    assert ev["src/term/style.py"]


GO = {
    "users.go": "package chi\n\nfunc ListUsers() []string { return nil }\n",
    "github.go": 'package chi\n\nfunc Hub() string { return "" }\n',
    "mux.go": "package chi\n\ntype Mux struct{}\n\nfunc (m *Mux) Route(pattern string) {}\n",
    "tree.go": "package chi\n\nfunc findRoute(path string) string { return path }\n",
    "_examples/users/main.go": "package main\n\nfunc main() { ListUsers() }\n",
    "go.mod": "module example.com/chi\n",
}
TRAILERS = """Fix wildcard route matching in findRoute

A trailing wildcard swallowed the next segment; see https://github.com/org/chi/blob/main/users.go
and https://example.com/noreply.github.com (#812).

Co-authored-by: Jane Doe <12345+jane@users.noreply.github.com>
Signed-off-by: Bob <bob@github.com>
Reviewed-by: Carol <carol@users.example.org>
Change-Id: I0123456789abcdef"""


def test_a_trailer_never_matches_a_path(repo, data_dir):
    root = repo(GO)
    task = spec(TRAILERS, "- `go test ./...`")
    graph = build_graph(load_index(root, data_dir))
    assert task_hints(graph, task).paths == set()
    ev = evidence(root, data_dir, task)
    assert ev["users.go"] == {} and ev["github.go"] == {}
    res = build_context(root, task, 4000, data_dir=data_dir)
    assert res.files[0] == "tree.go"
    assert res.files.index("_examples/users/main.go") > res.files.index("users.go")


def test_urls_and_addresses_are_not_the_task(repo):
    text = read_task(spec(TRAILERS)).text
    for gone in ("noreply", "github", "Jane", "Reviewed", "Change-Id", "812", "users"):
        assert gone not in text, gone
    assert "wildcard" in text and "findRoute" in text


TS = {
    "package.json": '{"name": "fetcher", "types": "index.d.ts"}\n',
    "index.js": "import {request} from './source/request.js';\n\nexport default function "
    "fetcher(url, options = {}) {\n  const retry = options.retry ?? 2;\n  return request(url, "
    "{...options, retry});\n}\n",
    "index.d.ts": "export type RetryOptions = {\n  limit?: number;\n  methods?: string[];\n};\n\n"
    "export type Options = {\n  retry?: RetryOptions | number;\n  timeout?: number;\n};\n\n"
    "export default function fetcher(url: string, options?: Options): Promise<Response>;\n",
    "source/request.js": "export async function request(url, options) {\n  let attempt = 0;\n"
    "  while (attempt <= options.retry) {\n    attempt++;\n  }\n  return fetch(url);\n}\n",
    "source/timeout.js": "export function timeout(ms) {\n  return new Promise(r => setTimeout(r, "
    "ms));\n}\n",
}


def test_a_declaration_file_ranks_first_on_a_types_task(repo, data_dir):
    root = repo(TS)
    task = spec("Fix the TypeScript types of the retry option: allow a number", "- `npm test`")
    assert is_types_task(read_task(task))
    res = build_context(root, task, 4000, data_dir=data_dir)
    assert res.files[0] == "index.d.ts"
    assert "index.d.ts" in res.excerpt_files


def test_a_declaration_file_is_not_first_on_a_code_task(repo, data_dir):
    root = repo(TS)
    task = spec("Retry requests when the attempt fails", "- `npm test`")
    assert not is_types_task(read_task(task))
    res = build_context(root, task, 4000, data_dir=data_dir)
    assert res.files[0] != "index.d.ts"


@pytest.mark.parametrize(
    ("goal", "doc"),
    [
        ("Document the --json flag in the README", True),
        ("docs: fix the quick start", True),
        ("Update the changelog for 2.1", True),
        ("Fix the crash on empty input\n\nAlso note it in the changelog and the docs.", False),
        ("Handle ZWJ sequences\n\nSee NEWS and the docs guide for the old behaviour.", False),
        ("Clarify the docstring of parse_url", False),
    ],
)
def test_a_docs_task_is_told_by_the_goals_subject(goal, doc):
    assert is_doc_task(read_task(spec(goal)).subject) is doc


def test_a_body_that_mentions_the_changelog_ranks_the_code_first(repo, data_dir):
    files = {**PY, "CHANGES.md": "# Changes\n\n## 1.0\n\n- cell widths\n",
             "docs/cells.md": "# Cells\n\nHow cell_len counts cells.\n"}  # fmt: skip
    root = repo(files)
    task = spec("Count zero-width joiners in cell_len as one cell\n\nAdd a changelog entry and "
                "a docs note.")  # fmt: skip
    res = build_context(root, task, 4000, data_dir=data_dir)
    assert res.files[0] == "src/term/cells.py"


@pytest.mark.parametrize(
    ("rel", "kind"),
    [
        ("_examples/rest/main.go", EXAMPLE),
        ("_example/main.go", EXAMPLE),
        ("examples/app.py", EXAMPLE),
        ("example-app/index.js", EXAMPLE),
        ("samples_v2/Main.java", EXAMPLE),
        ("benches/parse.rs", EXAMPLE),
        ("internal/_tools/gen.go", EXAMPLE),  # outside the Go build
        ("third_party/zlib/inflate.c", EXAMPLE),
        ("pkg/testdata/input.go", TEST),
        ("tests/fixtures/app.py", TEST),
        ("fixtures/users.js", TEST),
        ("src/__tests__/a.js", TEST),
        ("src/test/java/org/x/ParserTest.java", TEST),
        ("src/main/java/org/x/Parser.java", SOURCE),
        ("src/pkg/_internal/x.py", SOURCE),  # a private Python package is code
        ("src/pkg/examples.py", SOURCE),  # a file, not a directory
        ("lib/sample.go", SOURCE),
    ],
)
def test_example_fixture_and_vendored_dirs_are_known_by_structure(rel, kind):
    assert kind_of(rel) == kind


def test_without_history_the_ranking_uses_the_weights_learned_without_it(repo, tmp_path):
    from harness_ls.context.history import load_history
    from harness_ls.context.weights import WEIGHTS, WEIGHTS_NO_HISTORY

    root = repo(PY)
    graph = build_graph(load_index(root, tmp_path / "data"))
    task = spec("Count zero-width joiners in cell_len")
    single = load_history(root)  # one commit of every file: no usable history
    assert single.empty and single.note
    assert rank_files(graph, task, {}, single).weights == WEIGHTS_NO_HISTORY
    assert rank_files(graph, task, {}, None).weights == WEIGHTS_NO_HISTORY
    from .conftest import git, write

    for n in range(3):
        write(root, {"src/term/cells.py": PY["src/term/cells.py"] + f"# {n}\n"})
        git(root, "commit", "-qam", f"cells: change {n}")
    history = load_history(root)
    assert not history.empty
    assert rank_files(graph, task, {}, history).weights == WEIGHTS
