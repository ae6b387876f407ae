"""impact check: the shipped tree passes; each planted fault is caught with its file, line and reason.

Faults are planted in a copy of the shipped tree (conftest's tree_copy) trimmed to two scenarios to keep the
runs fast; the check runs in-process through Click's CliRunner. Lines are found in the planted file itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO
from impact.cli import main
from impact.engine import open_tree
from impact.engine.api import Result
from impact.engine.check import check, render
from impact.engine.loader import load_text

GITHUB = re.compile(r"^::(error|warning|notice) (file=[^,:]+,line=\d+,col=\d+,)?title=impact check \(\w+\)::\S.*$")
KEPT = ("chatbot-llama70b-h100", "lumi-34b-mi250x")


def line_of(path: Path, text: str, after: str | None = None) -> int:
    """The 1-based number of the first line of `path` containing `text` (after the first containing `after`)."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines) if i >= start and text in line) + 1


def replace(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, count))


@pytest.fixture
def small(tree_copy) -> Path:
    """The shipped tree with two scenarios (and their goldens), without the large benchmark tables."""
    for path in [*tree_copy.glob("scenarios/*.yaml"), *tree_copy.glob("scenarios/golden/*.json")]:
        if path.stem not in KEPT:
            path.unlink()
    for name in ("trtllm-throughput", "mlenergy"):  # no scenario reads them; validating them takes a second
        (tree_copy / "catalogs" / "benchmarks" / f"{name}.yaml").unlink()
    return tree_copy


def impact_check(runner, root: Path, *args) -> tuple[int, list[str]]:
    result = runner.invoke(main, ["check", "--root", str(root), *args])
    assert isinstance(result.exception, (SystemExit, type(None))), result.exception  # handled, not a crash
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout.splitlines()


def test_the_shipped_tree_passes(runner, monkeypatch):
    monkeypatch.chdir(REPO)
    code, lines = impact_check(runner, REPO)
    assert code == 0, "\n".join(lines)
    assert lines[-1].startswith("impact check passed: 0 errors, 0 warnings (")
    scenarios, goldens = (re.search(rf"(\d+) {what}", lines[-1])[1] for what in ("scenarios", "goldens"))
    assert scenarios == goldens and int(scenarios) >= 6  # every shipped scenario has its golden


def test_every_format_renders_the_shipped_tree(monkeypatch):
    monkeypatch.chdir(REPO)
    report = check(open_tree(REPO))
    assert report.ok and not report.of("warning")
    notes = len(report.of("note"))
    assert notes >= 4  # the shipped expectations met
    document = json.loads(render(report, "json"))
    assert document["ok"] is True and document["errors"] == 0 and document["findings"] == []
    assert len(json.loads(render(report, "json", verbose=True))["findings"]) == notes
    assert render(report, "markdown").startswith("### impact check: passed\n")
    github = render(report, "github", verbose=True).splitlines()
    assert all(GITHUB.match(line) for line in github[:-1]), github
    assert any(x.startswith("::notice file=scenarios/chatbot-llama70b-h100.yaml,line=") for x in github)
    assert github[-1].startswith("impact check passed")
    assert render(report, "text").splitlines() == [github[-1]]


def test_a_unit_slip_in_a_formula(small, runner):
    path = small / "formulas" / "scope3.yaml"
    replace(path, "    expr: PUE * E\n", "    expr: PUE * E + P_server\n")  # adds W to Wh
    code, lines = impact_check(runner, small)
    assert code == 1
    line = line_of(path, "expr: PUE * E + P_server")
    assert (f"formulas/scope3.yaml:{line}:11: $.formulas.E_facility.expr: formula 'E_facility': it adds energy (Wh) "
            "and power (W), which have different dimensions; expected operands of one dimension") in lines  # fmt: skip


def test_a_catalog_field_in_kg_read_as_g(small, runner):
    path = small / "formulas" / "scope3.yaml"
    replace(path, "    unit: kgCO2e\n    description: Embodied emissions of one accelerator",
            "    unit: gCO2e\n    description: Embodied emissions of one accelerator")  # fmt: skip
    code, lines = impact_check(runner, small)
    assert code == 1
    line = line_of(path, "from: accelerator.embodied_kgco2e")
    assert (f"formulas/scope3.yaml:{line}:11: $.inputs.gpu_embodied.from: input 'gpu_embodied' in 'gCO2e' "
            "([carbon]) reads accelerator.embodied_kgco2e, declared in 'kgCO2e' ([carbon]), with scale 1; "
            "converting 'kgCO2e' to 'gCO2e' needs 1000; expected scale: 1000") in lines  # fmt: skip


def test_a_wrong_scale_points_at_the_scale(small, runner):
    path = small / "formulas" / "scope3.yaml"
    replace(path, "active_params_b\n    scale: 1.0e9\n", "active_params_b\n    scale: 1.0e6\n")
    code, lines = impact_check(runner, small)
    line = line_of(path, "scale: 1.0e6")
    assert code == 1
    assert (f"formulas/scope3.yaml:{line}:12: $.inputs.P_m.scale: input 'P_m' in 'parameter' (dimensionless) reads "
            "model.active_params_b, declared in 'Gparameter' (dimensionless), with scale 1e+06; converting "
            "'Gparameter' to 'parameter' needs 1e+09; expected scale: 1e+09") in lines  # fmt: skip


def test_a_renamed_input(small, runner):
    path = small / "formulas" / "scope3.yaml"
    replace(path, "  n_in:\n", "  n_input:\n")
    code, lines = impact_check(runner, small)
    assert code == 1
    line = line_of(path, "expr: n_in - n_cached")
    where = f"formulas/scope3.yaml:{line}:11: $.formulas.n_prefill.expr"
    assert f"{where}: 'n_in' is not defined; expected an input, constant or formula of methodology 'scope3'" in lines
    assert lines[lines.index(f"{where}: 'n_in' is not defined; expected an input, constant or formula of "
                                 "methodology 'scope3'") + 1].startswith("  hint: did you mean")  # fmt: skip
    assert any(line.endswith("warning: scenarios not evaluated: the catalogs or formulas above do not load; "
                             "expected a tree that loads, so that each scenario runs") for line in lines)  # fmt: skip


def test_a_changed_coefficient_drifts_beyond_the_golden_tolerance(small, runner):
    replace(small / "catalogs" / "regions.yaml", "    pue: 1.15\n", "    pue: 1.2\n", count=-1)  # aws-us-east-1
    golden = small / "scenarios" / "golden" / "chatbot-llama70b-h100.json"
    old = json.loads(golden.read_text())["methodologies"]["scope3"]["results"]["E_facility"]["value"]
    code, lines = impact_check(runner, small)
    assert code == 1
    line = line_of(golden, '"E_facility"', after='"scope3"')
    found = [x for x in lines if x.startswith(f"scenarios/golden/chatbot-llama70b-h100.json:{line}:9: ")]
    assert found == [
        f"scenarios/golden/chatbot-llama70b-h100.json:{line}:9: $.methodologies.scope3.results.E_facility: "
        f"scope3.E_facility drifted: golden {old:.10g} Wh, now {old / 1.15 * 1.2:.10g} Wh, a change of +4.35%; "
        "expected a change within rel 1e-06 (tolerance 'default'); or impact check --update-golden, then review "
        "the diff"
    ]


def test_a_drift_within_its_tolerance_passes_with_a_note(small, runner):
    golden = small / "scenarios" / "golden" / "chatbot-llama70b-h100.json"
    data = json.loads(golden.read_text())
    energy = data["methodologies"]["scope3"]["results"]["E"]
    energy["value"] *= 1.001
    data["tolerance"]["scope3.E"] = {"rel": 0.01}
    golden.write_text(json.dumps(data, indent=1))
    code, lines = impact_check(runner, small, "--verbose")
    assert code == 0, "\n".join(lines)
    line = line_of(golden, '"E"', after='"scope3"')
    assert (f"scenarios/golden/chatbot-llama70b-h100.json:{line}:5: $.methodologies.scope3.results.E: note: "
            "scope3.E moved by -0.0999%, within rel 0.01 (tolerance 'scope3.E')") in lines  # fmt: skip
    data["tolerance"]["scope3.E"] = {"rel": 0.0005}  # now the same change is beyond it
    golden.write_text(json.dumps(data, indent=1))
    code, lines = impact_check(runner, small)
    assert code == 1
    assert any(x.startswith(f"scenarios/golden/chatbot-llama70b-h100.json:{line}:5: $.methodologies.scope3.results.E: "
                            "scope3.E drifted: golden ") and "within rel 0.0005 (tolerance 'scope3.E')" in x
               for x in lines)  # fmt: skip


def test_update_golden_rewrites_keeping_tolerances(small, runner):
    golden = small / "scenarios" / "golden" / "chatbot-llama70b-h100.json"
    data = json.loads(golden.read_text())
    data["tolerance"]["E"] = {"rel": 0.02}
    golden.write_text(json.dumps(data))
    replace(small / "catalogs" / "regions.yaml", "    pue: 1.15\n", "    pue: 1.2\n", count=-1)
    code, lines = impact_check(runner, small, "--update-golden")
    assert code == 0, "\n".join(lines)
    assert lines[-1].endswith("; wrote 1 golden file: scenarios/golden/chatbot-llama70b-h100.json")
    assert json.loads(golden.read_text())["tolerance"] == {"default": {"rel": 1e-6}, "E": {"rel": 0.02}}
    assert '        "E": {"value": ' in golden.read_text()  # one result a line
    assert list(golden.parent.glob("*.tmp")) == []
    code, lines = impact_check(runner, small)
    assert code == 0 and lines[-1].startswith("impact check passed: 0 errors, 0 warnings"), "\n".join(lines)


def test_a_broken_expectation(small, runner):
    path = small / "scenarios" / "chatbot-llama70b-h100.yaml"
    replace(path, "    value: 0.177\n", "    value: 0.2\n")
    code, lines = impact_check(runner, small)
    assert code == 1
    line = line_of(path, "- result: E")
    assert (f"scenarios/chatbot-llama70b-h100.yaml:{line}:5: $.expect[0]: scope3.E = 0.176538 Wh, 11.7% below the "
            "expected 0.2 Wh; expected scope3.E within rel 0.05 (±5%) of 0.2 Wh") in lines  # fmt: skip


def test_expectations_convert_units(small, runner):
    path = small / "scenarios" / "chatbot-llama70b-h100.yaml"
    replace(path, "    value: 0.177\n    unit: Wh\n", "    value: 0.00018\n    unit: kWh\n")
    code, lines = impact_check(runner, small)
    assert code == 0, "\n".join(lines)  # 0.18 Wh is within 5% of 0.1765 Wh
    replace(path, "    unit: kWh\n", "    unit: kW\n")
    code, lines = impact_check(runner, small)
    assert code == 1
    line = line_of(path, "unit: kW")
    start = f"scenarios/chatbot-llama70b-h100.yaml:{line}:11: $.expect[0].unit: '0.00018 kW' is power (kW), "
    assert any(x.startswith(start + "which cannot be converted to energy (Wh)") for x in lines), lines


def test_an_expectation_naming_no_result(small, runner):
    path = small / "scenarios" / "chatbot-llama70b-h100.yaml"
    replace(path, "  - result: E\n", "  - result: E_facilty\n")
    code, lines = impact_check(runner, small)
    assert code == 1
    line = line_of(path, "- result: E_facilty")
    at = lines.index(f"scenarios/chatbot-llama70b-h100.yaml:{line}:13: $.expect[0].result: no result 'E_facilty' in "
                     "scope3; expected a result of scope3 (impact run --format json lists them)")  # fmt: skip
    assert lines[at + 1] == "  hint: did you mean 'E_facility'?"


def test_an_ambiguous_or_unknown_methodology_in_an_expectation(small, runner):
    path = small / "scenarios" / "lumi-34b-mi250x.yaml"
    replace(path, "  - result: fits\n", "  - result: fits\n    methodology: memroy\n")
    code, lines = impact_check(runner, small)
    line = line_of(path, "methodology: memroy")
    assert code == 1
    assert (f"scenarios/lumi-34b-mi250x.yaml:{line}:18: $.expect[0].methodology: the scenario does not run "
            "methodology 'memroy'; expected one of scope3, memory") in lines  # the scenario's order  # fmt: skip


def test_a_schema_error_in_one_catalog_and_a_problem_in_another_file(small, runner):
    servers = small / "catalogs" / "servers.yaml"
    replace(servers, "    idle_w:", "    idle_watts:")
    scenario = small / "scenarios" / "lumi-34b-mi250x.yaml"
    replace(scenario, "  input_tokens: 200\n", "  input_tokens: -200\n")
    code, lines = impact_check(runner, small)
    assert code == 1
    line = line_of(servers, "idle_watts:")
    assert any(x.startswith(f"catalogs/servers.yaml:{line}:5: $.entries.") and "unknown key 'idle_watts'" in x
               for x in lines)  # fmt: skip
    line = line_of(scenario, "input_tokens: -200")
    assert (f"scenarios/lumi-34b-mi250x.yaml:{line}:17: $.request.input_tokens: -200 is less than the minimum of 0; "
            "expected a non-negative whole number of tokens") in lines  # fmt: skip


def test_a_scenario_that_fails_to_run_does_not_stop_the_others(small, runner):
    path = small / "scenarios" / "lumi-34b-mi250x.yaml"
    replace(path, "model: poro-34b\n", "model: poro-43b\n")
    replace(small / "scenarios" / "chatbot-llama70b-h100.yaml", "    value: 0.177\n", "    value: 0.2\n")
    code, lines = impact_check(runner, small)
    assert code == 1
    assert f"scenarios/lumi-34b-mi250x.yaml:{line_of(path, 'poro-43b')}:8: $.model: unknown model 'poro-43b'" in [
        x.split(";")[0] for x in lines
    ]
    assert any("$.expect[0]: scope3.E = 0.176538 Wh" in x for x in lines)


def test_unread_names_and_fields_and_missing_goldens_are_warnings(small, runner):
    schema = small / "schemas" / "catalog-accelerators.v1.json"
    replace(schema, '"release_year": {\n          "informational": true,\n', '"release_year": {\n')
    path = small / "formulas" / "memory.yaml"
    spare = "  spare:\n    unit: W\n    description: Read by nothing.\n    default: 1\n"
    replace(path, "\ninputs:\n", "\ninputs:\n" + spare)
    (small / "scenarios" / "golden" / "lumi-34b-mi250x.json").rename(small / "scenarios" / "golden" / "gone.json")
    code, lines = impact_check(runner, small)
    assert code == 0, "\n".join(lines)
    accelerators = small / "catalogs" / "accelerators.yaml"
    assert (f"catalogs/accelerators.yaml:{line_of(accelerators, 'release_year:')}:19: "
            "$.entries.a100-sxm-40gb.release_year: warning: accelerators field 'release_year' is read by no binding "
            "of any methodology; expected a binding that reads it (from: ...), or \"informational\": true on the "
            "field in schemas/catalog-accelerators.v1.json") in lines  # fmt: skip
    assert (f"formulas/memory.yaml:{line_of(path, 'spare:')}:3: $.inputs.spare: warning: input 'spare' of memory "
            "is read by no formula; expected a formula that reads it, or remove it") in lines  # fmt: skip
    assert "scenarios/golden/gone.json:1:1: $: warning: golden results for scenarios/gone.yaml, which does not " \
        "exist; expected a scenario of that name, or remove this file" in lines  # fmt: skip
    assert any(x.startswith("scenarios/lumi-34b-mi250x.yaml:") and "warning: no golden results" in x for x in lines)
    assert lines[-1].startswith("impact check passed: 0 errors, 4 warnings")


def test_github_annotations_name_file_line_and_column(small, runner):
    path = small / "formulas" / "scope3.yaml"
    replace(path, "  n_in:\n", "  n_input:\n")
    code, lines = impact_check(runner, small, "--format", "github")
    assert code == 1
    assert all(GITHUB.match(line) for line in lines[:-1]), lines
    line = line_of(path, "expr: n_in - n_cached")
    assert lines[0].startswith(f"::error file=formulas/scope3.yaml,line={line},col=11,title=impact check (graph)::"
                               "$.formulas.n_prefill.expr: 'n_in' is not defined; ")  # fmt: skip
    assert "%0A  hint: did you mean" in lines[0]
    code, lines = impact_check(runner, small, "--format", "json")
    document = json.loads("\n".join(lines))
    assert document["ok"] is False and document["findings"][0]["line"] == line
    code, lines = impact_check(runner, small, "--format", "markdown")
    assert lines[0] == "### impact check: failed"
    assert f"| error | `formulas/scope3.yaml:{line}:11` | graph | $.formulas.n_prefill.expr: 'n_in' is not defined" in (
        "\n".join(lines)
    )


class _Run:
    def __init__(self, methodology, **results):
        self.methodology = methodology
        self.results = {n: Result(n, np.asarray(v, dtype=float), "Wh", "", True) for n, v in results.items()}


def test_expectations_of_a_sweep_need_one_value_per_point():
    from impact.engine import expect

    doc = load_text("expect:\n  - result: E\n    value: 1\n    rel: 0.1\n"
                    "  - result: E\n    value: [1, 2, 3]\n    rel: 0.1\n"
                    "  - result: E\n    value: [1, 2.5, 3.5]\n    rel: 0.1\n", "s.yaml")  # fmt: skip
    found = [(level, p.render()) for level, p in expect.check(doc, [_Run("scope3", E=[1.0, 2.0, 3.0])])]
    assert found == [
        ("error", "s.yaml:3:12: $.expect[0].value: scope3.E has 3 value(s) (one per point of the scenario), but "
                  "value is one number; expected a list of 3 numbers"),
        ("note", "s.yaml:5:5: $.expect[1]: scope3.E = [1, 2, 3] Wh, within rel 0.1 (±10%) of [1, 2, 3] Wh"),
        ("error", "s.yaml:8:5: $.expect[2]: scope3.E[1] = 2 Wh, 20% below the expected 2.5 Wh (and 1 more of 3 "
                  "points); expected scope3.E[1] within rel 0.1 (±10%) of 2.5 Wh"),
    ]  # fmt: skip


def test_an_expectation_with_both_tolerances_is_a_schema_error(small, runner):
    path = small / "scenarios" / "chatbot-llama70b-h100.yaml"
    replace(path, "    rel: 0.05\n", "    rel: 0.05\n    abs: 0.01\n")
    code, lines = impact_check(runner, small)
    assert code == 1
    assert any(x.startswith(f"scenarios/chatbot-llama70b-h100.yaml:{line_of(path, '- result: E')}:5: $.expect[0]: ")
               and "matches more than one of the allowed forms; expected a mapping with result, value and exactly "
               "one of rel or abs" in x for x in lines)  # fmt: skip
