"""`validate(text, schema) -> list[Problem]`: the spec linter, pure and fast.

Each problem has a stable code (`HLS0xx`), a range, and — where the repair is obvious — fixes as
plain text edits that the LSP, `harness-ls check --fix` and the runtime all apply the same way.
Where those edits put their text is spec/placement.py.
"""

from __future__ import annotations

from harness_ls.spec.edits import line_break_of, with_line_break
from harness_ls.spec.headings import Match, classify, normalize
from harness_ls.spec.model import Fix, Problem, Range, Severity, TextEdit
from harness_ls.spec.parse import Heading, ParsedSpec, is_list_item, parse_spec
from harness_ls.spec.placement import (
    append_edit,
    canonical_heading,
    closers,
    end_anchor,
    fence_open_at,
    fix_heading,
    insert_point,
    section_block,
)
from harness_ls.spec.schema import SpecSchema, builtin_schema
from harness_ls.spec.template import render_template

# code -> (name, severity); names are stable and documented in docs/spec-problems.md
CODES: dict[str, tuple[str, Severity]] = {
    "HLS001": ("missing-heading", Severity.error),
    "HLS002": ("duplicate-heading", Severity.error),
    "HLS003": ("wrong-level", Severity.error),
    "HLS004": ("wrong-order", Severity.error),
    "HLS005": ("near-miss-heading", Severity.error),
    "HLS006": ("empty-section", Severity.error),
    "HLS007": ("no-acceptance-test", Severity.error),
    "HLS008": ("content-before-first-heading", Severity.hint),
    "HLS009": ("unknown-section", Severity.warning),
    "HLS010": ("empty-spec", Severity.error),
    "HLS011": ("binary-content", Severity.error),
    "HLS012": ("placeholder-text", Severity.warning),
}


def _problem(code: str, message: str, rng: Range, fixes: list[Fix] | None = None, section=None):
    name, severity = CODES[code]
    return Problem(
        code=code,
        name=name,
        severity=severity,
        message=message,
        range=rng,
        fixes=fixes or [],
        section=section,
    )


def _heading_range(h: Heading) -> Range:
    return Range.of(h.line, h.text_start, h.line, h.text_end)


def _missing(parsed, schema, section, present) -> Problem:
    at = insert_point(parsed, schema, section, present)
    if at is None:
        edit = append_edit(parsed, section_block(section))
    else:
        edit = TextEdit(range=Range.of(at, 0, at, 0), new_text=section_block(section) + "\n")
    anchor = Range.of(at, 0, at, 0) if at is not None else end_anchor(parsed)
    return _problem(
        "HLS001",
        f"Missing required heading '{canonical_heading(section)}'",
        anchor,
        [Fix(title=f"Add '{canonical_heading(section)}' section", edits=[edit], preferred=True)],
        section.id,
    )


def _order_problems(
    parsed: ParsedSpec, schema: SpecSchema, present: dict[str, Match]
) -> list[Problem]:
    order = {s.id: i for i, s in enumerate(schema.sections)}
    found = sorted(present.values(), key=lambda m: parsed.headings[m.index].line)
    seq = [order[m.section.id] for m in found]
    keep = _lis(seq)
    problems = []
    for pos, m in enumerate(found):
        if pos in keep:
            continue
        h = parsed.headings[m.index]
        start, end = h.line, parsed.section_end(m.index)
        target = None  # before the first kept section that should follow this one
        for kpos in sorted(keep):
            if seq[kpos] > order[m.section.id]:
                target = parsed.headings[found[kpos].index].line
                break
        block = "\n".join(parsed.lines[start:end]).rstrip("\n") + "\n"
        if end == len(parsed.lines):  # the end of the text closed what the section left open
            block += closers(parsed, start)
        delete = TextEdit(
            range=Range.of(start, 0, end, 0)
            if end < len(parsed.lines)
            else Range.of(start, 0, end - 1, len(parsed.lines[end - 1])),
            new_text="",
        )
        if target is None:
            insert = append_edit(parsed, block)
        else:
            insert = TextEdit(range=Range.of(target, 0, target, 0), new_text=block + "\n")
        problems.append(
            _problem(
                "HLS004",
                f"'{m.section.heading}' is out of order: expected order is "
                + ", ".join(f"'{s.heading}'" for s in schema.sections),
                _heading_range(h),
                [
                    Fix(
                        title=f"Move '{m.section.heading}' section into place",
                        edits=[insert, delete],
                        preferred=True,
                    )
                ],
                m.section.id,
            )
        )
    return problems


def _lis(seq: list[int]) -> set[int]:
    """Positions of one longest strictly increasing subsequence (n is tiny)."""
    n = len(seq)
    best = [1] * n
    prev = [-1] * n
    for i in range(n):
        for j in range(i):
            if seq[j] < seq[i] and best[j] + 1 > best[i]:
                best[i], prev[i] = best[j] + 1, j
    if not n:
        return set()
    i = max(range(n), key=lambda k: (best[k], -k))
    out = set()
    while i != -1:
        out.add(i)
        i = prev[i]
    return out


def _content_problems(parsed: ParsedSpec, m: Match) -> list[Problem]:
    section, h = m.section, parsed.headings[m.index]
    body = parsed.body_lines(m.index)
    lines = parsed.lines
    rules = section.rules
    out: list[Problem] = []
    has_content = any(lines[i].strip() for i in body)
    if rules.non_empty and not has_content:
        placeholder = section.placeholder or "TODO"
        edit = TextEdit(
            range=Range.of(
                h.end_line - 1,
                len(lines[h.end_line - 1]),
                h.end_line - 1,
                len(lines[h.end_line - 1]),
            ),
            new_text=f"\n\n{placeholder}"
            + ("\n" if h.end_line < len(lines) and lines[h.end_line].strip() else ""),
        )
        out.append(
            _problem(
                "HLS006",
                f"Section '{section.heading}' is empty",
                _heading_range(h),
                [
                    Fix(
                        title=f"Add a placeholder to '{section.heading}'",
                        edits=[edit],
                        preferred=True,
                    )
                ],
                section.id,
            )
        )
        return out
    out.extend(_placeholder_problem(section, lines, body))
    if rules.min_test_items:
        items = _count_test_items(parsed, body, rules.min_test_items)
        if items < rules.min_test_items:
            last = body.stop - 1
            while last > body.start and not lines[last].strip():
                last -= 1
            col = len(lines[last])
            fence = fence_open_at(parsed, last)
            prefix = f"\n{fence}\n" if fence else "\n"
            edit = TextEdit(
                range=Range.of(last, col, last, col),
                new_text=f"{prefix}\n{section.placeholder or '- `true`'}",
            )
            out.append(
                _problem(
                    "HLS007",
                    f"'{section.heading}' has no test: add a list item or a fenced command block",
                    _heading_range(h),
                    [
                        Fix(
                            title="Add an acceptance test item (then edit the command)",
                            edits=[edit],
                            preferred=True,
                        )
                    ],
                    section.id,
                )
            )
    return out


def _placeholder_problem(section, lines: list[str], body: range) -> list[Problem]:
    """The section still says what the template (or the empty-section fix) put there: `spec
    new` then `run` gave the agent "Describe the outcome this change must achieve." as its goal.
    Not for a placeholder that is a runnable test (`pytest -q` may well be the test)."""
    placeholder = section.placeholder.strip()
    if not placeholder or "`" in placeholder:
        return []
    filled = [i for i in body if lines[i].strip()]
    if "\n".join(lines[i].strip() for i in filled) != placeholder:
        return []
    first = lines[filled[0]]
    return [
        _problem(
            "HLS012",
            f"'{section.heading}' still holds the template's placeholder: write what this spec "
            "needs here",
            Range.of(
                filled[0], len(first) - len(first.lstrip()), filled[-1], len(lines[filled[-1]])
            ),
            section=section.id,
        )
    ]


def _count_test_items(parsed: ParsedSpec, body: range, enough: int) -> int:
    """Test items in `body`, counted up to `enough` (all the rule needs to know)."""
    fenced: set[int] = set()
    count = 0
    for f in parsed.fences:
        if f.line >= body.start and f.line < body.stop:
            fenced.update(range(f.line, f.end_line))
            if f.content.strip():
                count += 1
    for i in body:
        if count >= enough:
            break
        if i not in fenced and is_list_item(parsed.lines[i]):
            count += 1
    return count


def validate(
    text: str, schema: SpecSchema | None = None, parsed: ParsedSpec | None = None
) -> list[Problem]:
    """All problems of a spec, sorted by position. Never raises on any text. The fixes' text
    uses the spec's own line break, so a quick fix keeps a CRLF file CRLF."""
    problems = _validate(text, schema, parsed)
    eol = line_break_of(text)
    if eol != "\n":
        for problem in problems:
            for fix in problem.fixes:
                fix.edits = [with_line_break(e, eol) for e in fix.edits]
    return problems


def _validate(text: str, schema: SpecSchema | None, parsed: ParsedSpec | None) -> list[Problem]:
    schema = schema or builtin_schema()
    if "\0" in text:
        line = text[: text.index("\0")].count("\n")
        return [
            _problem(
                "HLS011",
                "The file contains NUL bytes: it looks binary, not a Markdown spec",
                Range.line(line),
            )
        ]
    parsed = parsed or parse_spec(text)
    if not text.strip():
        tmpl = render_template(schema=schema)
        end = len(parsed.lines) - 1
        edit = TextEdit(range=Range.of(0, 0, end, len(parsed.lines[end])), new_text=tmpl)
        return [
            _problem(
                "HLS010",
                "The spec is empty: it needs "
                + ", ".join(f"'{canonical_heading(s)}'" for s in schema.required),
                Range.line(0),
                [Fix(title="Insert the spec template", edits=[edit], preferred=True)],
            )
        ]
    present, duplicates = classify(parsed, schema)
    problems: list[Problem] = []
    for m in present.values():
        h = parsed.headings[m.index]
        if m.kind == "level":
            problems.append(
                _problem(
                    "HLS003",
                    f"'{h.text}' should be a level-{m.section.level} heading ('{canonical_heading(m.section)}'), found level {h.level}",
                    _heading_range(h),
                    [
                        fix_heading(
                            parsed, h, m.section, f"Change to '{canonical_heading(m.section)}'"
                        )
                    ],
                    m.section.id,
                )
            )
        elif m.kind == "near":
            problems.append(
                _problem(
                    "HLS005",
                    f"Heading '{h.text}' looks like '{m.section.heading}': use the exact heading '{canonical_heading(m.section)}'",
                    _heading_range(h),
                    [
                        fix_heading(
                            parsed, h, m.section, f"Rename to '{canonical_heading(m.section)}'"
                        )
                    ],
                    m.section.id,
                )
            )
    for d in duplicates:
        h = parsed.headings[d.index]
        edit = TextEdit(
            range=Range.of(h.line, 0, h.end_line, 0)
            if h.end_line < len(parsed.lines)
            else Range.of(h.line, 0, h.end_line - 1, len(parsed.lines[-1])),
            new_text="",
        )
        problems.append(
            _problem(
                "HLS002",
                f"Duplicate heading '{canonical_heading(d.section)}' (first on line {parsed.headings[present[d.section.id].index].line + 1})",
                _heading_range(h),
                [
                    Fix(
                        title="Remove the duplicate heading (its text joins the section above)",
                        edits=[edit],
                    )
                ],
                d.section.id,
            )
        )
    for section in schema.required:
        if section.id not in present:
            problems.append(_missing(parsed, schema, section, present))
    problems.extend(_order_problems(parsed, schema, present))
    for m in present.values():
        problems.extend(_content_problems(parsed, m))
    problems.extend(_preamble_and_unknown(parsed, schema, present))
    problems.sort(key=lambda p: (p.range.start.line, p.range.start.character, p.code))
    return problems


def _preamble_and_unknown(
    parsed: ParsedSpec, schema: SpecSchema, present: dict[str, Match]
) -> list[Problem]:
    out: list[Problem] = []
    first = parsed.headings[0].line if parsed.headings else len(parsed.lines)
    in_comment = False
    for i in range(first):
        stripped = parsed.lines[i].strip()
        if in_comment or stripped.startswith("<!--"):
            in_comment = "-->" not in stripped
            continue
        if stripped:
            out.append(
                _problem(
                    "HLS008",
                    "Text before the first heading is not part of any section",
                    Range.line(i, len(parsed.lines[i])),
                )
            )
            break
    if not schema.allow_unknown_sections:
        known = {m.index for m in present.values()}
        optional = {normalize(o.heading) for o in schema.optional_sections}
        for idx, h in enumerate(parsed.headings):
            if h.level == 1 and idx not in known and normalize(h.text) not in optional:
                out.append(_problem("HLS009", f"Unknown section '{h.text}'", _heading_range(h)))
    return out
