"""A pytest plugin (pyproject's addopts): the repository root is the `impact` package, so pytest would collect
it as a Python package named after its folder, and fail in a clone whose folder is not a Python name
(`impact-main`). The root is collected as a plain directory instead; the tests import the installed `impact`."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_collect_directory(path, parent):
    if path.resolve() == ROOT:
        return pytest.Dir.from_parent(parent, path=path)
    return None
