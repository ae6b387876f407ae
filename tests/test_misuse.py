"""Misused command lines end with one located line and exit status 1, never a traceback or a half-written file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import REPO
from impact.cli import main

UNCERTAIN = str(REPO / "scenarios" / "uncertain-datacenter.yaml")
SWEEP = str(REPO / "scenarios" / "sweep-output-length.yaml")
NOT_A_FILE = "expected a new file in an existing folder, or an existing regular file to replace"


def one_line(result, text):
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr == text + "\n"


def test_a_negative_seed(runner):
    result = runner.invoke(main, ["run", UNCERTAIN, "--samples", "10", "--seed", "-1"])
    one_line(result, "--seed -1: the seed -1 is not a whole number of 0 or more; expected a seed such as 0 or 42")


def test_huge_samples_are_refused_by_the_memory_guard(runner):
    result = runner.invoke(main, ["run", UNCERTAIN, "--samples", "99999999999999999999999"])
    assert result.exit_code == 1 and result.stdout == "" and "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("--samples: --samples of 99,999,999,999,999,999,999,999 points would need about")


@pytest.mark.parametrize("command", [["run", SWEEP], ["validate"]])
def test_plot_into_a_missing_folder_onto_a_directory_or_an_unknown_format(runner, tmp_path, command):
    pytest.importorskip("matplotlib")
    missing = tmp_path / "nope" / "x.png"
    one_line(runner.invoke(main, [*command, "--plot", str(missing)]),
             f"--plot {missing}: the folder {missing.parent} does not exist; {NOT_A_FILE}")  # fmt: skip
    one_line(runner.invoke(main, [*command, "--plot", str(tmp_path)]),
             f"--plot {tmp_path}: {tmp_path} is a directory; {NOT_A_FILE}")  # fmt: skip
    result = runner.invoke(main, [*command, "--plot", str(tmp_path / "x.txt")])
    text = f"--plot {tmp_path / 'x.txt'}: matplotlib cannot write a '.txt' file; expected a file name ending in"
    assert result.exit_code == 1 and result.stderr.startswith(text)
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary file left


def test_a_plot_is_written_whole_through_the_safe_writer(runner, tmp_path):
    pytest.importorskip("matplotlib")
    link = tmp_path / "link.png"
    link.symlink_to(tmp_path / "elsewhere.png")
    one_line(runner.invoke(main, ["run", SWEEP, "--plot", str(link)]),
             f"--plot {link}: {link} is a symbolic link (impact never writes through one); {NOT_A_FILE}")  # fmt: skip
    target = tmp_path / "sweep.svg"
    result = runner.invoke(main, ["run", SWEEP, "--plot", str(target)])
    assert result.exit_code == 0 and target.read_text().startswith("<?xml")  # the format follows the name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.png", "sweep.svg"]


def impact(*args, stdout):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "impact.cli", *args], stdout=stdout, stderr=subprocess.PIPE,
                          env=env, cwd=REPO, timeout=120)  # fmt: skip


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_stdout_on_a_full_disk(fmt):
    with open("/dev/full", "w") as full:
        done = impact("run", "--format", fmt, stdout=full)
    assert done.returncode == 1
    assert done.stderr.decode() == ("stdout: cannot write the output (No space left on device); expected room on the "
                                    "device that stdout goes to\n")  # fmt: skip


def test_stdout_closed_by_its_reader():
    """`impact run | head -1`: the reader has gone (here before the first write, so that the test does not race
    the pipe's buffer); impact stops quietly, without a traceback, with status 1."""
    read, write = os.pipe()
    os.close(read)
    with os.fdopen(write, "w") as stdout:
        done = impact("memory", stdout=stdout)
    assert done.returncode == 1
    assert done.stderr.decode() == ""
