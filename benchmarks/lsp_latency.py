"""LSP latency: spawn harness-ls, open a 300-line spec, make 200 edits.

Prints cold start (spawn -> initialize result), didChange -> publishDiagnostics p50/p95, and RSS,
with cold start and RSS also as ratios to an empty pygls server measured in the same run (the
floor on this machine: a ratio is comparable across machines and loads, a millisecond is not).
Targets (issue 19): RSS <= 50 MB with the sidecar idle, cold start <= 1.1x the empty server's,
keystroke p95 <= 2 ms. A raw JSON-RPC client is used so the figures are the server's.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness_ls.testing.lsp_client import RawLspClient
from harness_ls.testing.specs import long_spec


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


BASELINE = (
    "from pygls.lsp.server import LanguageServer\nLanguageServer('baseline', '1').start_io()\n"
)


def cold_starts(cmds: list[list[str]], root: Path, runs: int = 9) -> list[list[float]]:
    """spawn -> initialize result in ms, for each command; runs alternate between the commands
    so that a change in machine load hits them alike. Also returns each one's RSS after init."""
    out: list[list[float]] = [[] for _ in cmds]
    rss: list[float] = [0.0 for _ in cmds]
    for _ in range(runs):
        for i, cmd in enumerate(cmds):
            t0 = time.perf_counter()
            c = RawLspClient(cmd)
            c.request(
                "initialize",
                {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {}},
            )
            out[i].append((time.perf_counter() - t0) * 1000)
            rss[i] = rss_mb(c.proc.pid)
            c.kill()
    return out + [rss]


BASE_SETUP = "from pygls.lsp.server import LanguageServer; LanguageServer('baseline', '1')"
OUR_SETUP = "from harness_ls.lsp.main import serve; from harness_ls.lsp.server import create_server; create_server()"


def startup_cpu(runs: int = 9) -> tuple[float, float]:
    """CPU seconds (user + sys) of a process that imports and builds each server, no I/O:
    unlike wall time, it barely moves with the machine's load. Median of alternating runs."""
    cpu: list[list[float]] = [[], []]
    for _ in range(runs):
        for i, code in enumerate((BASE_SETUP, OUR_SETUP)):
            proc = subprocess.Popen([sys.executable, "-c", code])
            _, _, usage = os.wait4(proc.pid, 0)
            cpu[i].append(usage.ru_utime + usage.ru_stime)
    return statistics.median(cpu[0]), statistics.median(cpu[1])


def edits(
    cmd: list[str], root: Path, uri: str, text: str, options: dict
) -> tuple[list[float], float]:
    c = RawLspClient(cmd)
    c.request(
        "initialize",
        {
            "processId": os.getpid(),
            "rootUri": root.as_uri(),
            "capabilities": {},
            "initializationOptions": options,
        },
    )
    c.send("initialized", {})
    c.send(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "markdown", "version": 1, "text": text}},
    )
    c.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics")
    time.sleep(1.5)  # let the sidecar (when on) finish starting, as it would while a user reads
    lat = []
    lines = text.split("\n")
    for i in range(200):
        line = 2 + (i % 50)
        col = len(lines[line])
        t0 = time.perf_counter()
        c.send(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": i + 2},
                "contentChanges": [
                    {
                        "range": {
                            "start": {"line": line, "character": col},
                            "end": {"line": line, "character": col},
                        },
                        "text": "x",
                    }
                ],
            },
        )
        lines[line] += "x"
        t1, _ = c.wait(
            lambda m, v=i + 2: (
                m.get("method") == "textDocument/publishDiagnostics"
                and m["params"].get("version") == v
            )
        )
        lat.append((t1 - t0) * 1000)  # arrival time, stamped by the reader thread
    rss = rss_mb(c.proc.pid)
    c.kill()
    return sorted(lat), rss


def main() -> None:
    root = Path(tempfile.mkdtemp())
    (root / "specs" / "bench").mkdir(parents=True)
    os.environ.setdefault("HARNESS_DATA_DIR", str(root / "data"))
    uri = (root / "specs" / "bench" / "spec.md").as_uri()
    text = long_spec(300)
    cmd = [str(Path(sys.executable).parent / "harness-ls")]
    base, starts, (base_rss, _) = cold_starts([[sys.executable, "-c", BASELINE], cmd], root)
    ratio = statistics.median(starts) / statistics.median(base)
    print(f"spec: {len(text.splitlines())} lines, {len(text) / 1024:.1f} KB; 200 incremental edits")
    print(
        f"cold start (spawn -> initialize result): median {statistics.median(starts):.0f} ms, best {min(starts):.0f} ms"
        f" = {ratio:.2f}x the empty pygls server (target <= 1.1x)"
    )
    print(
        f"  baseline, an empty pygls server:        median {statistics.median(base):.0f} ms, best {min(base):.0f} ms; RSS {base_rss:.1f} MB"
    )
    base_cpu, our_cpu = startup_cpu()
    print(
        f"start-up CPU (imports + server built): {our_cpu * 1000:.0f} ms vs {base_cpu * 1000:.0f} ms for the empty server"
        f" = {our_cpu / base_cpu:.2f}x (load-independent view of the same ratio)"
    )
    for label, options in (
        ("lint only (sidecar off)", {"harness": {"sidecar": {"enabled": False}}}),
        ("default (dashboard sidecar on, idle)", {"harness": {"sidecar": {"port": 0}}}),
    ):
        lat, rss = edits(cmd, root, uri, text, options)
        p50, p95 = lat[len(lat) // 2], lat[int(len(lat) * 0.95)]
        print(
            f"{label}: didChange -> publishDiagnostics p50 {p50:.2f} ms, p95 {p95:.2f} ms, max {lat[-1]:.2f} ms  (target p95 <= 2 ms);"
            f" RSS {rss:.1f} MB = {rss / base_rss:.2f}x the empty server's  (target <= 50 MB)"
        )


if __name__ == "__main__":
    main()
