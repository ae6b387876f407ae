"""Writes that lose nothing (engine.safefile): refused targets, atomic replacement, cleanup on signals."""

import os
import signal
import subprocess
import sys
import time

import pytest

from impact.engine.errors import ImpactError
from impact.engine.safefile import replacing, write_text


def test_new_and_existing_files_are_written(tmp_path):
    target = tmp_path / "out.csv"
    write_text(target, "a\n")
    assert target.read_text() == "a\n"
    target.chmod(0o640)
    write_text(target, "b\n")
    assert target.read_text() == "b\n"
    assert (target.stat().st_mode & 0o777) == 0o640  # the replaced file's permissions are kept
    assert os.listdir(tmp_path) == ["out.csv"]  # no temporary file left


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), replacing(target) as fh:
        fh.write("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["out.csv"]


@pytest.mark.parametrize("kind", ["symlink", "directory", "fifo", "device", "missing-folder"])
def test_refused_targets(tmp_path, kind):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep\n")
    target = tmp_path / "out"
    if kind == "symlink":
        target.symlink_to(victim)
        message = "is a symbolic link"
    elif kind == "directory":
        target.mkdir()
        message = "is a directory"
    elif kind == "fifo":
        os.mkfifo(target)
        message = "FIFO"
    elif kind == "device":
        target = "/dev/null"
        message = "is a device, not a regular file"
    else:
        target = tmp_path / "nowhere" / "out.csv"
        message = "does not exist"
    with pytest.raises(ImpactError) as caught:
        write_text(target, "x")
    assert message in str(caught.value)
    assert victim.read_text() == "keep\n"
    if kind == "fifo":
        assert (tmp_path / "out").is_fifo()


def test_sigterm_removes_the_temporary_file(tmp_path):
    target = tmp_path / "big.csv"
    code = (
        "import sys, time\n"
        "from impact.engine.safefile import replacing\n"
        f"with replacing({str(target)!r}) as fh:\n"
        "    fh.write('x' * 1000); fh.flush(); print('writing', flush=True); time.sleep(30)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "writing"
    assert any(name.endswith(".tmp") for name in os.listdir(tmp_path))
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=10) == 128 + signal.SIGTERM
    time.sleep(0.05)
    assert os.listdir(tmp_path) == []  # neither the target nor a temporary file
