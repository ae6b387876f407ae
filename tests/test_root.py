"""One rule finds the methodology tree for every command (engine.tree.locate): --root, then $IMPACT_ROOT, then a
tree in the current directory, then the shipped one; a tree found by itself is named on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import REPO
from impact.cli import main
from impact.engine.tree import SHIPPED_ROOT, Tree, locate

SCENARIO = "scenarios/chatbot-llama70b-h100.yaml"
# every command that reads a tree, with arguments that succeed on the shipped one
COMMANDS = [
    ["run", SCENARIO, "--format", "json"],
    ["check"],
    ["explain", SCENARIO, "E"],
    ["compare", SCENARIO, "--format", "json"],
    ["diff", str(REPO)],
    ["batch", "scenarios/logs/requests-sample.csv", "--scenario", SCENARIO],
    ["memory", "llama-3.1-8b"],
    ["validate", "--methodology", "scope3"],  # the tree it reads is the point; serving's held-out refits take 45 s
    ["calibrate", "--dry-run"],
    ["catalog", "list", "accelerators"],
    ["catalog", "show", "accelerators", "h100-sxm"],
    ["methodologies"],
    ["estimate-params", "--provider", "openai", "--price-in", "2.5"],
]


def checked(command, result) -> bool:
    """impact check may find problems in the tree it checked (here: golden drift in the shipped tree): what
    matters is which tree it checked, and that it reported rather than crashed."""
    return command[0] == "check" and result.exit_code == 1 and "impact check failed" in result.stdout


def mark(tree_copy):
    """A methodology only this copy has, so that which tree a command used shows in its output."""
    text = (tree_copy / "formulas" / "memory.yaml").read_text().replace("methodology: memory", "methodology: mine")
    (tree_copy / "formulas" / "mine.yaml").write_text(text.replace("default: true", "default: false"))


def test_the_order_of_the_rule(tree_copy, tmp_path, monkeypatch):
    monkeypatch.delenv("IMPACT_ROOT", raising=False)
    assert locate(None) == (tree_copy, "the current directory")  # tree_copy is the working directory
    assert locate("elsewhere") == (Path("elsewhere"), "--root")
    monkeypatch.setenv("IMPACT_ROOT", str(REPO))
    assert locate(None) == (REPO, "$IMPACT_ROOT")
    assert locate(str(tree_copy))[1] == "--root"
    monkeypatch.delenv("IMPACT_ROOT")
    monkeypatch.chdir(tmp_path / "formulas")  # not a tree: no catalogs/ beside it
    assert locate(None) == (SHIPPED_ROOT, "shipped")
    assert Tree().root == SHIPPED_ROOT


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_every_command_uses_and_names_the_tree_of_the_current_directory(runner, tree_copy, monkeypatch, command):
    monkeypatch.delenv("IMPACT_ROOT", raising=False)
    result = runner.invoke(main, command)
    assert result.exit_code == 0 or checked(command, result), result.stderr
    assert result.stderr.startswith(f"impact: using the methodology tree {tree_copy} (from the current directory)\n")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_every_command_uses_and_names_impact_root(runner, tree_copy, tmp_path, monkeypatch, command):
    monkeypatch.setenv("IMPACT_ROOT", str(tree_copy))
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    command = [str(tree_copy / c) if c.startswith("scenarios/") else c for c in command]
    result = runner.invoke(main, command)
    assert result.exit_code == 0 or checked(command, result), result.stderr
    assert result.stderr.startswith(f"impact: using the methodology tree {tree_copy} (from $IMPACT_ROOT)\n")


def test_check_in_a_users_tree_checks_that_tree(runner, tree_copy, monkeypatch):
    """It used to check the shipped tree silently: 3 methodologies where the user's tree had 4."""
    monkeypatch.delenv("IMPACT_ROOT", raising=False)
    mark(tree_copy)
    result = runner.invoke(main, ["check", "--format", "json"])
    shipped = json.loads(runner.invoke(main, ["check", "--root", str(REPO), "--format", "json"]).stdout)
    assert json.loads(result.stdout)["checked"]["methodology"] == shipped["checked"]["methodology"] + 1
    assert json.loads(result.stdout)["root"] == "."
    listed = runner.invoke(main, ["methodologies"]).stdout
    assert "mine 1.0.0" in listed


def test_root_wins_over_the_environment_and_the_current_directory(runner, tree_copy, monkeypatch):
    mark(tree_copy)
    monkeypatch.setenv("IMPACT_ROOT", str(REPO))
    result = runner.invoke(main, ["methodologies", "--root", str(tree_copy)])
    assert "mine 1.0.0" in result.stdout
    assert result.stderr == ""  # named on the command line: nothing to announce
    result = runner.invoke(main, ["methodologies"])  # $IMPACT_ROOT before the current directory
    assert "mine" not in result.stdout
    assert result.stderr == ""  # and $IMPACT_ROOT names the shipped tree itself


def test_the_shipped_tree_is_not_announced(runner, monkeypatch):
    monkeypatch.delenv("IMPACT_ROOT", raising=False)
    monkeypatch.chdir(REPO)  # a clone of this repository is the shipped tree itself
    result = runner.invoke(main, ["methodologies"])
    assert result.exit_code == 0 and result.stderr == ""


def test_a_bad_impact_root_is_one_line(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("IMPACT_ROOT", str(tmp_path / "nope"))
    result = runner.invoke(main, ["methodologies"])
    assert result.exit_code == 1
    nope = tmp_path / "nope"
    expected = f"IMPACT_ROOT={nope}: {nope} is not a directory; expected a folder holding formulas/ and catalogs/"
    assert result.stderr.splitlines()[-1] == expected
