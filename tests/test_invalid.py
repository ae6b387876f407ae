"""Every case in tests/fixtures/invalid/ gives its exact message, exit status 1, no traceback, no output.

A case is a folder: `scenario.yaml` (else the shipped chatbot scenario is run), optional `args` (extra
command-line arguments, one per line), optional `formulas/` (with `formulas/optimizations/`) and `catalogs/`
files laid over a copy of the shipped tree, and `expected.txt`, the exact text on stderr. A case with a
request log (`log.csv`, `log.jsonl`, ...) runs `impact batch LOG --scenario SCENARIO` instead of `impact run`.
Adding a case needs no code.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from impact.cli import main

CASES = Path(__file__).parent / "fixtures" / "invalid"
NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())


def test_there_are_at_least_25_cases():
    assert len(NAMES) >= 25


@pytest.mark.parametrize("name", NAMES)
def test_invalid_input_gives_its_exact_message(name, tree_copy, runner):
    case = CASES / name
    for part in ("formulas", "catalogs"):
        if (case / part).is_dir():
            shutil.copytree(case / part, tree_copy / part, dirs_exist_ok=True)
    scenario = "scenarios/chatbot-llama70b-h100.yaml"
    if (case / "scenario.yaml").exists():
        shutil.copy(case / "scenario.yaml", tree_copy / "scenario.yaml")
        scenario = "scenario.yaml"
    args = (case / "args").read_text().split("\n") if (case / "args").exists() else []
    command = ["run", scenario]
    log = next(iter(sorted(case.glob("log.*"))), None)
    if log is not None:
        shutil.copy(log, tree_copy / log.name)
        command = ["batch", log.name, "--scenario", scenario]
    result = runner.invoke(main, [*command, "--root", str(tree_copy), *[a for a in args if a]])
    assert isinstance(result.exception, SystemExit), result.exception  # handled, not a crash
    assert result.exit_code == 1
    assert result.stdout == ""  # nothing half-written
    assert "Traceback" not in result.stderr
    assert result.stderr == (case / "expected.txt").read_text()
