"""The calculator page in a real browser: Debian's headless Chromium driven by Playwright for Python (the system
browser, never a downloaded one) against a real server on 127.0.0.1. The test fills the form, submits, and
checks every number shown against `impact run` on the scenario YAML the page gives for those choices.

Skipped, with the reason, only where Playwright or /usr/bin/chromium is missing. Set IMPACT_SCREENSHOT=FILE.png
to keep the screenshot it takes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from live import live_server  # noqa: E402

from impact.cli import main  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHOICES = {"#model": "llama-3.1-8b", "#accelerator": "a100-sxm-80gb", "#location": "de", "#precision": "bf16"}
NUMBERS = {"#gpus": "2", "#input_tokens": "2000", "#output_tokens": "300"}


@pytest.fixture(scope="module")
def browser():
    sync = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    if not Path(CHROMIUM).exists():
        pytest.skip("no chromium: apt-get install chromium (Debian's package)")
    with sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def shown(text: str) -> float:
    return float(text.replace(",", ""))


def as_the_page_writes(value: float) -> str:
    """app.js's format(): four significant digits, exponent notation below 1e-3 and from 1e6."""
    if value == 0:
        return "0"
    if abs(value) >= 1e6 or abs(value) < 1e-3:
        mantissa, exponent = f"{value:.3e}".split("e")
        return f"{mantissa}e{int(exponent):+d}"
    return f"{float(f'{value:.4g}'):.15g}"


def test_the_calculator_shows_what_impact_run_computes(browser, tree, runner, tmp_path):
    with live_server(tree) as url:
        page = browser.new_page(viewport={"width": 1100, "height": 1300})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + "/")
        page.wait_for_selector("body[data-state=ready]", timeout=30_000)
        for selector, value in CHOICES.items():
            page.select_option(selector, value)
        for selector, value in NUMBERS.items():
            page.fill(selector, value)
        serving = page.is_visible("#serving-concurrency")  # the scenario schema has a serving: block
        if serving:
            page.fill("#serving-concurrency", "4")
        page.click("#calculate")
        page.wait_for_selector("body[data-state=done]", timeout=30_000)
        rows = page.eval_on_selector_all(
            "#summary tbody tr",
            "rows => rows.map(r => [r.dataset.methodology, r.dataset.result, r.querySelector('.value').dataset.value,"
            " r.querySelector('.value').textContent, r.lastChild.textContent])",
        )
        bars = page.eval_on_selector_all(
            "#chart rect[data-part]", "rs => rs.map(r => [r.dataset.methodology, r.dataset.part, r.dataset.value])"
        )
        tree_root = page.text_content("#tree li")
        sources = page.eval_on_selector_all("#sources tbody tr", "rs => rs.map(r => r.lastChild.textContent)")
        yaml_text = page.text_content("#yaml pre")
        linked = page.evaluate("async () => await (await fetch(document.getElementById('yaml-link').href)).text()")
        page.screenshot(path=str(tmp_path / "calculator.png"), full_page=True)
        if os.environ.get("IMPACT_SCREENSHOT"):
            shutil.copy(tmp_path / "calculator.png", os.environ["IMPACT_SCREENSHOT"])
        page.close()
    assert errors == []
    assert linked == yaml_text
    assert ("\nserving:\n  concurrency: 4\n" in yaml_text) == serving
    (tmp_path / "scenario.yaml").write_text(yaml_text)
    printed = runner.invoke(main, ["run", str(tmp_path / "scenario.yaml"), "--format", "json"])
    assert printed.exit_code == 0, printed.output
    cli = {r["methodology"]: r for r in json.loads(printed.stdout)["runs"]}
    assert cli["scope3"]["scenario"]["model"] == "llama-3.1-8b"
    assert cli["scope3"]["scenario"]["accelerator"] == "a100-sxm-80gb"
    assert cli["scope3"]["inputs"]["n_out"]["value"] == 300
    # every headline result of every methodology, as impact run computes it, shown to four significant digits
    expected = {(m, name) for m, r in cli.items() for name in tree.methodologies()[m].headline.values()
                if name in r["results"]}  # fmt: skip
    assert {m for m, _ in expected} == set(cli)
    assert expected == {(m, name) for m, name, *_ in rows}
    for methodology, name, raw, text, unit in rows:
        result = cli[methodology]["results"][name]
        assert float(raw) == result["value"]
        assert text == as_the_page_writes(result["value"])
        assert shown(text) == pytest.approx(result["value"], rel=5e-4)
        assert unit == result["unit"]
    parts = ("operational_emissions", "embodied_emissions", "training_emissions")
    assert {(m, part): float(v) for m, part, v in bars} == {
        (m, p): r["results"][p]["value"] for m, r in cli.items() for p in parts if p in r["results"]
    }
    assert "scope3" in {m for m, _, _ in bars}
    scope3 = cli["scope3"]["results"]
    assert tree_root.startswith(f"emissions = {as_the_page_writes(scope3['emissions']['value'])} gCO2e")
    assert any("catalogs/regions.yaml" in s for s in sources)


def test_the_form_grows_a_serving_block_when_the_schema_has_one(browser, tree_copy):
    """The page builds its fields from the scenario schema: a tree whose scenario schema has a `serving:`
    block (the serving methodology's) gets a field per key, and the YAML link carries what is filled in."""
    from impact.engine import open_tree

    path = tree_copy / "schemas" / "scenario.v1.json"
    schema = json.loads(path.read_text())
    if "serving" not in schema["properties"]:
        schema["properties"]["serving"] = {"type": "object", "additionalProperties": False, "properties": {
            "engine": {"type": "string"}, "concurrency": {"type": "integer", "minimum": 1},
            "request_rate": {"type": "number", "minimum": 0}}}  # fmt: skip
        path.write_text(json.dumps(schema))
    with live_server(open_tree(tree_copy)) as url:
        page = browser.new_page()
        page.goto(url + "/")
        page.wait_for_selector("body[data-state=ready]", timeout=30_000)
        assert page.is_visible("#serving-fields")
        page.fill("#serving-concurrency", "16")
        page.dispatch_event("#calculator", "change")
        yaml_text = page.text_content("#yaml pre")
        page.close()
    assert "\nserving:\n  concurrency: 16\n" in yaml_text
