"""The README's set-up commands are exactly what CI runs, and its examples work."""

from __future__ import annotations

import re

from conftest import REPO
from impact.engine import run


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    setup = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", setup)


def test_readme_has_exactly_two_setup_commands_and_ci_runs_them():
    commands = readme_commands()
    assert len(commands) == 2
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    for command in commands:
        assert command in ci


def test_the_readme_formula_example_works(tree_copy):
    path = tree_copy / "formulas" / "scope3.yaml"
    formula = re.search(r"  E_per_1k_output:\n(    .+\n)+", (REPO / "README.md").read_text()).group(0)
    path.write_text(path.read_text() + formula)
    scenario = tree_copy / "scenarios" / "chatbot-llama70b-h100.yaml"
    (result,) = run(scenario, root=tree_copy, methodologies=["scope3"])
    energy = float(result.results["E"].value[0])
    assert float(result.results["E_per_1k_output"].value[0]) == energy / 500 * 1000


def test_the_readme_gpu_example_works_with_no_code_change(tree_copy):
    entry = re.search(r"```yaml\n(  my-gpu:\n(?:    .+\n)+)```", (REPO / "README.md").read_text()).group(1)
    catalog = "kind: catalog\nschema_version: 1\ncatalog: accelerators\nentries:\n" + entry
    (tree_copy / "catalogs" / "my-gpus.yaml").write_text(catalog)
    scenario = {
        "kind": "scenario",
        "schema_version": 1,
        "model": "llama-2-7b",
        "hardware": "my-gpu",
        "location": "fr",
        "request": {"input_tokens": 1000, "output_tokens": 100},
    }
    runs = {r.methodology: r for r in run(scenario, root=tree_copy)}
    assert float(runs["scope3"].results["t_in"].value[0]) == 2 * 6.74e9 * 1000 / 800e12  # fp16 at 800 TFLOP/s
    assert float(runs["scope3"].results["t_out"].value[0]) == 2 * 6.74e9 * 100 / 4.0e12  # 4 TB/s
    assert float(runs["memory"].results["memory_available"].value[0]) == 96
