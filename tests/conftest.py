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


def add_to_entry(path: Path, entry: str, fields: dict[str, str], sources: dict[str, str] | None = None) -> None:
    """Add YAML `fields` (key -> YAML text of the value) to one entry of a catalog file, and `sources` to its
    field_sources, by text: the entry's lines start with four spaces, as the shipped catalogs write them."""
    lines = path.read_text().splitlines(keepends=True)
    start = lines.index(f"  {entry}:\n")
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("    ")), len(lines))
    body = lines[start + 1 : end]
    at = next((i for i, line in enumerate(body) if line == "    field_sources:\n"), None)
    if sources:
        added = [f"      {k}: {v}\n" for k, v in sources.items()]
        body = body[: at + 1] + added + body[at + 1 :] if at is not None else body + ["    field_sources:\n", *added]
    body = [f"    {k}: {v}\n" for k, v in fields.items()] + body
    path.write_text("".join(lines[: start + 1] + body + lines[end:]))
