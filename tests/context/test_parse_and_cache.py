"""Cold parses spread over processes give the same tags; the on-disk tags and graph are reused
only while they match the files and the code, and a damaged cache is rebuilt, never fatal."""

from __future__ import annotations

import os
import time

import pytest

from harness_ls.context import parse, prepare
from harness_ls.context.build import build_context
from harness_ls.context.cache import cache_path, clear_memory, graph_path
from harness_ls.context.files import list_files

TASK = "fix process_7 in handler_3"


def _mixed(n: int) -> dict[str, str]:
    files: dict[str, str] = {}
    for i in range(n):
        kind = i % 4
        if kind == 0:
            files[f"pkg/mod_{i}.py"] = (
                f"class Handler{i}:\n    def run(self, x):\n        return process_{i}(x)\n\n"
                f"def process_{i}(value):\n    return handler_{(i + 1) % n}(value)\n"
            )
        elif kind == 1:
            files[f"web/mod_{i}.ts"] = (
                f"export function handler_{i}(a: number) {{ return process_{i - 1}(a); }}\n"
                f"export class View{i} {{ render() {{ return {i}; }} }}\n"
            )
        elif kind == 2:
            files[f"svc/mod_{i}.go"] = (
                f"package svc\n\nfunc Serve{i}(a int) int {{ return a }}\n"
                f"type Store{i} struct {{ n int }}\n"
            )
        else:
            files[f"docs/page_{i}.md"] = f"# Page {i}\n\nSee `process_{i - 3}`.\n\n## Usage\n"
    files["pkg/handler_3.py"] = "def handler_3(value):\n    return process_7(value)\n"
    return files


def _tags(root, workers: int):
    files = list_files(root).files
    got = parse.parse_files(root, files, time.monotonic() + 60, workers=workers)
    return {f.rel: t.to_json() for f, t in zip(files, got, strict=True)}


def test_parallel_parse_gives_the_same_tags_as_serial(repo):
    root = repo(_mixed(60))
    serial = _tags(root, 1)
    assert len(serial) == 61 and serial["pkg/handler_3.py"][3][0][0] == "handler_3"
    assert _tags(root, 3) == serial


def test_a_failing_child_share_is_parsed_by_the_parent(repo, monkeypatch):
    root = repo(_mixed(40))
    serial = _tags(root, 1)
    parent, real = os.getpid(), parse.extract

    def broken_in_child(rel, data):
        if os.getpid() != parent:
            raise RuntimeError("child crashes")
        return real(rel, data)

    monkeypatch.setattr(parse, "extract", broken_in_child)
    assert _tags(root, 2) == serial


def test_a_hanging_child_is_killed_at_the_deadline(repo, monkeypatch, tmp_path):
    root = repo(_mixed(20))
    parent, real = os.getpid(), parse.extract

    pids = tmp_path / "child-pids"

    def hangs_in_child(rel, data):
        if os.getpid() != parent:
            with pids.open("a") as f:
                f.write(f"{os.getpid()}\n")
            time.sleep(600)
        return real(rel, data)

    monkeypatch.setattr(parse, "extract", hangs_in_child)
    monkeypatch.setattr(parse, "CHILD_GRACE_S", 0.5)
    files = list_files(root).files
    got = parse.parse_files(root, files, time.monotonic() + 0.5, workers=2)
    # returned without waiting out the hang: the hanging child was killed and reaped
    hung = {int(pid) for pid in pids.read_text().split()}
    assert len(hung) == 1
    for pid in hung:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    # the parent's own share is parsed; the child's share is past the deadline: not parsed
    assert sum(t is not None for t in got) == len(files) - len(files) // 2


def test_a_cold_build_forks_and_agrees_with_a_single_process_build(repo, data_dir, monkeypatch):
    root = repo(_mixed(80))
    monkeypatch.setattr(parse, "PARALLEL_MIN_FILES", 10)
    assert parse.worker_count(81) >= min(2, len(os.sched_getaffinity(0)))
    forked = build_context(root, TASK, 3000, data_dir=data_dir)
    clear_memory()
    monkeypatch.setattr(parse, "MAX_WORKERS", 1)
    single = build_context(root, TASK, 3000, data_dir=data_dir / "other")
    assert forked.stats["files_parsed"] == single.stats["files_parsed"] == 81
    assert forked.text == single.text and forked.files[0] == "pkg/handler_3.py"


def _count_graph_builds(monkeypatch) -> list[int]:
    built: list[int] = []
    real = prepare.build_graph

    def counting(index):
        if index.graph is None:
            built.append(1)
        return real(index)

    monkeypatch.setattr(prepare, "build_graph", counting)
    return built


def test_warm_build_in_a_new_process_loads_the_saved_graph(repo, data_dir, monkeypatch):
    root = repo(_mixed(30))
    built = _count_graph_builds(monkeypatch)
    cold = build_context(root, TASK, 3000, data_dir=data_dir)
    assert built == [1] and graph_path(data_dir, root.resolve()).exists()
    clear_memory()  # as a new process: only the disk cache is left
    warm = build_context(root, TASK, 3000, data_dir=data_dir)
    assert built == [1] and warm.stats["files_parsed"] == 0 and warm.text == cold.text
    # graph code changed (another version of harness-ls): the saved graph is not used
    clear_memory()
    monkeypatch.setattr(prepare, "graph_code_key", lambda: "other code")
    again = build_context(root, TASK, 3000, data_dir=data_dir)
    assert built == [1, 1] and again.text == cold.text


def test_an_edit_invalidates_the_saved_graph(repo, data_dir, monkeypatch):
    root = repo(_mixed(30))
    built = _count_graph_builds(monkeypatch)
    build_context(root, TASK, 3000, data_dir=data_dir)
    target = root / "svc/mod_2.go"
    target.write_text(target.read_text() + "\nfunc BrandNewEntrypoint() int { return 1 }\n")
    clear_memory()
    res = build_context(root, "BrandNewEntrypoint", 3000, data_dir=data_dir)
    assert built == [1, 1] and res.stats["files_parsed"] == 1
    assert res.files[0] == "svc/mod_2.go" and "BrandNewEntrypoint" in res.map_text
    (root / "svc/mod_2.go").unlink()
    clear_memory()
    gone = build_context(root, "BrandNewEntrypoint", 3000, data_dir=data_dir)
    assert "svc/mod_2.go" not in gone.files and built == [1, 1, 1]


def test_half_written_or_garbled_caches_are_rebuilt(repo, data_dir):
    root = repo(_mixed(30))
    cold = build_context(root, TASK, 3000, data_dir=data_dir)
    tags, graph = cache_path(data_dir, root.resolve()), graph_path(data_dir, root.resolve())
    whole = tags.read_bytes()
    for damaged in (whole[: len(whole) // 2], whole[:10], b"", b"\x00" * 100, b"{not json"):
        tags.write_bytes(damaged)
        clear_memory()
        res = build_context(root, TASK, 3000, data_dir=data_dir)
        assert res.stats["files_parsed"] == 31 and res.text == cold.text
    graph.write_bytes(graph.read_bytes()[:1000])  # half-written graph: rebuilt from the tags
    clear_memory()
    res = build_context(root, TASK, 3000, data_dir=data_dir)
    assert res.stats["files_parsed"] == 0 and res.text == cold.text


def test_a_damaged_references_section_reparses_instead_of_ranking_blind(repo, data_dir):
    root = repo(_mixed(30))
    cold = build_context(root, TASK, 3000, data_dir=data_dir)
    tags, graph = cache_path(data_dir, root.resolve()), graph_path(data_dir, root.resolve())
    tags.write_bytes(tags.read_bytes()[:-50])  # the second section (references) is cut short
    graph.unlink()
    clear_memory()
    res = build_context(root, TASK, 3000, data_dir=data_dir)
    assert res.text == cold.text and res.files[0] == "pkg/handler_3.py"


def test_a_cache_others_can_write_is_ignored(repo, data_dir):
    root = repo(_mixed(10))
    build_context(root, "", 1000, data_dir=data_dir)
    tags = cache_path(data_dir, root.resolve())
    tags.chmod(0o666)
    clear_memory()
    res = build_context(root, "", 1000, data_dir=data_dir)
    assert res.stats["files_parsed"] == 11
    assert tags.stat().st_mode & 0o077 == 0  # rewritten owner-only


def test_the_json_cache_of_older_versions_is_removed(repo, data_dir):
    root = repo(_mixed(5))
    legacy = cache_path(data_dir, root.resolve()).with_suffix(".json")
    legacy.parent.mkdir(parents=True)
    legacy.write_text('{"key": "v5", "files": {}}')
    res = build_context(root, "", 1000, data_dir=data_dir)
    assert res.stats["files_parsed"] == 6 and not legacy.exists()


def test_a_build_on_a_daemon_worker_thread_forks_and_agrees(repo, data_dir, monkeypatch):
    """As agentd runs it (asyncio.to_thread) while other threads log: the forked children
    touch no lock those threads hold, and the result equals a one-process build."""
    import asyncio
    import logging
    import threading

    root = repo(_mixed(80))
    monkeypatch.setattr(parse, "PARALLEL_MIN_FILES", 10)
    stop = threading.Event()
    noisy = logging.getLogger("test.noisy")

    def chatter():
        while not stop.is_set():
            noisy.debug("busy")

    busy = threading.Thread(target=chatter, daemon=True)
    busy.start()
    try:
        threaded = asyncio.run(
            asyncio.to_thread(build_context, root, TASK, 3000, data_dir=data_dir)
        )
    finally:
        stop.set()
        busy.join()
    clear_memory()
    monkeypatch.setattr(parse, "MAX_WORKERS", 1)
    single = build_context(root, TASK, 3000, data_dir=data_dir / "other")
    assert threaded.stats["files_parsed"] == 81 and threaded.text == single.text


def test_an_interrupted_parse_leaves_no_child_behind(repo, monkeypatch):
    root = repo(_mixed(40))
    parent, real_one, real_fork = os.getpid(), parse.parse_one, parse._fork
    pids: list[int] = []

    def interrupted(root_, f, deadline):
        if os.getpid() == parent:
            raise KeyboardInterrupt
        return real_one(root_, f, deadline)

    def recording_fork(*args):
        child = real_fork(*args)
        pids.append(child[0])
        return child

    monkeypatch.setattr(parse, "parse_one", interrupted)
    monkeypatch.setattr(parse, "_fork", recording_fork)
    with pytest.raises(KeyboardInterrupt):
        parse.parse_files(root, list_files(root).files, time.monotonic() + 60, workers=3)
    assert len(pids) == 2
    for pid in pids:  # killed and reaped: no zombie, nothing left running
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_references_load_lazily_and_survive_a_rewrite_in_between(repo, data_dir):
    from harness_ls.context.cache import load_index
    from harness_ls.context.tags import extract

    root = repo(_mixed(30)).resolve()
    build_context(root, TASK, 3000, data_dir=data_dir)
    clear_memory()
    index = load_index(root, data_dir, full=False)  # as a warm build whose graph is saved
    rel = "pkg/handler_3.py"
    assert index.parsed == 0 and index.tags[rel].refs == {} and index.pending is not None
    # another process rewrites the cache (new generation) before the references are needed
    (root / "pkg/mod_0.py").write_text("def changed():\n    return 0\n")
    clear_memory()
    build_context(root, TASK, 3000, data_dir=data_dir)
    index.require_full()  # the saved references are another generation's: re-parsed instead
    want = extract(rel, (root / rel).read_bytes())
    assert index.tags[rel].refs == want.refs and index.tags[rel].words == want.words
    assert index.tags[rel].refs  # process_7, ...
