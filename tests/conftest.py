"""Shared fixtures: the shipped tree, a CLI runner, and the --update-golden flag."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
TREE_PARTS = ("formulas", "catalogs", "schemas", "scenarios")
# the cache of validated files (engine.cache) goes to a folder of this test session, not the user's ~/.cache
os.environ["IMPACT_CACHE_DIR"] = tempfile.mkdtemp(prefix="impact-test-cache-")


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/*.json from the current outputs (review the diff!)",
    )


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


@pytest.fixture(scope="session")
def tree():
    from impact.engine import open_tree

    return open_tree(REPO)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def tree_copy(tmp_path, monkeypatch) -> Path:
    """A writable copy of the shipped methodology tree; the working directory is set to it."""
    for part in TREE_PARTS:
        shutil.copytree(REPO / part, tmp_path / part)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("IMPACT_ROOT", raising=False)
    return tmp_path
