"""A region's own hourly profile (`grid_hourly` in its catalog entry): impact batch charges each timestamped
row in that region the intensity of its hour, --grid-profile overrides it, and the profile is untrusted input
(a path outside the tree, a missing file, a CSV that is not a profile of that region: one located error).

The profile is tests/fixtures/grids/synthetic-fr.csv, synthetic numbers for tests (100, 200, 300 gCO2e/kWh at
00:00, 01:00 and 02:00 UTC on 2025-12-01), copied into a temporary tree."""

from __future__ import annotations

import shutil

import pytest

from conftest import REPO, add_to_entry
from impact.cli import main
from impact.engine import open_tree
from impact.engine.batch import run_batch

FIXTURE = REPO / "tests" / "fixtures" / "grids" / "synthetic-fr.csv"
BASE = "scenarios/chatbot-llama70b-h100.yaml"
GRID_HOURLY = ("{file: grids/synthetic-fr.csv, year: 2025, source: 'synthetic test fixture', method: 'made up for "
               "tests', licence: 'none: not data'}")  # fmt: skip


@pytest.fixture
def hourly_tree(tree_copy):
    (tree_copy / "catalogs" / "grids").mkdir()
    shutil.copy(FIXTURE, tree_copy / "catalogs" / "grids" / "synthetic-fr.csv")
    add_to_entry(tree_copy / "catalogs" / "regions.yaml", "fr", {"grid_hourly": GRID_HOURLY})
    return tree_copy


def totals(batch) -> dict:
    return batch.totals.sums["scope3"]


def test_rows_in_the_region_are_charged_their_hour(hourly_tree):
    tree = open_tree(hourly_tree)
    log = hourly_tree / "log.csv"
    # 00:30Z -> 100; 01:59:59+00:00 -> 200; 04:10+02:00 = 02:10Z -> 300; the us row keeps its annual figure
    log.write_text("model,output_tokens,location,timestamp\nllama-3.1-8b,100,fr,2025-12-01T00:30:00Z\n"
                   "llama-3.1-8b,100,fr,2025-12-01T01:59:59+00:00\nllama-3.1-8b,100,fr,2025-12-01T04:10:00+02:00\n"
                   "llama-3.1-8b,100,us,2025-12-01T00:30:00Z\n")  # fmt: skip
    hourly = run_batch(log, BASE, tree, methodologies=["scope3"])
    assert hourly.grid_charged == 3
    by_hand = hourly_tree / "by-hand.csv"
    by_hand.write_text("model,output_tokens,location,grid_intensity\nllama-3.1-8b,100,fr,100\n"
                       "llama-3.1-8b,100,fr,200\nllama-3.1-8b,100,fr,300\n")  # fmt: skip
    us = hourly_tree / "us.csv"
    us.write_text("model,output_tokens,location\nllama-3.1-8b,100,us\n")
    expected, annual = (
        totals(run_batch(by_hand, BASE, tree, methodologies=["scope3"])),
        totals(run_batch(us, BASE, tree, methodologies=["scope3"])),
    )
    for name in ("operational_emissions", "emissions", "E_facility"):
        assert totals(hourly)[name] == pytest.approx(expected[name] + annual[name], rel=1e-12), name
    # by hand: the three fr requests are alike, each a third of their E_facility: (100 + 200 + 300) / 1000 x that
    third = expected["E_facility"] / 3
    assert expected["operational_emissions"] == pytest.approx(third * 600 / 1000, rel=1e-12)
    # market-based stays the annual contractual figure: the hourly profile is location-based only
    assert totals(hourly)["operational_emissions_market"] == pytest.approx(
        expected["operational_emissions_market"] + annual["operational_emissions_market"], rel=1e-12
    )


def test_grid_profile_overrides_the_regions_own(hourly_tree, runner):
    (hourly_tree / "other.csv").write_text("hour,grid_gco2e_per_kwh\n2025-12-01T00:00:00Z,1000\n")
    (hourly_tree / "log.csv").write_text("model,output_tokens,location,timestamp\nllama-3.1-8b,100,fr,"
                                         "2025-12-01T00:30:00Z\n")  # fmt: skip
    (hourly_tree / "by-hand.csv").write_text("model,output_tokens,location,grid_intensity\nllama-3.1-8b,100,fr,1000\n")
    tree = open_tree(hourly_tree)
    got = totals(run_batch(hourly_tree / "log.csv", BASE, tree, methodologies=["scope3"],
                           grid_profile=hourly_tree / "other.csv"))  # fmt: skip
    expected = totals(run_batch(hourly_tree / "by-hand.csv", BASE, tree, methodologies=["scope3"]))
    assert got["operational_emissions"] == pytest.approx(expected["operational_emissions"], rel=1e-12)


def test_a_log_without_timestamps_or_with_its_own_intensity_is_not_charged_hourly(hourly_tree):
    tree = open_tree(hourly_tree)
    (hourly_tree / "plain.csv").write_text("model,output_tokens,location\nllama-3.1-8b,100,fr\n")
    assert run_batch(hourly_tree / "plain.csv", BASE, tree, methodologies=["scope3"]).profile is None
    (hourly_tree / "own.csv").write_text("model,output_tokens,location,timestamp,grid_intensity\n"
                                         "llama-3.1-8b,100,fr,2025-12-01T00:30:00Z,50\n")  # fmt: skip
    batch = run_batch(hourly_tree / "own.csv", BASE, tree, methodologies=["scope3"])
    assert batch.profile is None and batch.grid_charged == 0  # the log's column gives the intensity


def test_an_hour_outside_the_regions_profile_is_located_or_falls_back(hourly_tree, runner):
    (hourly_tree / "log.csv").write_text(
        "model,output_tokens,location,timestamp\n"
        "llama-3.1-8b,1,fr,2025-12-01T00:10Z\nllama-3.1-8b,1,fr,2025-12-02T08:10Z\n"
    )
    args = ["batch", "log.csv", "--scenario", BASE, "--methodology", "scope3"]
    result = runner.invoke(main, args)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.endswith("log.csv:3:19: $.timestamp: catalogs/grids/synthetic-fr.csv has no intensity for "
                                  "the hour of 2025-12-02T08:10Z in fr; expected a timestamp within the profile, or "
                                  "--grid-fallback annual\n")  # fmt: skip
    result = runner.invoke(main, [*args, "--grid-fallback", "annual"])
    assert result.exit_code == 0, result.stderr
    assert ("warning: 1 requests outside a region's grid_hourly were charged their region's annual grid "
            "intensity") in result.stderr  # fmt: skip


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        ("../../outside.csv", None, "$.entries.fr.grid_hourly.file: '../../outside.csv' leads outside the tree"),
        ("grids/missing.csv", None, "$.entries.fr.grid_hourly.file: catalogs/grids/missing.csv: no such file"),
        (
            "grids/x.csv",
            "hour,grid_gco2e_per_kwh,region\n2025-12-01T00:00Z,5,de\n",
            "catalogs/grids/x.csv:2:1: $.region: names region 'de' in the profile of region 'fr'; expected only fr, or "
            "no region column",
        ),
        (
            "grids/x.csv",
            "hour,grid_gco2e_per_kwh,regoin\n2025-12-01T00:00Z,5,fr\n",
            "catalogs/grids/x.csv:1:1: $.regoin: unknown column 'regoin'; expected hour, grid_gco2e_per_kwh and "
            "optionally region\n  hint: did you mean 'region'?",
        ),
        (
            "grids/x.csv",
            "hour,grid_gco2e_per_kwh\n2025-12-01T00:00Z,-5\n",
            "catalogs/grids/x.csv:2:1: $.grid_gco2e_per_kwh: -5 is negative; expected a non-negative number in "
            "gCO2e/kWh",
        ),
        (
            "grids/x.csv",
            "hour,grid_gco2e_per_kwh\n2025-12-01T00:00Z\n",
            "catalogs/grids/x.csv:2:1: $.grid_gco2e_per_kwh: no grid_gco2e_per_kwh; expected a value in every column",
        ),
        (
            "grids/x.csv",
            b"hour,grid_gco2e_per_kwh\n2025-12-01T00:00Z,\xff\n",
            "catalogs/grids/x.csv:2:1: $: not UTF-8 text (byte 43)",
        ),
    ],
)
def test_a_bad_region_profile_is_one_located_error(tree_copy, runner, file, content, message):
    add_to_entry(tree_copy / "catalogs" / "regions.yaml", "fr", {"grid_hourly": GRID_HOURLY.replace(
        "grids/synthetic-fr.csv", file)})  # fmt: skip
    if content is not None:
        (tree_copy / "catalogs" / "grids").mkdir()
        path = tree_copy / "catalogs" / file
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    (tree_copy / "log.csv").write_text("model,output_tokens,location,timestamp\nllama-3.1-8b,1,fr,2025-12-01T00:10Z\n")
    result = runner.invoke(main, ["batch", "log.csv", "--scenario", BASE])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert message in result.stderr, result.stderr


def test_a_region_profile_needs_its_year_source_method_and_licence(tree_copy, runner):
    add_to_entry(tree_copy / "catalogs" / "regions.yaml", "fr",
                 {"grid_hourly": "{file: grids/synthetic-fr.csv, year: 2025, source: x, method: y}"})  # fmt: skip
    result = runner.invoke(main, ["run", BASE])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "$.entries.fr.grid_hourly: missing required key 'licence'" in result.stderr
