"""The proposed change of an approval as files and texts: the `.diff` file "Show diff" opens
(and the approvals answerable from it), and both sides for a two-sided diff view."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness_ls.lsp.server import HarnessLanguageServer


def _attr(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def in_diff(ls: HarnessLanguageServer, uri: str) -> list[Any]:
    """The pending approvals whose proposed change (diff_path) `uri` is: Neovim and Emacs users
    read it there after "Show diff", and answer it there."""
    from harness_ls.lsp.documents import uri_key
    from harness_ls.lsp.runtime import runtime

    harness = runtime(ls).harness if uri.endswith(".diff") else None
    if harness is None:
        return []
    key = uri_key(uri)
    return [
        a
        for a in harness.pending_approvals()
        if uri_key(diff_path(harness.data_dir, a).as_uri()) == key
    ]


def diff_path(data_dir: Path, approval: Any) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in approval.id)
    return data_dir / "diffs" / f"{safe}.diff"


def diff_file(data_dir: Path, approval: Any) -> Path | None:
    """Write the proposed change to a real file under the data dir (every client can open a
    file; not every client can show a virtual document). None when there is no diff."""
    diff = _attr(approval.preview, "diff")
    if not diff:
        return None
    path = diff_path(data_dir, approval)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(diff if diff.endswith("\n") else diff + "\n", encoding="utf-8")
    return path


MAX_SIDE_BYTES = 2_000_000  # a bigger file is shown as the patch only


def diff_sides(approval: Any) -> dict[str, Any] | None:
    """Before / after texts of a proposed write, for clients with a two-sided diff view (VS
    Code's `harness-diff:` documents). None when there is no diff or it no longer applies (the
    file changed since, the diff was cut): the patch file of show_diff is the fallback."""
    from harness_ls.core.views import apply_unified_diff

    diff, path = _attr(approval.preview, "diff"), _attr(approval.preview, "path")
    if not diff or not path or not approval.workspace:
        return None
    target = Path(approval.workspace) / path
    try:
        exists = target.is_file()
        if exists and target.stat().st_size > MAX_SIDE_BYTES:
            return None
        before = target.read_text(encoding="utf-8") if exists else ""
    except (OSError, UnicodeDecodeError):
        return None
    after = apply_unified_diff(before, diff)
    if after is None:
        return None
    return {"id": approval.id, "path": path, "isNew": not exists, "before": before, "after": after}
