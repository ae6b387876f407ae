"""Every run checks the units and bindings of the methodologies it uses (engine.verify), as impact check does,
and remembers a pass by the tree's content so that it costs nothing the next time."""

from __future__ import annotations

import json
import os

import pytest

from impact.cli import main
from impact.engine import ImpactError, cache, open_tree, run, units, verify

SCENARIO = "scenarios/chatbot-llama70b-h100.yaml"
TYPO = """kind: formulas
schema_version: 1
methodology: bad
version: "1.0.0"
description: A binding that names a field the regions schema does not define.
inputs:
  PUE: {unit: "", description: Facility overhead., from: region.pu}
  E: {unit: Wh, description: Energy., default: 1}
headline: {energy: overhead}
formulas:
  overhead: {expr: E * (PUE - 1), unit: Wh, description: Energy above IT energy.}
"""
TYPO_MESSAGE = (
    "formulas/bad.yaml:7:58: $.inputs.PUE.from: input 'PUE' reads region.pu: the regions catalog has no field 'pu'; "
    "expected a field of schemas/catalog-regions.v1.json\n  hint: did you mean 'pue'?\n"
)


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("IMPACT_CACHE_DIR", str(folder))
    return folder


def counting(monkeypatch) -> list:
    """Count the calls of the (slow) unit check, which a cached verdict skips."""
    calls = []
    real = units.check_units

    def check_units(method):
        calls.append(method.name)
        return real(method)

    monkeypatch.setattr(units, "check_units", check_units)
    return calls


def test_a_pass_is_cached_by_the_trees_content(tree_copy, own_cache, monkeypatch):
    calls = counting(monkeypatch)
    names = sorted(r.methodology for r in run(SCENARIO, root=tree_copy))
    assert "scope3" in names and sorted(calls) == names  # the scenario's methodologies, checked once each
    key = verify.content_key(open_tree(tree_copy))
    assert cache.read_verdict(key)["verified"] == names
    run(SCENARIO, root=tree_copy)
    assert len(calls) == len(names)  # the second run reads the verdict
    run(SCENARIO, root=tree_copy, methodologies=["scope3"], optimizations=["speculative-decoding"])
    assert calls[len(names) :] == ["scope3"]  # a new variant is checked, and added to the verdict
    assert cache.read_verdict(key)["verified"] == sorted([*names, "scope3+speculative-decoding"])


def test_a_changed_formula_is_checked_again_although_a_verdict_exists(tree_copy, own_cache):
    run(SCENARIO, root=tree_copy)
    path = tree_copy / "formulas" / "scope3.yaml"
    text = path.read_text()
    line = text[: text.index("expr: t_hat * P_server / s_per_h")].count("\n") + 1
    path.write_text(text.replace("expr: t_hat * P_server / s_per_h", "expr: t_hat * P_server"))
    with pytest.raises(ImpactError) as caught:
        run(SCENARIO, root=tree_copy, methodologies=["scope3"])
    assert caught.value.render().startswith(f"formulas/scope3.yaml:{line}:11: $.formulas.E.expr: formula 'E' is off "
                                            "by a factor of 0.000277778")  # 1 / 3600: W s is not Wh  # fmt: skip


@pytest.mark.parametrize("poison", ["wrong key", "not an object", "a link", "a FIFO", "huge"])
def test_a_verdict_that_does_not_read_back_is_ignored(tree_copy, own_cache, monkeypatch, poison):
    key = verify.content_key(open_tree(tree_copy))
    own_cache.mkdir()
    target = own_cache / f"verdict-{key}.json"
    good = json.dumps({"verified": ["scope3", "memory"], "key": key})
    if poison == "wrong key":
        target.write_text(json.dumps({"verified": ["scope3", "memory"], "key": "0" * 64}))
    elif poison == "not an object":
        target.write_text(json.dumps(["scope3", "memory"]))
    elif poison == "a link":
        (own_cache / "elsewhere.json").write_text(good)
        target.symlink_to(own_cache / "elsewhere.json")
    elif poison == "a FIFO":
        os.mkfifo(target)  # reading it would block: it is never opened for a blocking read
    else:
        target.write_text(good[:-1] + ", " + '"x": "' + "x" * 70000 + '"}')
    calls = counting(monkeypatch)
    runs = run(SCENARIO, root=tree_copy)
    assert sorted(calls) == sorted(r.methodology for r in runs)  # checked, as without a verdict


def test_without_the_cache_every_run_checks(tree_copy, monkeypatch):
    monkeypatch.setenv("IMPACT_CACHE", "off")
    calls = counting(monkeypatch)
    runs = run(SCENARIO, root=tree_copy)
    run(SCENARIO, root=tree_copy)
    assert len(calls) == 2 * len(runs)


@pytest.mark.parametrize("command", [
    ["run", SCENARIO, "--methodology", "bad"],
    ["compare", SCENARIO, "--methodology", "bad"],
    ["explain", SCENARIO, "overhead", "--methodology", "bad"],
    ["batch", "scenarios/logs/requests-sample.csv", "--scenario", SCENARIO, "--methodology", "bad"],
])  # fmt: skip
def test_a_binding_typo_stops_every_command_that_evaluates(runner, tree_copy, command):
    (tree_copy / "formulas" / "bad.yaml").write_text(TYPO)
    result = runner.invoke(main, [*command, "--root", str(tree_copy)])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == TYPO_MESSAGE  # the field and the close one, not a "missing data" warning


def test_a_literal_zero_has_every_dimension():
    """`where(n > 0, E / n, 0)` and `maximum(0, x)` are dimensionally right: a bare 0 takes the other side's
    dimension (a run now refuses what check_units refuses, so this must not be a false alarm)."""
    from impact.engine.loader import load_text
    from impact.engine.methodology import parse

    text = """kind: formulas
schema_version: 1
methodology: z
version: "1"
description: Zeros.
inputs:
  E: {unit: Wh, description: Energy., default: 1}
  n: {unit: token, description: Tokens., default: 1}
formulas:
  per: {expr: "where(n > 0, E / n * 1000, 0)", unit: Wh, description: Per 1k tokens.}
  low: {expr: "maximum(0, E)", unit: Wh, description: Clipped.}
  bad: {expr: "where(n > 0, E, n)", unit: Wh, description: Tokens are not energy.}
"""
    found = units.check_units(parse(load_text(text, "z.yaml"), "z.yaml"))
    assert [p.message for p in found] == [
        "formula 'bad': it chooses between energy (Wh) and a pure number, which have different dimensions"
    ]
