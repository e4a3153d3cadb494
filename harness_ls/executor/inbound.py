"""What agentd accepts from a worker, which is another trust zone: its events' data, the trees
and refs they name, the artifacts it copies home. A worker can send anything, so each piece is
checked exactly here before the run's log, the shadow repository or the data dir sees it."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from harness_ls.errors import InvalidInput
from harness_ls.workspace.checkpoints import REF_PREFIX
from harness_ls.workspace.shadow import object_id

WORKER_ARTIFACT = "artifacts/summary.md"  # the one artifact a worker's run copies home
MAX_WORKER_ARTIFACT = 4 << 20
TREE_KEYS = ("tree", "after")
# Recorded by agentd itself (its broker asks you; it applies the result): one sent by a worker is
# forged — "approved by you" in the log, or an approval your hooks would notify you of.
HOST_ONLY = frozenset({"approval.requested", "approval.resolved", "run.applied"})
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
log = logging.getLogger("harness_ls.executor")


def event_data(t: str, data: dict[str, Any]) -> dict[str, Any]:
    """A worker's event data, made safe to log: no `$artifact` reference (the store follows it
    to a file; the relay never offloads), and on `checkpoint.*` full hex ids only (a "tree" of
    `--output=<file>` is an option to git). InvalidInput ends the run."""
    out = dict(data)
    out.pop("$artifact", None)
    if t.startswith("checkpoint."):
        for key in TREE_KEYS:
            if out.get(key):
                object_id(out[key], key)
    return out


def checkpoint_ref(run_id: str, name: object) -> str:
    """The shadow ref of a worker's `checkpoint.created`, named here from the run's own id: the
    worker's would move another run's refs (or HEAD)."""
    if not isinstance(name, str | int) or not _NAME.fullmatch(str(name)):
        raise InvalidInput(f"a worker's checkpoint name {str(name)[:80]!r} is not a step name")
    return f"{REF_PREFIX}/{run_id}/{name}"


def artifact_refusal(rel: object, content: object) -> str | None:
    """Why a worker's artifact is not stored (None: store it): only the run summary, bounded
    (the run's own `spec.md`, which exports carry, or a 1 GiB file are not a worker's to write)."""
    if rel != WORKER_ARTIFACT or not isinstance(content, bytes):
        return f"{str(rel)[:80]!r} is not {WORKER_ARTIFACT}"
    if len(content) > MAX_WORKER_ARTIFACT:
        return f"{len(content)} bytes, over {MAX_WORKER_ARTIFACT >> 20} MiB"
    return None


def store_artifact(artifacts: Path, rel: object, content: object) -> bool:
    """Store a worker's copy of an artifact it wrote under the run's `artifacts`, when it may."""
    from harness_ls.common import write_atomic

    why = artifact_refusal(rel, content)
    if why is not None or not isinstance(content, bytes):
        log.warning("a worker's artifact was not stored in %s: %s", artifacts, why)
        return False
    write_atomic(artifacts / Path(WORKER_ARTIFACT).name, content.decode("utf-8", errors="replace"))
    return True
