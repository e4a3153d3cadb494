"""LSP latency of harness-ls beside rumdl (a Rust markdown language server, from PyPI) and an empty
pygls server, all in the same run, through a raw JSON-RPC client (no client library measured).

On a 300-line spec it prints, per server:
- start: spawn -> initialize result, median of five alternating starts, and RSS after it;
- open: didOpen -> first publishDiagnostics in a fresh process, median of five;
- keystrokes: didChange -> publishDiagnostics for 400 single-character edits, p50 / p95, the
  servers taking turns edit by edit so that a change in machine load hits them alike; each
  server gets the text sync it asked for (rumdl: full text, the others: incremental);
- RSS after the edits.
Targets (issue 35): keystroke p95 <= rumdl's, open <= 15 ms, start and RSS <= 1.1x the empty
pygls server's. The machine's load average is printed with the figures: other work on the
machine moves every millisecond, which is why the ratios and the same-run comparison matter.

Needs `rumdl` (pip install rumdl==0.3.0, a wheel with the binary): the script says so if absent.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness_ls.testing.lsp_client import RawLspClient
from harness_ls.testing.specs import long_spec

# The floor: pygls with nothing but publishing no diagnostics on open and change.
EMPTY_PYGLS = """
from lsprotocol import types as t
from pygls.lsp.server import LanguageServer

server = LanguageServer("empty", "1")

def publish(ls, params):
    doc = params.text_document
    ls.text_document_publish_diagnostics(
        t.PublishDiagnosticsParams(uri=doc.uri, diagnostics=[], version=doc.version)
    )

server.feature(t.TEXT_DOCUMENT_DID_OPEN)(publish)
server.feature(t.TEXT_DOCUMENT_DID_CHANGE)(publish)
server.start_io()
"""
SIDECAR_OFF = {"harness": {"sidecar": {"enabled": False}}}
SIDECAR_ON = {"harness": {"sidecar": {"port": 0}}}  # the default, on a free port


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * q))]


class Server:
    """One language server under test: how to start it and what to say on initialize."""

    def __init__(self, name: str, cmd: list[str], options: dict | None = None) -> None:
        self.name, self.cmd, self.options = name, cmd, options

    def start(self, root: Path) -> tuple[RawLspClient, float, int]:
        """A running server, its spawn -> initialize result time (ms) and its sync kind."""
        t0 = time.perf_counter()
        client = RawLspClient(self.cmd)
        params: dict[str, Any] = {
            "processId": os.getpid(),
            "rootUri": root.as_uri(),
            "capabilities": {},
        }
        if self.options is not None:
            params["initializationOptions"] = self.options
        reply = client.request("initialize", params)
        ms = (time.perf_counter() - t0) * 1000
        sync = reply["result"]["capabilities"].get("textDocumentSync", 1)
        kind = sync.get("change", 1) if isinstance(sync, dict) else sync
        return client, ms, kind


def diagnostics_of(uri: str, version: int) -> Callable[[dict], bool]:
    def match(m: dict) -> bool:
        if m.get("method") != "textDocument/publishDiagnostics":
            return False
        p = m["params"]
        return p.get("uri") == uri and p.get("version") in (version, None)

    return match


def open_doc(client: RawLspClient, uri: str, text: str) -> float:
    """didOpen -> its publishDiagnostics, in ms."""
    t0 = time.perf_counter()
    client.send(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "markdown", "version": 1, "text": text}},
    )
    t1, _ = client.wait(diagnostics_of(uri, 1))
    return (t1 - t0) * 1000


def starts(servers: list[Server], root: Path, runs: int = 5) -> dict[str, tuple[list, float]]:
    """spawn -> initialize result (ms) per server, alternating; RSS (MB) right after."""
    out: dict[str, tuple[list, float]] = {s.name: ([], 0.0) for s in servers}
    for _ in range(runs):
        for s in servers:
            client, ms, _ = s.start(root)
            out[s.name][0].append(ms)
            out[s.name] = (out[s.name][0], rss_mb(client.proc.pid))
            client.kill()
    return out


def first_diagnostics(
    servers: list[Server], root: Path, uri: str, text: str, runs: int = 5
) -> dict[str, list[float]]:
    """didOpen -> first publishDiagnostics in a fresh process (after `initialized`)."""
    out: dict[str, list[float]] = {s.name: [] for s in servers}
    for _ in range(runs):
        for s in servers:
            client, _, _ = s.start(root)
            client.send("initialized", {})
            out[s.name].append(open_doc(client, uri, text))
            client.kill()
    return out


class Editing:
    """A server with the spec open, taking edits the way an editor sends them."""

    def __init__(self, server: Server, root: Path, uri: str, text: str) -> None:
        self.server = server
        self.client, _, self.sync = server.start(root)
        self.client.send("initialized", {})
        self.uri, self.lines, self.version = uri, text.split("\n"), 1
        open_doc(self.client, uri, text)
        self.latencies: list[float] = []

    def edit(self, i: int) -> None:
        line = 2 + (i % 50)
        col = len(self.lines[line])
        self.lines[line] += "x"
        self.version += 1
        if self.sync == 2:  # incremental: the one character typed
            change: dict[str, Any] = {
                "range": {
                    "start": {"line": line, "character": col},
                    "end": {"line": line, "character": col},
                },
                "text": "x",
            }
        else:  # full: the whole text, as the server asked
            change = {"text": "\n".join(self.lines)}
        t0 = time.perf_counter()
        self.client.send(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uri, "version": self.version},
                "contentChanges": [change],
            },
        )
        t1, _ = self.client.wait(diagnostics_of(self.uri, self.version))
        self.latencies.append((t1 - t0) * 1000)  # arrival time, stamped by the reader thread


def keystrokes(
    servers: list[Server], root: Path, uri: str, text: str, edits: int = 400
) -> dict[str, tuple[list[float], float]]:
    """didChange -> publishDiagnostics (ms) per server, one edit each in turn (a burst of load
    from elsewhere hits them alike); RSS after the edits."""
    editing = [Editing(s, root, uri, text) for s in servers]
    time.sleep(1.5)  # let a sidecar (when on) finish starting, as it would while a user reads
    for i in range(edits):
        for e in editing:
            e.edit(i)
    out = {}
    for e in editing:
        out[e.server.name] = (e.latencies, rss_mb(e.client.proc.pid))
        e.client.kill()
    return out


BASE_SETUP = "from pygls.lsp.server import LanguageServer; LanguageServer('empty', '1')"
OUR_SETUP = (
    "import sys; sys.argv = ['harness-ls']; import harness_ls.lsp.main; "
    "from harness_ls.lsp.server import create_server; create_server()"
)


def startup_cpu(runs: int = 9) -> tuple[float, float]:
    """CPU seconds (user + sys) of a process that imports and builds each server, no I/O:
    unlike wall time it barely moves with the machine's load. Medians of alternating runs."""
    import subprocess

    cpu: list[list[float]] = [[], []]
    for _ in range(runs):
        for i, code in enumerate((BASE_SETUP, OUR_SETUP)):
            proc = subprocess.Popen([sys.executable, "-c", code])
            _, _, usage = os.wait4(proc.pid, 0)
            cpu[i].append(usage.ru_utime + usage.ru_stime)
    return statistics.median(cpu[0]), statistics.median(cpu[1])


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def compile_package() -> None:
    """Bytecode for harness_ls, as a wheel install writes it (pip compiles at install): with
    PYTHONDONTWRITEBYTECODE set, a module edited since its .pyc would otherwise be compiled
    again by every process measured, while pygls (installed) never is."""
    import compileall

    import harness_ls

    compileall.compile_dir(str(Path(harness_ls.__file__).parent), quiet=1)


def main() -> None:
    rumdl = shutil.which(
        "rumdl", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    )
    if rumdl is None:
        print(
            "rumdl not found: pip install rumdl==0.3.0 (the comparison needs it)", file=sys.stderr
        )
        raise SystemExit(2)
    compile_package()
    root = Path(tempfile.mkdtemp())
    (root / "specs" / "bench").mkdir(parents=True)
    os.environ.setdefault("HARNESS_DATA_DIR", str(root / "data"))
    uri = (root / "specs" / "bench" / "spec.md").as_uri()
    text = long_spec(300)
    harness = [str(Path(sys.executable).parent / "harness-ls")]
    ours = Server("harness-ls", harness, SIDECAR_ON)
    lint_only = Server("harness-ls (sidecar off)", harness, SIDECAR_OFF)
    rumdl_server = Server("rumdl", [rumdl, "server"])
    empty = Server("empty pygls", [sys.executable, "-c", EMPTY_PYGLS])
    print(f"spec: {len(text.splitlines())} lines, {len(text) / 1024:.1f} KB; {load()} at start")

    st = starts([ours, empty, rumdl_server], root)
    base_start = statistics.median(st["empty pygls"][0])
    base_rss = st["empty pygls"][1]
    print("start (spawn -> initialize result), median of 5 alternating; RSS after initialize:")
    for name, (ms, rss) in st.items():
        med = statistics.median(ms)
        print(
            f"  {name:26s} {med:6.0f} ms = {med / base_start:.2f}x empty pygls"
            f"  (best {min(ms):.0f}); RSS {rss:.1f} MB = {rss / base_rss:.2f}x"
        )

    base_cpu, our_cpu = startup_cpu()
    print(
        f"  start-up CPU (imports + server built, median of 9): harness-ls {our_cpu * 1000:.0f} ms,"
        f" empty pygls {base_cpu * 1000:.0f} ms = {our_cpu / base_cpu:.2f}x (load-independent view)"
    )

    fd = first_diagnostics([ours, lint_only, empty, rumdl_server], root, uri, text)
    print(
        "open (didOpen -> first publishDiagnostics, fresh process), median of 5 (target <= 15 ms):"
    )
    for name, ms in fd.items():
        print(
            f"  {name:26s} {statistics.median(ms):6.1f} ms  (best {min(ms):.1f}, worst {max(ms):.1f})"
        )

    ks = keystrokes([ours, lint_only, rumdl_server, empty], root, uri, text)
    target = percentile(ks["rumdl"][0], 0.95)
    print(
        "keystrokes (didChange -> publishDiagnostics, 400 edits each, in turn) (target p95 <= rumdl's):"
    )
    for name, (lat, rss) in ks.items():
        print(
            f"  {name:26s} p50 {percentile(lat, 0.5):5.2f} ms  p95 {percentile(lat, 0.95):5.2f} ms"
            f"  max {max(lat):6.2f} ms; RSS after {rss:.1f} MB = {rss / base_rss:.2f}x empty pygls"
        )
    p95 = percentile(ks["harness-ls"][0], 0.95)
    print(f"harness-ls p95 / rumdl p95 = {p95 / target:.2f}; {load()} at the end")


if __name__ == "__main__":
    main()
