"""`impact diff`: results of every scenario under two trees, what changed and why, --fail-above, revisions.

Each test copies the shipped tree twice (BASE and HEAD, without the API scenario, whose price fit is the slow
part), plants one change in HEAD and checks which results move, by how much (by hand where the arithmetic is
short) and which difference the report names for each.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, TREE_PARTS
from impact.cli import main
from impact.engine.api import Result
from impact.engine.diff import compare_result, diff

SCOPE3_PUE = {"E_facility", "operational_emissions", "emissions", "WUE", "operational_water", "water",
              "operational_emissions_market", "emissions_market"}  # fmt: skip
SCENARIOS = ["chatbot-llama70b-h100", "local-7b-rtx4090", "lumi-34b-mi250x", "rag-long-context", "what-if-overrides"]


def copy_tree(dest: Path) -> Path:
    """The shipped formulas, catalogs and schemas, and five of its scenarios (not the API one: its price fit is
    the slow part)."""
    for part in TREE_PARTS:
        if part != "scenarios":
            shutil.copytree(REPO / part, dest / part)
    (dest / "scenarios").mkdir()
    for name in SCENARIOS:
        shutil.copy(REPO / "scenarios" / f"{name}.yaml", dest / "scenarios")
    return dest


def edit(path: Path, after: str, old: str, new: str) -> int:
    """Replace the first `old` after the line `after` in `path`; return the line number of the edit."""
    text = path.read_text()
    start = text.index(after)
    at = text.index(old, start)
    path.write_text(text[:at] + new + text[at + len(old) :])
    return text[:at].count("\n") + 1


@pytest.fixture
def trees(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("IMPACT_ROOT", raising=False)
    return copy_tree(tmp_path / "base"), copy_tree(tmp_path / "head")


def moved(found, methodology: str = "scope3") -> dict[str, set[str]]:
    """scenario stem -> names of the results of `methodology` that changed."""
    out: dict[str, set[str]] = {}
    for r in found.results:
        if r.methodology == methodology:
            out.setdefault(Path(r.scenario).stem, set()).add(r.result)
    return out


def test_identical_trees_change_nothing_and_pass(trees, runner):
    base, head = trees
    result = runner.invoke(main, ["diff", "base", "head", "--fail-above", "0"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("base -> head: no result changed (")
    assert "results of 5 scenarios compared); 0 differences between the trees\n" in result.stdout
    assert "ok: no result changed by more than 0%" in result.stdout
    assert "why:" not in result.stdout


def test_region_pue_moves_exactly_the_results_that_read_it(trees):
    base, head = trees
    line = edit(head / "catalogs" / "regions.yaml", "\n  aws-us-east-1:\n", "pue: 1.15", "pue: 1.265")
    found = diff("base", "head")
    # only the chatbot runs in aws-us-east-1 with the region's PUE: what-if-overrides sets PUE: 1.1 itself
    assert moved(found) == {"chatbot-llama70b-h100": SCOPE3_PUE}
    change = {r.result: r.change for r in found.results}
    # E_facility = PUE x E: 1.265 / 1.15 = 1.1 exactly, so +10%; operational emissions are E_facility x grid
    assert change["E_facility"] == pytest.approx(0.10, rel=1e-12)
    assert change["operational_emissions"] == pytest.approx(0.10, rel=1e-12)
    # WUE = WUE_onsite + PUE x WUE_electricity = 0.25 + 1.15 x 2.37 = 2.9755 -> 0.25 + 1.265 x 2.37 = 3.24805
    assert change["WUE"] == pytest.approx(3.24805 / 2.9755 - 1, rel=1e-12)
    [pue] = found.changes
    assert (pue.kind, pue.what, pue.old, pue.new) == ("catalog", "regions aws-us-east-1.pue", 1.15, 1.265)
    assert pue.where == f"catalogs/regions.yaml:{line}"
    assert {r.result for r in pue.moves} == SCOPE3_PUE
    assert all(r.why == [pue.id] for r in found.results)
    # largest change first; changes equal to 9 digits (float noise) are ties, ordered by scenario and result
    assert found.results == sorted(found.results, key=lambda r: (-float(f"{abs(r.change):.9g}"), r.label))


def test_accelerator_tdp_moves_the_scenarios_on_that_accelerator(trees):
    base, head = trees
    edit(head / "catalogs" / "accelerators.yaml", "\n  h100-sxm:\n", "tdp_w: 700", "tdp_w: 770")
    found = diff("base", "head")
    energy = {"P_server", "E", "E_facility", "operational_emissions", "emissions", "operational_water", "water",
              "operational_emissions_market", "emissions_market"}  # fmt: skip
    # the chatbot (a DGX H100) and RAG (h100-sxm) read P_gpu from the catalog; what-if sets P_gpu: 0.6 kW
    assert moved(found) == {"chatbot-llama70b-h100": energy, "rag-long-context": energy}
    p_server = next(r for r in found.results if r.label == "chatbot-llama70b-h100 scope3.P_server")
    assert p_server.new - p_server.old == pytest.approx(8 * 70)  # P_server = ... + N_gpu x P_gpu: 8 x 70 W more
    [tdp] = found.changes
    assert tdp.what == "accelerators h100-sxm.tdp_w" and len(tdp.moves) == len(found.results)


def test_calibration_betas_move_the_scenarios_at_their_precision(trees):
    base, head = trees
    path = head / "catalogs" / "calibrations.yaml"
    edit(path, "  default:", "beta_in: 2.3543438868964675", "beta_in: 2.5")  # pooled: bf16 (LUMI)
    edit(path, "  default:", "fp16: 2.0147502303365394", "fp16: 2.2")  # per precision: the fp16 scenarios
    found = diff("base", "head")
    by_what = {c.what: c for c in found.changes}
    assert set(by_what) == {"default.beta_in", "default.beta_in_by_precision.fp16"}
    assert {c.kind for c in found.changes} == {"calibration"}
    fp16 = {Path(r.scenario).stem for r in by_what["default.beta_in_by_precision.fp16"].moves}
    # rag is fp8; the local scenario serves one request at a time: its deployment's batch-1 betas
    assert fp16 == {"chatbot-llama70b-h100", "what-if-overrides"}
    assert {Path(r.scenario).stem for r in by_what["default.beta_in"].moves} == {"lumi-34b-mi250x"}
    assert all(r.methodology == "scope3" for r in found.results)  # memory reads no beta
    # t_hat = beta_in x t_in + beta_out x t_out: it moves by (2.2 - 2.0147502303365394) x t_in
    from impact.engine import open_tree, run

    t_in = run(base / "scenarios" / "chatbot-llama70b-h100.yaml", tree=open_tree(base))[1].results["t_in"].value[0]
    t_hat = next(r for r in found.results if r.label == "chatbot-llama70b-h100 scope3.t_hat")
    assert t_hat.new - t_hat.old == pytest.approx((2.2 - 2.0147502303365394) * t_in, rel=1e-9)


def test_a_changed_formula_is_named_with_its_line(trees, runner):
    base, head = trees
    path = head / "formulas" / "scope3.yaml"
    line = edit(path, "  E_facility:", "expr: PUE * E\n", "expr: PUE * E * 1.1\n")
    edit(path, "  t_total:", "expr: t_in + t_out", "expr: t_in+t_out")  # spacing only: no change
    found = diff("base", "head")
    # serving extends scope3 and inherits E_facility: the one edit is a change of both
    assert {c.what for c in found.changes} == {"scope3.E_facility expr", "serving.E_facility expr"}
    formula = next(c for c in found.changes if c.what == "scope3.E_facility expr")
    assert (formula.kind, formula.old, formula.new) == ("formula", "PUE * E", "PUE * E * 1.1")
    assert formula.where == f"formulas/scope3.yaml:{line}"
    e_facility = [r for r in found.results if r.result == "E_facility" and r.methodology == "scope3"]
    assert len(e_facility) == 5 and all(r.change == pytest.approx(0.1, rel=1e-12) for r in e_facility)
    result = runner.invoke(main, ["diff", "base", "head", "--format", "markdown"])
    assert result.exit_code == 0
    assert "| scenario | result | old | new | unit | change | why |" in result.stdout
    assert "#### Why" in result.stdout
    assert "1. formula `scope3.E_facility expr`: PUE * E -> PUE * E * 1.1" in result.stdout


def test_an_input_default_moves_the_scenarios_that_use_the_default(trees):
    base, head = trees
    edit(head / "formulas" / "scope3.yaml", "  lifetime_requests:", "default: 1.0e10", "default: 2.0e10")
    found = diff("base", "head")
    assert {c.what for c in found.changes} == {"scope3.lifetime_requests default", "serving.lifetime_requests default"}
    default = next(c for c in found.changes if c.what == "scope3.lifetime_requests default")
    assert (default.kind, default.old, default.new) == ("input", 1e10, 2e10)
    # model_training_emissions = training_tco2e x g_per_t / lifetime_requests: twice the requests, half each
    training = [r for r in found.results if r.result == "model_training_emissions"]
    assert training and all(r.change == pytest.approx(-0.5, rel=1e-12) for r in training)
    assert all(len(r.why) == 1 for r in found.results)
    assert {r.result for r in found.results} <= {"model_training_emissions", "training_emissions", "emissions",
                                                 "emissions_market"}  # fmt: skip


def test_fail_above_exits_1_only_when_a_change_exceeds_it(trees, runner):
    base, head = trees
    edit(head / "catalogs" / "regions.yaml", "\n  aws-us-east-1:\n", "pue: 1.15", "pue: 1.265")  # +10% at most
    above = runner.invoke(main, ["diff", "base", "head", "--fail-above", "15"])
    assert above.exit_code == 0, above.stderr
    assert above.stdout.rstrip().endswith("ok: no result changed by more than 15% (--fail-above)")
    below = runner.invoke(main, ["diff", "base", "head", "--fail-above", "5", "--format", "json"])
    assert below.exit_code == 1
    data = json.loads(below.stdout)  # the report is printed before failing
    # eight results of each of scope3 and serving read the PUE (E_facility, emissions location- and market-based
    # and water, with their parts)
    assert data["exceeded"] is True and data["changed"] == 16 and data["scenarios"] == 5
    assert data["results"][0]["relative_change"] == pytest.approx(0.1)
    assert data["changes"][0]["what"] == "regions aws-us-east-1.pue"


def test_changes_that_move_nothing_are_listed_and_added_scenarios_too(trees, runner):
    base, head = trees
    edit(head / "catalogs" / "regions.yaml", "\n  aws-us-east-2:\n", "pue: 1.15", "pue: 1.3")  # no scenario there
    (head / "scenarios" / "rag-long-context.yaml").rename(head / "scenarios" / "rag.yaml")
    result = runner.invoke(main, ["diff", "base", "head", "--fail-above", "0"])
    assert result.exit_code == 0, result.stderr
    assert "added: rag.yaml\nremoved: rag-long-context.yaml\n" in result.stdout
    assert "[1] catalog regions aws-us-east-2.pue: 1.15 -> 1.3 (catalogs/regions.yaml:" in result.stdout
    assert "moves" not in result.stdout


SWEEP = """kind: scenario
schema_version: 1
model: llama-3.1-8b
location: fr
request: {input_tokens: 1000, output_tokens: 500}
sweep:
  grid:
    output_tokens: [100, 1000]
    hardware: [h100-sxm, a100-sxm-80gb]
"""


def test_a_sweep_reports_the_point_that_changed_most(trees):
    pytest.importorskip("impact.engine.sweep", reason="this impact has no sweeps")
    base, head = trees
    for tree in trees:
        (tree / "scenarios" / "sweep.yaml").write_text(SWEEP)
    edit(head / "catalogs" / "accelerators.yaml", "\n  a100-sxm-80gb:\n", "tdp_w: 400", "tdp_w: 440")
    found = diff("base", "head")
    # only the A100 points move (the catalog field of a swept entry is read), and only in the sweep
    assert {Path(r.scenario).stem for r in found.results} == {"sweep"}
    e = next(r for r in found.results if r.result == "E" and r.methodology == "scope3")
    assert e.size == 4 and e.index in (1, 3)  # points: (100, h100), (100, a100), (1000, h100), (1000, a100)
    assert e.label == f"sweep scope3.E[{e.index}]"
    p_server = next(r for r in found.results if r.result == "P_server")
    assert p_server.new - p_server.old == pytest.approx(40)  # one A100 (no gpus: given), 40 W more
    assert e.change == pytest.approx(40 / p_server.old, rel=1e-9)  # E = t_hat x P_server / s_per_h
    [tdp] = found.changes
    assert tdp.what == "accelerators a100-sxm-80gb.tdp_w" and len(tdp.moves) == len(found.results)


def test_a_scenario_that_fails_under_head_is_reported_and_fails_the_gate(trees, runner):
    base, head = trees
    edit(head / "scenarios" / "rag-long-context.yaml", "hardware:", "h100-sxm", "h100-sxn")
    result = runner.invoke(main, ["diff", "base", "head", "--fail-above", "50"])
    assert result.exit_code == 1
    assert "fails under HEAD (head): head/scenarios/rag-long-context.yaml:11:16: $.hardware.accelerator: unknown " in (
        result.stdout
    )
    assert result.stdout.endswith("FAIL (--fail-above): 1 scenario(s) fail under HEAD\n")
    assert runner.invoke(main, ["diff", "head", "base", "--fail-above", "50"]).exit_code == 0  # fixed in HEAD


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=a@b", "-c", "user.name=t", *args], cwd=repo, check=True,
                   capture_output=True)  # fmt: skip


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_base_as_a_git_revision_of_a_subfolder(tmp_path, monkeypatch, runner):
    repo = tmp_path / "repo"
    work = copy_tree(repo / "tree")  # the tree in a subfolder of its repository
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "one")
    edit(work / "catalogs" / "regions.yaml", "\n  aws-us-east-1:\n", "pue: 1.15", "pue: 1.265")
    git(repo, "commit", "-qam", "two")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the revision is unpacked
    monkeypatch.chdir(work)
    monkeypatch.delenv("IMPACT_ROOT", raising=False)
    for args in (["HEAD~1"], ["HEAD~1", "HEAD"], ["HEAD~1", "HEAD", "--root", str(work)]):
        result = runner.invoke(main, ["diff", *args, "--format", "json"])
        assert result.exit_code == 0, result.stderr
        data = json.loads(result.stdout)
        assert {r["result"] for r in data["results"]} == SCOPE3_PUE
        assert data["base"] == {"label": "HEAD~1", "kind": "revision"}
    assert not list(tmp_path.glob("impact-diff-*"))  # unpacked revisions are removed
    # a revision whose formulas file has a schema version this impact does not know
    edit(work / "formulas" / "memory.yaml", "kind:", "schema_version: 1", "schema_version: 2")
    git(repo, "commit", "-qam", "three")
    result = runner.invoke(main, ["diff", "HEAD~1", "HEAD"])
    assert result.exit_code == 1 and result.stdout == ""
    expected = (
        "HEAD:tree/formulas/memory.yaml:7:17: $.schema_version: schema_version 2 is not supported; expected one of 1"
    )
    note = f"impact: using the methodology tree {work.resolve()} (from the current directory)\n"  # found, not named
    assert result.stderr == note + expected + "\n"
    result = runner.invoke(main, ["diff", "HEAD~1"])  # the working tree, by its own path
    assert result.stderr == note + expected.replace("HEAD:tree/", "") + "\n"
    assert not list(tmp_path.glob("impact-diff-*"))
    bad = runner.invoke(main, ["diff", "mian"])
    assert bad.exit_code == 1 and "Traceback" not in bad.stderr
    assert bad.stderr == note + (f"BASE mian: 'mian' is neither a directory nor a revision of the git repository at "
                          f"{repo.resolve()}; expected a directory holding formulas/ and catalogs/, or a git revision "
                          "such as main, HEAD~1 or a commit hash\n  hint: did you mean 'main'?\n")  # fmt: skip


def test_a_bad_base_outside_git_is_one_clear_line(trees, runner):
    base, head = trees
    result = runner.invoke(main, ["diff", "no-such-rev", "head"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (
        "BASE no-such-rev: 'no-such-rev' is not a directory, and the working tree head is in no git repository; "
        "expected a directory holding formulas/ and catalogs/, or a git revision such as main, HEAD~1 or a commit "
        "hash\n  hint: run it in your methodology repository, or name the working tree with --root\n"
    )


def test_a_head_directory_with_an_unknown_schema_version_names_the_file(trees, runner):
    base, head = trees
    edit(head / "catalogs" / "regions.yaml", "kind:", "schema_version: 1", "schema_version: 3")
    result = runner.invoke(main, ["diff", "base", "head"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("head/catalogs/regions.yaml:")
    assert "$.schema_version: schema_version 3 is not supported; expected one of 1" in result.stderr


def test_compare_result_takes_the_largest_elementwise_change_and_converts_units():
    def res(value, unit="Wh"):
        return Result("E", np.asarray(value, float), unit, "", True)

    found = compare_result("s.yaml", "scope3", res([1.0, 2.0, 3.0]), res([1.0, 2.2, 2.9]))
    assert (found.index, found.old, found.new, found.size) == (1, 2.0, 2.2, 3)
    assert found.change == pytest.approx(0.1) and found.label == "s scope3.E[1]"
    assert compare_result("s.yaml", "scope3", res([1.0, 2.0]), res([1.0, 2.0])) is None
    same = compare_result("s.yaml", "scope3", res([2000.0]), res([2.0], "kWh"))  # the same energy
    assert (same.status, same.change) == ("unit changed", 0.0)
    other = compare_result("s.yaml", "scope3", res([1.0]), res([1.0], "gCO2e"))
    assert (other.status, other.change, other.magnitude()) == ("unit changed", None, float("inf"))
    longer = compare_result("s.yaml", "scope3", res([1.0]), res([1.0, 2.0]))
    assert longer.status == "length changed"
    from_zero = compare_result("s.yaml", "scope3", res([0.0]), res([1.0]))
    assert from_zero.change == float("inf")


def test_diff_has_help(runner):
    result = runner.invoke(main, ["diff", "--help"])
    assert result.exit_code == 0 and "--fail-above PCT" in result.stdout
