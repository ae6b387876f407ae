"""Numbers and tables that fit: significant figures with thousands separators, and rich tables sized to the
terminal by dropping their least important columns (and saying so) instead of cutting cells off.

A `Col` is a header (its lines: name, then unit), its cells as text, and how it may give way: a number column
never wraps; a text column wraps down to `min_width`; a column with `drop` > 0 is left out, highest first,
until the table fits `width`, and if it still does not, the last columns are left out whole. `table()`
returns the rich table and a note naming what was left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rich import box
from rich.markup import escape
from rich.table import Table

SIGNIFICANT = 4


def figure(value, significant: int = SIGNIFICANT) -> str:
    """A number for people: `significant` figures, thousands separators, whole numbers exact
    (1234567 -> '1,234,567'; 1234567.8 -> '1,235,000'; 0.176538 -> '0.1765'; 3.0 -> '3'; below 1e-4
    and from 1e9 in powers of ten: 1.5e-07, 7.055e+10)."""
    if value is None or value == "":
        return ""
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    if abs(v) >= 1e9 or abs(v) < 1e-4:
        mantissa, exponent = f"{v:.{significant - 1}e}".split("e")
        return mantissa.rstrip("0").rstrip(".") + "e" + exponent
    if v == round(v) and abs(v) >= 10 ** (significant - 1):
        return f"{v:,.0f}"
    digits = significant - 1 - math.floor(math.log10(abs(v)))
    rounded = round(v, digits)
    text = f"{rounded:,.{max(0, digits)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def figures(values, significant: int = SIGNIFICANT) -> str:
    """One or several values (an array), each as `figure`; one when they are all the same."""
    flat = [float(v) for v in getattr(values, "ravel", lambda: [values])()]
    if len(set(flat)) == 1:
        flat = flat[:1]
    return ", ".join(figure(v, significant) for v in flat)


@dataclass
class Col:
    header: str  # lines joined by "\n": the name, then the unit
    cells: list[str]
    justify: str = "right"
    wrap: bool = False  # a text column: folds down to min_width
    min_width: int = 12
    drop: int = 0  # 0: always shown; otherwise left out when the table does not fit, highest first
    style: str | None = None
    name: str = field(default="")  # how the note names it when left out

    def width(self) -> int:
        natural = max([*(len(line) for line in self.header.split("\n")), *map(len, self.cells)])
        return min(natural, self.min_width) if self.wrap else natural


def header(name: str, unit: str = "") -> str:
    return f"{name}\n{unit}" if unit else name


def needed(cols: list[Col]) -> int:
    """Columns of text the table takes: each column plus 3 for its padding and rule, plus the last rule."""
    return sum(c.width() + 3 for c in cols) + 1


def table(title: str, cols: list[Col], width: int, sections: list[int] = (), hint: str = "") -> list:
    """[a rich Table of `cols` fitting `width`, and a line naming the columns left out (with `hint`)]."""
    shown = list(cols)
    for level in sorted({c.drop for c in cols if c.drop}, reverse=True):
        if needed(shown) <= width:
            break
        shown = [c for c in shown if c.drop != level]
    while needed(shown) > width and len(shown) > 1:  # still too wide: the last columns go whole, never cut off
        shown.pop()
    out = Table(title=escape(title) if title else None, title_justify="left", box=box.SIMPLE_HEAVY, show_edge=False)
    for c in shown:
        if c.wrap:
            out.add_column(escape(c.header), justify=c.justify, overflow="fold", min_width=min(c.width(), 8),
                           style=c.style)  # fmt: skip
        else:
            out.add_column(escape(c.header), justify=c.justify, no_wrap=True, min_width=c.width(), style=c.style)
    rows = len(cols[0].cells) if cols else 0
    for i in range(rows):
        out.add_row(*(escape(c.cells[i]) for c in shown), end_section=i + 1 in sections)
    left_out = [c.name or c.header.split("\n")[0] for c in cols if c not in shown]
    lines: list = [out]
    if left_out:
        lines.append(f"[dim]not shown at {width} columns: {escape(', '.join(left_out))}"
                     + (f" ({escape(hint)})" if hint else " (a wider terminal shows them)") + "[/dim]")  # fmt: skip
    return lines
