"""What shellparse gives: the simple commands of a shell command, their redirections, and why a
part (or the whole line) cannot be decided before it runs. Plain frozen records, kept apart from
the walker that makes them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Redirect:
    op: str  # ">", ">>", "<", "2>", "&>", "<<" (here-doc), "<<<", ">&" ...
    target: str  # literal where possible, else the source text


@dataclass(frozen=True, init=False)
class SimpleCommand:
    argv: tuple[str, ...]  # words after quote removal (source text where not literal)
    text: str  # the exact source slice of this simple command
    redirects: tuple[Redirect, ...]
    context: str  # "" top level, or "$()", "`", "<()", "subshell", "bash -c", "eval", "pipeline"...
    background: bool
    opaque: str | None  # why this part cannot be decided, else None
    literal: tuple[bool, ...] = ()  # per argv word: known before it runs (no expansion)
    assigns: tuple[str, ...] = ()  # variables set for this command (`FOO=1 cmd`)

    def __init__(self, argv: tuple[str, ...], text: str, redirects: tuple[Redirect, ...],
                 context: str, background: bool, opaque: str | None,
                 literal: tuple[bool, ...] = (), assigns: tuple[str, ...] = ()) -> None:  # fmt: skip
        """The generated frozen __init__ sets each field through object.__setattr__; one is
        made per simple command on the hot path, so the fields go straight into __dict__."""
        d = self.__dict__
        d["argv"], d["text"], d["redirects"], d["context"] = argv, text, redirects, context
        d["background"], d["opaque"] = background, opaque
        d["literal"], d["assigns"] = literal, assigns


@dataclass(frozen=True)
class ParsedCommand:
    source: str
    parts: tuple[SimpleCommand, ...]
    opaque: str | None  # whole-command parse failure reason, else None
    not_plain: str | None = None  # what it uses beyond word-only commands (shelleval.plain)
