"""`impact report`: one self-contained HTML file, checked as text and rendered by a real browser (headless
Chromium, Debian's package): the screenshot must not be blank. Skipped, with the reason, without chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from conftest import REPO
from impact.cli import main
from impact.engine.render.layout import figure

CHATBOT = str(REPO / "scenarios" / "chatbot-llama70b-h100.yaml")
SWEEP = str(REPO / "scenarios" / "sweep-output-length.yaml")
UNCERTAIN = str(REPO / "scenarios" / "uncertain-datacenter.yaml")
LOG = str(REPO / "scenarios" / "logs" / "requests-sample.csv")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from click.testing import CliRunner

    out = tmp_path_factory.mktemp("report") / "report.html"
    result = CliRunner().invoke(main, ["report", CHATBOT, SWEEP, UNCERTAIN, "--samples", "200", "--seed", "1",
                                       "--compare", "--batch", LOG, "--scenario", CHATBOT, "--by", "model",
                                       "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"wrote {out}\n"
    return out


def test_the_report_is_self_contained(page):
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>")
    # nothing is fetched at view time: no scripts, stylesheets, images or frames from elsewhere
    assert not re.search(r"<(script|link|img|iframe)\b", text)
    assert not re.search(r"url\((?!#)", text)  # only references inside the page (an SVG's clip paths)
    assert text.count("<svg") >= 5  # per methodology, breakdown, bands, sweep curves, batch groups


def test_the_report_holds_the_summary_inputs_explanations_and_provenance(page, runner):
    text = page.read_text()
    doc = json.loads(runner.invoke(main, ["run", CHATBOT, "--format", "json", "--methodology", "scope3"]).stdout)
    (run,) = doc["runs"]
    assert f'<td class="n">{figure(run["results"]["E"]["value"])}</td>' in text
    assert "Summary, total, 1,000,000 requests" in text and "Methodologies compared" in text
    assert "How the headline results are derived" in text and "<b>E</b> = t_hat * P_server / s_per_h" in text
    assert run["provenance"]["hash"] in text
    assert "catalogs/accelerators.yaml:" in text and "warning: gpu_embodied_water" in text
    assert "Sweep of 6 points" in text and "Request log" in text and "Totals by model" in text


def test_without_matplotlib_the_report_says_what_charts_need(runner, tmp_path, monkeypatch):
    from impact.engine.render import charts

    monkeypatch.setattr(charts, "available", lambda: False)
    out = tmp_path / "plain.html"
    assert runner.invoke(main, ["report", CHATBOT, "-o", str(out)]).exit_code == 0
    text = out.read_text()
    assert "Charts need matplotlib" in text and "<svg" not in text


def test_report_misuse_is_one_line(runner, tmp_path):
    result = runner.invoke(main, ["report", "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 1
    assert result.stderr == ("impact report: nothing to report; expected one or more SCENARIO files, or --batch LOG "
                             "--scenario BASE\n")  # fmt: skip
    result = runner.invoke(main, ["report", "--batch", LOG, "-o", str(tmp_path / "r.html")])
    assert result.stderr == f"--batch {LOG}: a log needs its base scenario; expected --scenario BASE.yaml\n"
    result = runner.invoke(main, ["report", CHATBOT, "-o", str(tmp_path)])
    assert result.exit_code == 1 and result.stderr.startswith(f"-o {tmp_path}: ") and "directory" in result.stderr


def test_chromium_renders_the_report(page, tmp_path):
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("no chromium binary on PATH: apt-get install chromium (Debian's package) to render the report")
    image = pytest.importorskip("PIL.Image", reason="Pillow (a matplotlib dependency) reads the screenshot")
    shot = tmp_path / "shot.png"
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}", "--window-size=1280,2000",
               page.as_uri()]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    picture = image.open(shot).convert("RGB")
    assert picture.size == (1280, 2000)
    pixels = list(picture.get_flattened_data()) if hasattr(picture, "get_flattened_data") else list(picture.getdata())
    inked = sum(1 for p in pixels if sum(p) < 600) / len(pixels)
    assert inked > 0.02, f"the screenshot is nearly blank ({inked:.1%} of pixels inked)"
    assert len(set(pixels)) > 50  # text, tables and coloured bars, not a flat page
