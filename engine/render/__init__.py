"""Rendering: the plain rows of `engine.report` made into text for people and files, one module per format.

Each text format (`json`, `csv`, `markdown`, ...) is a module with one function per kind of data it can show:
`runs`, `comparison`, `batch`, `memory`, `validation` (the standards' shapes `ghg`, `sci` and `esrs`: `runs`
only); `text(fmt, kind, data)` picks them, so a new format is
one new module. Options a format's function does not name are not passed to it (JSON takes `explain`, the
terminal `width`; CSV neither). `terminal` builds rich renderables that the command line prints. Nothing here computes
results, reads files or prints.
"""

from __future__ import annotations

import importlib
import inspect

TEXT_FORMATS = ("json", "csv", "markdown", "ghg", "sci", "esrs")
STANDARDS = ("ghg", "sci", "esrs")  # the standards' shapes, for runs only (engine.standards)


def text(fmt: str, kind: str, data, **options) -> str:
    """`data` (runs, a comparison, a batch summary...) of `kind` as text in format `fmt`."""
    return call(getattr(importlib.import_module(f"{__name__}.{fmt}"), kind), data, **options)


def call(function, data, **options):
    """`function(data, **options)` with only the options it names."""
    taken = inspect.signature(function).parameters
    return function(data, **{k: v for k, v in options.items() if k in taken})
