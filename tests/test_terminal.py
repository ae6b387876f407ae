"""Terminal tables fit the terminal: at 80 and 120 columns nothing is cut off (rich marks a cut with '…'), every
line fits, and the numbers a table promises are in it. Figures are checked against the JSON of the same run."""

from __future__ import annotations

import json

import pytest

from conftest import REPO
from impact.cli import main
from impact.engine.render.layout import figure

CHATBOT = str(REPO / "scenarios" / "chatbot-llama70b-h100.yaml")
SWEEP = str(REPO / "scenarios" / "sweep-output-length.yaml")
UNCERTAIN = str(REPO / "scenarios" / "uncertain-datacenter.yaml")
LOG = str(REPO / "scenarios" / "logs" / "requests-sample.csv")
SCENARIOS = sorted(str(p) for p in (REPO / "scenarios").glob("*.yaml"))

TABLE_COMMANDS = {
    "run": ["run", CHATBOT],
    "run --details": ["run", CHATBOT, "--details"],
    "sweep run": ["run", SWEEP],
    "samples": ["run", UNCERTAIN, "--samples", "200", "--seed", "1"],
    "samples --details": ["run", UNCERTAIN, "--samples", "200", "--seed", "1", "-v"],
    "compare": ["compare", CHATBOT],
    "memory": ["memory"],
    "validate": ["validate"],
    "calibrate serving": ["calibrate", "--methodology", "serving", "--dry-run", "--no-held-out"],
    "batch": ["batch", LOG, "--scenario", CHATBOT, "--by", "model", "--by", "location"],
}


def fits(result, width: int) -> None:
    assert result.exit_code == 0, result.stderr
    assert "…" not in result.stdout
    too_wide = [line for line in result.stdout.splitlines() if len(line.rstrip()) > width]
    assert not too_wide, too_wide[:3]


@pytest.fixture(scope="module")
def validation_data():
    from impact.engine import open_tree
    from impact.engine.validate import datasets

    return datasets(open_tree(REPO))


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("command", list(TABLE_COMMANDS))
def test_every_table_command_fits_the_terminal(runner, command, width, monkeypatch, request):
    if command == "validate":  # computed once for both widths: the held-out fits take a while
        data = request.getfixturevalue("validation_data")
        monkeypatch.setattr("impact.engine.validate.datasets", lambda *args, **kwargs: data)
    fits(runner.invoke(main, TABLE_COMMANDS[command], env={"COLUMNS": str(width)}), width)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.rsplit("/", 1)[-1])
def test_every_shipped_scenario_opens_with_its_summary_at_80_columns(runner, scenario):
    result = runner.invoke(main, ["run", scenario], env={"COLUMNS": "80"})
    fits(result, 80)
    head = "\n".join(result.stdout.splitlines()[:8])
    assert "energy" in head and "Wh" in head


def test_the_summary_shows_each_headline_per_request_and_in_total(runner):
    doc = json.loads(runner.invoke(main, ["run", CHATBOT, "--format", "json"]).stdout)
    scope3 = next(r for r in doc["runs"] if r["methodology"] == "scope3")
    memory = next(r for r in doc["runs"] if r["methodology"] == "memory")
    lines = runner.invoke(main, ["run", CHATBOT], env={"COLUMNS": "80"}).stdout.splitlines()
    per_request = next(line for line in lines if line.split()[:1] == ["scope3"])
    expected = [figure(scope3["results"][n]["value"]) for n in ("t_hat", "E", "emissions", "water")]
    assert per_request.split()[1:] == expected
    memory_row = next(line for line in lines if line.split()[:1] == ["memory"])
    assert memory_row.split()[1:] == [figure(memory["results"]["memory_total"]["value"]), "3"]
    assert any("total, 1,000,000 requests" in line for line in lines) and "1e+06" not in "\n".join(lines)
    total_row = [line for line in lines if line.split()[:1] == ["scope3"]][1]
    # the chatbot scenario covers 1,000,000 requests: each total is 1e6 x the value per request
    assert total_row.split()[2] == figure(scope3["results"]["E"]["value"] * 1e6)


def test_ghg_units_show_kwh_kg_and_cubic_metres(runner):
    doc = json.loads(runner.invoke(main, ["run", CHATBOT, "--format", "json", "--methodology", "scope3"]).stdout)
    result = runner.invoke(main, ["run", CHATBOT, "--methodology", "scope3", "--units", "ghg"], env={"COLUMNS": "80"})
    fits(result, 80)
    assert "kWh" in result.stdout and "kgCO2e" in result.stdout and "m3" in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.split()[:1] == ["scope3"])
    # 0.1765 Wh = 0.0001765 kWh: kWh = Wh / 1000
    assert row.split()[2] == figure(doc["runs"][0]["results"]["E"]["value"] / 1000)


def test_narrow_tables_say_what_they_leave_out(runner):
    narrow = runner.invoke(main, ["run", SWEEP], env={"COLUMNS": "80"}).stdout
    assert "not shown at 80 columns: point" in narrow
    wide = runner.invoke(main, ["run", SWEEP], env={"COLUMNS": "200"}).stdout
    assert "not shown" not in wide and "memory" in wide and "GPUs" in wide


@pytest.mark.parametrize(("value", "shown"), [(1234567, "1,234,567"), (1234567.8, "1,235,000"), (0.176538, "0.1765"),
                                              (3.0, "3"), (1.5e-7, "1.5e-07"), (7.055e10, "7.055e+10"), (0, "0"),
                                              (169.812, "169.8"), (-0.25, "-0.25")])  # fmt: skip
def test_figures_have_four_significant_digits_and_separators(value, shown):
    assert figure(value) == shown


def test_columns_that_must_show_but_do_not_fit_are_left_out_whole_not_cut():
    import io

    from rich.console import Console

    from impact.engine.render.layout import Col, table

    # five always-shown columns of 14 characters need 5 x (14 + 3) + 1 = 86 columns: at 80 the last goes whole
    cols = [Col(f"column {i}-----", [f"{i}" * 14]) for i in range(5)]
    out, note = table("", cols, 80)
    console = Console(width=80, record=True, file=io.StringIO())
    console.print(out)
    text = console.export_text()
    assert "column 3-----" in text and "column 4" not in text and "3" * 14 in text
    assert "not shown at 80 columns: column 4-----" in note
