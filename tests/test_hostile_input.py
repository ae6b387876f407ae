"""What the campaigns against main found, kept as CLI tests: files that are not regular files, a catalog link
out of the tree, megabyte values, JSON that must stay JSON, a sweep's output that would not fit in memory,
library warnings on stderr. Each gives one located line and exit 1 (or the right answer), never a traceback
or a hang."""

from __future__ import annotations

import json
import os
import threading
import warnings
from pathlib import Path

import pytest

from impact.cli import main

REPO = Path(__file__).resolve().parent.parent
CHATBOT = "scenarios/chatbot-llama70b-h100.yaml"


def invoke(runner, args, timeout=60):
    """Run the CLI in a thread so that a hang fails the test instead of stalling the suite."""
    out = []
    thread = threading.Thread(target=lambda: out.append(runner.invoke(main, args)), daemon=True)
    thread.start()
    thread.join(timeout)
    assert out, f"impact {' '.join(args)} did not finish within {timeout} s"
    return out[0]


def refused(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.stderr and result.stdout == ""
    return result.stderr


@pytest.mark.parametrize("what", ["/dev/zero", "fifo", "directory"])
def test_a_scenario_that_is_not_a_regular_file_is_refused_at_once(tree_copy, runner, what):
    path = what
    if what == "fifo":
        os.mkfifo(tree_copy / "pipe.yaml")
        path = "pipe.yaml"
    elif what == "directory":
        (tree_copy / "d.yaml").mkdir()
        path = "d.yaml"
    message = refused(invoke(runner, ["run", path, "--root", str(tree_copy)]))
    assert message == {"/dev/zero": "/dev/zero: $: is a device, not a regular file; expected a path to a YAML file\n",
                       "fifo": "pipe.yaml: $: is a FIFO (named pipe), not a regular file; expected a path to a YAML "
                               "file\n",
                       "directory": "d.yaml: $: is a directory; expected a path to a YAML file\n"}[what]  # fmt: skip


def test_a_fifo_or_a_device_link_in_a_catalog_folder_is_refused(tree_copy, runner):
    os.mkfifo(tree_copy / "catalogs" / "zz-pipe.yaml")
    (tree_copy / "catalogs" / "zz-zero.yaml").symlink_to("/dev/zero")
    message = refused(invoke(runner, ["run", CHATBOT, "--root", str(tree_copy)]))
    assert message.splitlines() == [
        "catalogs/zz-pipe.yaml: $: is a FIFO (named pipe), not a regular file; expected a path to a YAML file",
        f"catalogs/zz-zero.yaml: $: is a symbolic link to /dev/zero, outside the tree {tree_copy}; expected a file "
        "inside the tree (copy it in)",
    ]


def test_a_catalog_link_out_of_the_tree_is_refused(tree_copy, runner, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "regions.yaml"
    catalog = tree_copy / "catalogs" / "regions.yaml"
    outside.write_bytes(catalog.read_bytes())
    catalog.unlink()
    catalog.symlink_to(outside)
    message = refused(invoke(runner, ["run", CHATBOT, "--root", str(tree_copy)]))
    assert message == (f"catalogs/regions.yaml: $: is a symbolic link to {outside}, outside the tree {tree_copy}; "
                       "expected a file inside the tree (copy it in)\n")  # fmt: skip


def test_a_link_inside_the_tree_is_followed(tree_copy, runner):
    catalog = tree_copy / "catalogs" / "regions.yaml"
    (tree_copy / "catalogs" / "shared").mkdir()
    catalog.rename(tree_copy / "catalogs" / "shared" / "regions.yml")
    catalog.symlink_to(tree_copy / "catalogs" / "shared" / "regions.yml")
    assert invoke(runner, ["run", CHATBOT, "--root", str(tree_copy)]).exit_code == 0


def test_a_megabyte_value_is_not_repeated_in_the_message(tree_copy, runner):
    big = "x" * 1_000_000
    text = (tree_copy / CHATBOT).read_text().replace("model: llama-3.1-70b", f"model: {big}")
    (tree_copy / "big.yaml").write_text(text)
    message = refused(invoke(runner, ["run", "big.yaml", "--root", str(tree_copy)]))
    assert "unknown model 'xxxx" in message and "..." in message and len(message) < 600


def strict_json(text: str):
    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_json_output_is_always_valid_json(tree_copy, runner):
    for args in ([CHATBOT], ["scenarios/sweep-output-length.yaml"], [CHATBOT, "--samples", "50", "--seed", "1"]):
        result = invoke(runner, ["run", *args, "--root", str(tree_copy), "--format", "json"])
        assert result.exit_code == 0, result.output
        strict_json(result.stdout)


def test_totals_beyond_the_floating_point_range_are_an_error_not_infinity(tree_copy, runner):
    text = (tree_copy / CHATBOT).read_text()
    assert "\nrequests: " in text
    text = text.split("\nrequests: ")[0] + "\nrequests: 1e307\n" + text.split("\nrequests: ")[1].split("\n", 1)[1]
    (tree_copy / "many.yaml").write_text(text)
    message = refused(invoke(runner, ["run", "many.yaml", "--root", str(tree_copy), "--format", "json",
                                      "--set", "E=1e300"]))  # fmt: skip
    assert message.startswith("many.yaml:") and "requests is not a finite number" in message


def test_a_non_finite_value_is_written_as_null():
    from impact.engine.jsontext import dumps

    assert dumps({"a": [1.5, float("inf")], "b": float("nan")}) == '{"a": [1.5, null], "b": null}'


def test_a_sweep_whose_output_would_not_fit_is_refused_before_it_is_written(tree_copy, runner, monkeypatch):
    from impact.engine import sweep

    # the shipped sweep's arrays fit in 100 kB; its JSON (250 B per value, about 450 values) does not
    monkeypatch.setattr(sweep, "available_memory", lambda: 100_000)
    result = invoke(runner, ["run", "scenarios/sweep-output-length.yaml", "--root", str(tree_copy), "--format",
                             "json"])  # fmt: skip
    message = refused(result)
    assert message.startswith("--format json: writing a sweep of ") and "would need about" in message
    assert "hint: --format csv needs the least memory per point" in message


def test_the_output_estimate_counts_every_value_written(tree):
    from impact.engine import run, sweep

    runs = run(REPO / "scenarios" / "sweep-output-length.yaml", tree=tree)
    n = len(next(iter(runs[0].points.values())))
    per_point = sum(len(r.inputs) + len(r.results) for r in runs) + len(runs[0].points) + 1
    assert sweep.output_values(runs, "json") == n * per_point
    # at 10^6 points the JSON of this sweep needs over 11 GB, what the campaign measured it using
    assert 1_000_000 * per_point * sweep.OUTPUT_BYTES_PER_VALUE["json"] > 11e9


@pytest.mark.parametrize("scenario", [CHATBOT, "scenarios/sweep-output-length.yaml"])
def test_numpy_warnings_never_reach_stderr(tree_copy, runner, scenario):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = invoke(runner, ["run", scenario, "--root", str(tree_copy), "--set", "E=1e308", "--set", "PUE=10"])
    assert result.exit_code == 1 and "is infinite" in result.stderr
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert "RuntimeWarning" not in result.stderr
