"""Render a `Diff` (engine/diff.py) as plain text, Markdown for a pull-request comment, or JSON.

Each rendering has the same three parts: a summary line (how many results changed, the largest change);
the changed results, largest relative change first, with old and new value, unit and the numbers of the
differences that move them; and "why": each difference between the trees (formula, input, constant,
catalog value, calibration coefficient, data table, scenario field, selected entry) with old -> new,
file:line in HEAD, and the results it moves. With a `--fail-above` threshold, a last line says whether
any change exceeds it. Nothing here imports rich or click.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from .render.markdown import table as markdown_table

MOVES_SHOWN = 12  # results named per difference; the rest are counted
ROWS_SHOWN = 100  # result rows in Markdown (a pull-request comment has a size limit); JSON has them all


def percent(change: float | None) -> str:
    if change is None:
        return "n/a"
    if math.isinf(change):
        return "from 0"
    value = change * 100
    return f"{value:+.2f}%" if abs(value) >= 0.01 else f"{value:+.2e}%"


def shown(value) -> str:
    """A value of a difference for people: numbers with six digits, mappings and lists compact."""
    if value is None:
        return "(absent)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        text = json.dumps(value, default=str)
        return text if len(text) <= 60 else text[:57] + "..."
    return str(value)


def summary(diff) -> str:
    sides = f"{diff.base.label} -> {diff.head.label}"
    if not diff.results:
        text = f"{sides}: no result changed ({diff.compared} results of {diff.scenarios} scenarios compared)"
    else:
        moved = len({r.scenario for r in diff.results})
        top = diff.results[0]
        text = (f"{sides}: {len(diff.results)} of {diff.compared} results changed in {moved} of {diff.scenarios} "
                f"scenarios; largest {percent(top.change)} ({top.label})")  # fmt: skip
    count = len(diff.changes)
    return text + f"; {count} difference{'' if count == 1 else 's'} between the trees"


def result_rows(diff) -> list[dict]:
    rows = []
    for r in diff.results:
        unit = r.unit if r.unit == r.old_unit else f"{r.old_unit} -> {r.unit}"
        change = percent(r.change) if r.status == "changed" else f"{percent(r.change)} ({r.status})"
        rows.append({"scenario": Path(r.scenario).stem, "result": f"{r.methodology}.{r.result}"
                     + (f"[{r.index}]" if r.size > 1 else ""), "old": f"{r.old:.6g}", "new": f"{r.new:.6g}",
                     "unit": unit, "change": change, "why": ", ".join(map(str, r.why)) or "?"})  # fmt: skip
    return rows


def moved(change) -> str:
    """The results a difference moves, grouped by scenario."""
    if not change.moves:
        return "moves no result"
    by_scenario: dict[str, list[str]] = {}
    for r in change.moves[:MOVES_SHOWN]:
        by_scenario.setdefault(Path(r.scenario).stem, []).append(f"{r.methodology}.{r.result}")
    text = "; ".join(f"{s}: {', '.join(names)}" for s, names in by_scenario.items())
    more = len(change.moves) - MOVES_SHOWN
    return f"moves {len(change.moves)}: {text}" + (f"; and {more} more" if more > 0 else "")


def notes(diff) -> list[str]:
    """Scenarios and results found in one tree only, and scenarios that fail."""
    lines = [f"added: {item}" for item in diff.added] + [f"removed: {item}" for item in diff.removed]
    for _scenario, role, message in diff.failed:
        label = diff.base.label if role == "BASE" else diff.head.label
        lines.append(f"fails under {role} ({label}): " + message.replace("\n  hint: ", "; hint: "))
    if diff.results and any(not r.why for r in diff.results):
        lines.append("?: no difference between the trees explains this change (the engine itself may differ)")
    return lines


def verdict(diff, fail_above: float | None) -> str | None:
    """With --fail-above: what exceeds it, or that nothing does."""
    if fail_above is None:
        return None
    above = diff.exceeding(fail_above)
    if not above:
        return f"ok: no result changed by more than {fail_above:g}% (--fail-above)"
    results = [r for r in above if not isinstance(r, tuple)]
    moved = sum(1 for r in results if r.change is not None)
    parts = [f"{moved} result{'' if moved == 1 else 's'} changed by more than {fail_above:g}%"] if moved else []
    parts += [f"{len(results) - moved} cannot be compared"] if len(results) > moved else []
    parts += [f"{len(above) - len(results)} scenario(s) fail under HEAD"] if len(above) > len(results) else []
    return "FAIL (--fail-above): " + ", ".join(parts)


def why_lines(diff, bullet: str, code: str = "") -> list[str]:
    """Each difference with old -> new and where: those that move results with the results, then the rest."""
    lines = []
    for c in diff.changes:
        text = f"{c.kind} {code}{c.what}{code}: {shown(c.old)} -> {shown(c.new)} ({code}{c.where}{code})"
        lines.append(f"{bullet.format(c.id)}{text}" + (f"; {moved(c)}" if c.moves else ""))
    return lines


def to_text(diff, fail_above: float | None = None) -> str:
    lines = [summary(diff)]
    rows = result_rows(diff)
    if rows:
        columns = list(rows[0])
        widths = {c: max(len(c), *(len(row[c]) for row in rows)) for c in columns}
        right = {"old", "new", "change"}
        lines.append("")
        for row in [dict(zip(columns, columns, strict=True)), *rows]:
            cells = [row[c].rjust(widths[c]) if c in right else row[c].ljust(widths[c]) for c in columns]
            lines.append("  ".join(cells).rstrip())
    if notes(diff):
        lines += ["", *notes(diff)]
    if diff.changes:
        lines += ["", "why:", *why_lines(diff, "[{}] ")]
    end = verdict(diff, fail_above)
    lines += ["", end] if end else []
    return "\n".join(lines) + "\n"


def to_markdown(diff, fail_above: float | None = None) -> str:
    rows = result_rows(diff)
    for row in rows:
        row["result"] = f"`{row['result']}`"
    parts = [f"### impact diff `{diff.base.label}` → `{diff.head.label}`", "", summary(diff)]
    if rows:
        parts += ["", markdown_table(rows[:ROWS_SHOWN], list(rows[0]))]
        if len(rows) > ROWS_SHOWN:
            parts += ["", f"... and {len(rows) - ROWS_SHOWN} more (`impact diff --format json` lists them all)"]
    if notes(diff):
        parts += ["", *(f"- {line}" for line in notes(diff))]
    if diff.changes:
        parts += ["", "#### Why", "", *why_lines(diff, "{}. ", "`")]
    end = verdict(diff, fail_above)
    parts += ["", f"**{end}**"] if end else []
    return "\n".join(parts) + "\n"


def to_json(diff, fail_above: float | None = None) -> str:
    data = diff.to_dict()
    if fail_above is not None:
        data["fail_above"] = fail_above
        data["exceeded"] = bool(diff.exceeding(fail_above))
    return json.dumps(data, indent=2, default=str) + "\n"
