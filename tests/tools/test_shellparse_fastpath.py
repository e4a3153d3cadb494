"""The one-pass path for plain-word commands gives exactly the parts the general path gives, and
a parse names the same reason every time (issue 31: a faster decision must be the same decision).
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace

import pytest

from harness_ls.tools import shellparse
from harness_ls.tools.shellparse import SimpleCommand, _parse

COMMANDS = [
    "pytest -q tests/test_1.py",
    "ruff check src/m1.py && grep -n needle README.md",
    "cat src/a.py | wc -l",
    "rm -rf x",
    "'r'\\m -rf x",
    "r\\m -rf x",
    "cmd a'b' c",
    "cmd 'a b' 42 -5",
    "echo 10#$(rm -rf x)",
    "echo 0x$(id)",
    "echo $'\\x41' \"q\"",
    "*.sh arg",
    "{a,b} x",
    "ls [ab]* ?",
    "env FOO=1 python -m pytest -k k1",
    "bash -c 'make test TARGET=1'",
    "timeout 5 rm x",
    "find . -exec rm {} \\;",
    "eval 'rm x'",
    "FOO=1 cmd x",
    "cmd x > out.txt 2>&1",
    "cmd $x ${y} $((1+2))",
    "café naïve.txt",
    "a &",
    "let x=1",
    "declare -i n",
    "printf -v 'a[$(id)]' x",
]


@pytest.mark.parametrize("source", COMMANDS)
def test_plain_word_path_gives_the_general_paths_parts(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _parse(source, "", 0)
    monkeypatch.setattr(shellparse._Walker, "words_only", lambda *args: False)
    general = _parse(source, "", 0)
    assert fast == general


def test_a_number_holding_a_substitution_is_left_to_the_general_path() -> None:
    walker = shellparse._Walker(b"echo 10#$(id)", 0)
    tree = shellparse._parser().parse(walker.data)
    command = tree.root_node.children[0]
    assert command.type == "command"
    assert walker.words_only(command, "", (), False) is False
    assert walker.parts == []


def test_the_reason_named_for_a_tree_with_errors_is_the_same_every_time() -> None:
    # two evaluating constructs, one inside the other, in a line bash cannot parse: the query's
    # capture order for such a tree varies between calls; the part names the outer one always
    source = "-w${x@P}-w2>/dev/null$'\\x00'99999999999$((*;99999999999${x@P}-n"
    reasons = {_parse(source, "", 0).parts[1].opaque for _ in range(12)}
    assert reasons == {"evaluates arithmetic on variables ($((*;99999999999${x@P}-n)"}


def test_simple_command_keeps_the_dataclass_behaviour() -> None:
    part = SimpleCommand(("rm", "x"), "rm x", (), "", False, None, (True, True))
    same = SimpleCommand(argv=("rm", "x"), text="rm x", redirects=(), context="",
                         background=False, opaque=None, literal=(True, True))  # fmt: skip
    assert part == same and hash(part) == hash(same)
    assert part.assigns == ()
    assert replace(part, context="env").context == "env"
    assert repr(part).startswith("SimpleCommand(argv=('rm', 'x'), text='rm x'")
    with pytest.raises(FrozenInstanceError):
        part.argv = ()  # type: ignore[misc]
