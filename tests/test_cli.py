"""The command line, through Click's CliRunner: exit codes, formats and exact error text."""

from __future__ import annotations

import csv
import io
import json

import pytest

from conftest import REPO
from impact import __version__
from impact.cli import main

CHATBOT = str(REPO / "scenarios" / "chatbot-llama70b-h100.yaml")


def test_version(runner):
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"impact {__version__}\n"


COMMANDS = [[], ["run"], ["catalog"], ["catalog", "list"], ["catalog", "show"], ["methodologies"], ["compare"],
            ["memory"], ["calibrate"], ["estimate-params"], ["validate"], ["explain"]]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(runner, command):
    result = runner.invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.stdout


def test_run_without_a_scenario_runs_the_shipped_example(runner):
    result = runner.invoke(main, ["run", "--format", "json"])
    assert result.exit_code == 0
    runs = json.loads(result.stdout)["runs"]
    assert {r["scenario"]["name"] for r in runs} == {"chatbot-llama70b-h100"}


def test_json_contract(runner):
    result = runner.invoke(main, ["run", CHATBOT, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    runs = {r["methodology"]: r for r in json.loads(result.stdout)["runs"]}
    assert set(runs) == {"scope3", "serving", "memory"}
    serving = {
        "ttft": "s",
        "itl": "s",
        "latency": "s",
        "concurrency": "request",
        "max_concurrency": "request",
        "throughput": "request/s",
        "t_server": "s",
        "P_gpu_load": "W",
        "E_gpu": "Wh",
        "E": "Wh",
        "E_facility": "Wh",
        "emissions": "gCO2e",
        "water": "L",
    }  # the public contract of issue 10
    for name, unit in serving.items():
        assert runs["serving"]["results"][name]["unit"] == unit, name
        assert isinstance(runs["serving"]["results"][name]["value"], float)
    units = {
        "t_in": "s",
        "t_out": "s",
        "t_total": "s",
        "t_hat": "s",
        "E": "Wh",
        "E_facility": "Wh",
        "emissions": "gCO2e",
        "water": "L",
    }
    for name, unit in units.items():
        assert runs["scope3"]["results"][name]["unit"] == unit
        assert isinstance(runs["scope3"]["results"][name]["value"], float)
    assert runs["memory"]["results"]["memory"]["unit"] == "GB"
    assert runs["memory"]["results"]["gpus_needed"]["unit"] == "accelerator"
    for value in runs["scope3"]["inputs"].values():
        assert set(value) == {"value", "unit", "source"}


def test_set_overrides_an_input_and_is_reported_as_the_source(runner):
    result = runner.invoke(main, ["run", CHATBOT, "--format", "json", "--set", "PUE=1.5", "--methodology", "scope3"])
    (run,) = json.loads(result.stdout)["runs"]
    assert run["inputs"]["PUE"] == {"value": 1.5, "unit": "", "source": "--set PUE=1.5"}
    assert run["results"]["E_facility"]["value"] == pytest.approx(1.5 * run["results"]["E"]["value"])


def test_set_can_replace_a_formula(runner):
    result = runner.invoke(main, ["run", CHATBOT, "--format", "json", "--set", "t_hat=10", "--methodology", "scope3"])
    (run,) = json.loads(result.stdout)["runs"]
    assert run["results"]["t_hat"]["value"] == 10
    assert run["results"]["E"]["value"] == pytest.approx(10 * 6800 / 3600)


def test_csv_output(runner):
    result = runner.invoke(main, ["run", CHATBOT, "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    energy = [r for r in rows if r["methodology"] == "scope3" and r["name"] == "E"][0]
    assert energy["unit"] == "Wh" and energy["kind"] == "result"
    assert float(energy["total"]) == pytest.approx(1e6 * float(energy["value"]))


def test_markdown_output(runner):
    result = runner.invoke(main, ["run", CHATBOT, "--format", "markdown"])
    assert result.exit_code == 0
    assert "## chatbot-llama70b-h100: scope3 1.0.0" in result.stdout
    assert "| t_hat |" in result.stdout


def test_table_output_shows_results_inputs_and_sources_with_details(runner):
    result = runner.invoke(main, ["run", CHATBOT, "--details"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "E_facility" in result.stdout and "Wh" in result.stdout
    assert "catalogs/accelerators.yaml" in result.stdout
    assert "warning: gpu_embodied_water" in result.stdout
    brief = runner.invoke(main, ["run", CHATBOT], env={"COLUMNS": "200"})
    assert "E_facility" not in brief.stdout and "catalogs/accelerators.yaml" not in brief.stdout
    assert "warning: gpu_embodied_water" in brief.stdout and "--details (-v)" in brief.stdout


def test_root_from_the_environment(runner, tree_copy):
    (tree_copy / "catalogs" / "precisions.yaml").write_text(
        (tree_copy / "catalogs" / "precisions.yaml")
        .read_text()
        .replace("bytes_per_param: 2\n", "bytes_per_param: 3\n", 1)
    )
    result = runner.invoke(
        main, ["run", CHATBOT, "--format", "json", "--methodology", "scope3"], env={"IMPACT_ROOT": str(tree_copy)}
    )
    (run,) = json.loads(result.stdout)["runs"]
    assert run["inputs"]["b"]["value"] == 3


def test_catalog_list_and_show(runner):
    listed = runner.invoke(main, ["catalog", "list", "accelerators", "--format", "json"])
    assert listed.exit_code == 0
    assert len(json.loads(listed.stdout)) >= 20
    shown = runner.invoke(main, ["catalog", "show", "accelerators", "h100-sxm"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0
    assert "memory_bandwidth_tb_s" in shown.stdout and "3.35" in shown.stdout and "TB/s" in shown.stdout


def test_catalog_errors(runner):
    result = runner.invoke(main, ["catalog", "list", "acelerators"])
    assert result.exit_code == 1
    assert result.stderr == (
        "catalog acelerators: unknown catalog 'acelerators'; expected one of accelerators, "
        "calibrations, deployments, engines, models, precisions, regions, servers\n"
        "  hint: did you mean 'accelerators', 'calibrations'?\n"
    )
    result = runner.invoke(main, ["catalog", "show", "models", "llama-9"])
    assert result.exit_code == 1
    assert result.stderr.startswith("catalog models llama-9: unknown model 'llama-9'; expected an id from the models")


def test_methodologies_lists_each_with_a_description(runner):
    result = runner.invoke(main, ["methodologies"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[:4]] == ["llm_bench", "memory", "scope3", "serving"]
    assert [line.split()[1] for line in lines[4:]] == ["batching", "kv-cache-fp8", "speculative-decoding"]
    assert all(": " in line for line in lines)


def test_missing_scenario_file(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["run", "nope.yaml"])
    assert result.exit_code == 1
    assert result.stderr == "nope.yaml: $: no such file; expected a path to a YAML file\n"


def test_a_root_that_is_not_a_directory(runner, tmp_path):
    result = runner.invoke(main, ["run", CHATBOT, "--root", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert result.stderr == (f"--root {tmp_path / 'nope'}: {tmp_path / 'nope'} is not a directory; expected a folder "
                             "holding formulas/ and catalogs/\n")  # fmt: skip


def test_a_directory_given_as_the_scenario(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    result = runner.invoke(main, ["run", "d"])
    assert result.exit_code == 1
    assert result.stderr == "d: $: is a directory; expected a path to a YAML file\n"
