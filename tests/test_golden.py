"""Golden outputs: every shipped scenario's JSON matches tests/golden/<scenario>.json.

Numbers compare with a relative tolerance of 1e-9 (not exact match: a harmless reordering of floating-point
operations must not fail the suite); text (units, sources, warnings) compares exactly. After a deliberate
change run `pytest tests/test_golden.py --update-golden` and review the diff of tests/golden/.
"""

from __future__ import annotations

import json
import math

import pytest

from conftest import REPO
from impact.engine import report, run

SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))
GOLDEN = REPO / "tests" / "golden"
REL = 1e-9


def results_only(document: dict) -> dict:
    """The document without each run's provenance stamp: golden files compare what was computed; the hashes
    of the files it was computed from change with every catalog edit and are tested on their own."""
    return {"runs": [{k: v for k, v in run.items() if k != "provenance"} for run in document["runs"]]}


def differences(expected, actual, path="$"):
    """Every place where two JSON documents differ beyond the tolerance, as 'path: expected != actual'."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = [f"{path}.{k}: missing" for k in expected if k not in actual]
        out += [f"{path}.{k}: unexpected" for k in actual if k not in expected]
        for key in expected.keys() & actual.keys():
            out += differences(expected[key], actual[key], f"{path}.{key}")
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        pairs = enumerate(zip(expected, actual, strict=True))
        return [d for i, (e, a) in pairs for d in differences(e, a, f"{path}[{i}]")]
    if (
        isinstance(expected, (int, float))
        and isinstance(actual, (int, float))
        and not isinstance(expected, bool)
        and not isinstance(actual, bool)
    ):
        return [] if math.isclose(expected, actual, rel_tol=REL, abs_tol=0) else [f"{path}: {expected} != {actual}"]
    return [] if expected == actual else [f"{path}: {expected!r} != {actual!r}"]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_matches_its_golden_output(scenario, tree, monkeypatch, update_golden):
    monkeypatch.chdir(REPO)  # sources name files relative to the repository, as a user running from it sees
    actual = results_only(report.document(run(scenario.relative_to(REPO), tree=tree)))
    golden = GOLDEN / f"{scenario.stem}.json"
    if update_golden:
        golden.write_text(json.dumps(actual, indent=2) + "\n")
    assert golden.exists(), f"no golden output for {scenario.name}: run pytest --update-golden and review it"
    assert differences(json.loads(golden.read_text()), actual) == []


def test_every_golden_file_has_a_scenario():
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == [p.stem for p in SCENARIOS]


def test_the_comparison_tolerates_rounding_but_not_change():
    assert differences({"a": 1.0}, {"a": 1.0 + 1e-13}) == []
    assert differences({"a": 1.0}, {"a": 1.0001}) == ["$.a: 1.0 != 1.0001"]
    assert differences({"a": "W"}, {"a": "kW"}) == ["$.a: 'W' != 'kW'"]
    assert differences({"a": 1}, {}) == ["$.a: missing"]
