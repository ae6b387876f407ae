"""Hourly grid intensity: each request is charged the intensity of the hour it started in (time zones
converted), rows the profile does not cover keep the annual figure, and an hour outside it is located."""

from __future__ import annotations

import pytest

from conftest import REPO
from impact.cli import main
from impact.engine.batch import run_batch

BASE = REPO / "scenarios" / "chatbot-llama70b-h100.yaml"
PROFILE = ("hour,grid_gco2e_per_kwh,region\n2025-12-01T08:00:00+00:00,40,fr\n2025-12-01T09:00:00+00:00,120,fr\n"
           "2025-12-01T11:00+01:00,80,fr\n")  # fmt: skip


def test_each_request_is_charged_its_hours_intensity(tree, tmp_path):
    profile = tmp_path / "fr.csv"
    profile.write_text(PROFILE)
    log = tmp_path / "log.csv"
    # 08:59:59Z -> the 08:00 UTC hour (40); 11:30+02:00 = 09:30Z -> 120 (the profile's 11:00+01:00 is 10:00Z,
    # 80); the us row is not in the profile's regions: its annual figure
    log.write_text("model,output_tokens,location,timestamp\nllama-3.1-8b,100,fr,2025-12-01T08:59:59Z\n"
                   "llama-3.1-8b,100,fr,2025-12-01T11:30:00+02:00\n"
                   "llama-3.1-8b,200,us,2025-12-01T08:00:00Z\n")  # fmt: skip
    by_hand = tmp_path / "by-hand.csv"
    by_hand.write_text("model,output_tokens,location,grid_intensity\nllama-3.1-8b,100,fr,40\nllama-3.1-8b,100,fr,120\n")
    hourly = run_batch(log, BASE, tree, methodologies=["scope3"], grid_profile=profile)
    us = tmp_path / "us.csv"
    us.write_text("model,output_tokens,location\nllama-3.1-8b,200,us\n")
    expected = run_batch(by_hand, BASE, tree, methodologies=["scope3"]).totals.sums["scope3"]
    annual = run_batch(us, BASE, tree, methodologies=["scope3"]).totals.sums["scope3"]
    got = hourly.totals.sums["scope3"]
    for name in ("operational_emissions", "emissions", "E"):
        assert got[name] == pytest.approx(expected[name] + annual[name], rel=1e-12), name
    assert hourly.grid_charged == 2
    # by hand: operational emissions of the fr rows = E_facility x intensity / 1000 Wh per kWh
    fr = run_batch(by_hand, BASE, tree, methodologies=["scope3"], by=["grid_intensity"])
    assert fr.totals.sums["scope3"]["operational_emissions"] == pytest.approx(
        sum(g["sums"]["scope3"]["E_facility"] * float(k[0]) / 1000 for k, g in fr.totals.groups.items()), rel=1e-9
    )


def test_an_hour_outside_the_profile_is_located_or_falls_back(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fr.csv").write_text(PROFILE)
    (tmp_path / "log.csv").write_text("model,output_tokens,location,timestamp\n"
                                      "llama-3.1-8b,1,fr,2025-12-01T08:10Z\nllama-3.1-8b,1,fr,2025-12-02T08:10Z\n"
                                      "llama-3.1-8b,1,fr,2025-12-01T08:10\n")  # fmt: skip
    args = ["batch", "log.csv", "--scenario", str(BASE), "--grid-profile", "fr.csv"]
    result = runner.invoke(main, args)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr == ("log.csv:3:19: $.timestamp: fr.csv has no intensity for the hour of 2025-12-02T08:10Z in "
                             "fr; expected a timestamp within the profile, or --grid-fallback annual\n")  # fmt: skip
    result = runner.invoke(main, [*args, "--grid-fallback", "annual", "--skip-bad-rows", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert '"skipped": 1' in result.stdout  # the timestamp without an offset names no hour
    assert "warning: 1 requests outside fr.csv were charged their region's annual grid intensity" in result.stderr
    assert "'2025-12-01T08:10' is not an ISO 8601 time with a UTC offset" in result.stderr


def test_an_hour_written_twice_in_a_profile_is_refused(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fr.csv").write_text(PROFILE + "2025-12-01T10:00+01:00,90,fr\n")  # 09:00Z again
    (tmp_path / "log.csv").write_text("model,output_tokens,location,timestamp\nllama-3.1-8b,1,fr,2025-12-01T08:10Z\n")
    result = runner.invoke(main, ["batch", "log.csv", "--scenario", str(BASE), "--grid-profile", "fr.csv"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr == ("fr.csv:5:1: $.hour: the hour 2025-12-01T10:00+01:00 (09:00 UTC) is also on line 3; "
                             "expected one intensity per hour and region\n")  # fmt: skip
