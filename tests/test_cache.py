"""The cache of validated files (engine.cache) is untrusted input: a poisoned, truncated, planted or hostile
entry, or a folder others may write, costs time and never changes a result or crashes a run."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from impact.cli import main
from impact.engine import cache
from impact.engine.tree import Tree

REPO = Path(__file__).resolve().parent.parent
SCENARIO = str(REPO / "scenarios" / "chatbot-llama70b-h100.yaml")


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    """A fresh cache folder of this test, filled by one run."""
    path = tmp_path / "cache"
    monkeypatch.setenv("IMPACT_CACHE_DIR", str(path))
    monkeypatch.delenv("IMPACT_CACHE", raising=False)
    return path


def energy(runner) -> dict:
    """Every result of every methodology the shipped chatbot scenario runs (scope3's E among them)."""
    result = runner.invoke(main, ["run", SCENARIO, "--root", str(REPO), "--format", "json"])
    assert result.exit_code == 0, result.output
    runs = json.loads(result.stdout)["runs"]
    assert any("E" in r["results"] for r in runs)
    return {r["methodology"]: r["results"] for r in runs}


def entry_of(folder: Path, needle: str) -> Path:
    """The cache entry whose content holds `needle` (`"catalog":"accelerators"` for that catalog)."""
    found = [p for p in folder.glob("*.json") if needle in p.read_text()]
    assert len(found) == 1, found
    return found[0]


def read_entry(path: Path) -> tuple[bytes, dict]:
    """(check, content) of an entry: its first line, then the JSON of {data, marks}."""
    check, _, body = path.read_bytes().partition(b"\n")
    return check, json.loads(body)


def write_entry(path: Path, check: bytes, content: dict) -> None:
    path.write_bytes(check + b"\n" + json.dumps(content, separators=(",", ":")).encode())


def test_the_folder_is_private_and_entries_are_written(folder, runner):
    energy(runner)
    assert folder.stat().st_mode & 0o777 == 0o700
    assert len(list(folder.glob("*.json"))) >= 5  # the catalogs, formulas and the scenario
    assert not list(folder.glob("*.tmp"))  # nothing half-written is left


def test_a_tampered_entry_is_ignored_and_replaced(folder, runner):
    # the attack of the campaign: an H100 TDP of 7000 W in the cached accelerators catalog gave energy x8.4
    clean = energy(runner)
    path = entry_of(folder, '"catalog":"accelerators"')
    check, content = read_entry(path)
    content["data"]["entries"]["h100-sxm"]["tdp_w"] = 7000
    write_entry(path, check, content)
    assert energy(runner) == clean
    assert read_entry(path)[1]["data"]["entries"]["h100-sxm"]["tdp_w"] != 7000  # replaced


def test_a_recomputed_plain_hash_does_not_make_a_tampered_entry_valid(folder, runner):
    # an attacker who knows the format but not the folder's secret key cannot forge the check
    import hashlib

    clean = energy(runner)
    path = entry_of(folder, '"catalog":"accelerators"')
    _, content = read_entry(path)
    content["data"]["entries"]["h100-sxm"]["tdp_w"] = 7000
    body = json.dumps(content, separators=(",", ":")).encode()
    path.write_bytes(hashlib.sha256(path.stem.encode() + b"\0" + body).hexdigest().encode() + b"\n" + body)
    assert energy(runner) == clean


def test_an_entry_copied_from_another_file_is_ignored(folder, runner):
    # a valid entry (with its own valid check) moved under the name of another file's bytes
    clean = energy(runner)
    accelerators = entry_of(folder, '"catalog":"accelerators"')
    regions = entry_of(folder, '"catalog":"regions"')
    regions.write_bytes(accelerators.read_bytes())
    assert energy(runner) == clean


@pytest.mark.parametrize(
    "content",
    [b"", b"abc", b"abc\n", b"[]", b"null\n{}", b'x\n{"data": 1, "marks": []}', b"\xff\xfe not json",
     b"[" * 100_000, b"\n" * 10],
)  # fmt: skip
def test_truncated_or_wrongly_shaped_entries_are_ignored(folder, runner, content):
    clean = energy(runner)
    for path in folder.glob("*.json"):
        path.write_bytes(content)
    assert energy(runner) == clean
    assert energy(runner) == clean  # and were replaced by good ones


def test_an_entry_that_is_a_link_a_fifo_or_a_directory_is_ignored_without_blocking(folder, runner, tmp_path):
    clean = energy(runner)
    entries = sorted(folder.glob("*.json"))
    os.unlink(entries[0])
    os.symlink("/dev/zero", entries[0])  # reading it would never end
    os.unlink(entries[1])
    os.mkfifo(entries[1])  # opening it for reading would block forever
    victim = tmp_path / "victim.txt"
    victim.write_text("not impact's")
    os.unlink(entries[2])
    os.symlink(victim, entries[2])  # a planted link: writing through it would overwrite the victim
    os.unlink(entries[3])
    entries[3].mkdir()
    done = []
    thread = threading.Thread(target=lambda: done.append(energy(runner)), daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert done == [clean]
    assert victim.read_text() == "not impact's"
    assert not entries[0].is_symlink() and not entries[1].is_fifo() and not entries[2].is_symlink()


def test_a_folder_others_may_write_is_not_used(folder, runner):
    folder.mkdir(mode=0o700)
    folder.chmod(0o777)
    assert cache.directory() is None
    energy(runner)
    assert not list(folder.glob("*.json"))  # the cache was off for the run


def test_a_folder_that_is_a_link_is_not_used(tmp_path, monkeypatch):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    monkeypatch.setenv("IMPACT_CACHE_DIR", str(tmp_path / "link"))
    assert cache.directory() is None


def test_a_key_that_is_not_a_regular_file_is_replaced(folder, runner):
    clean = energy(runner)
    key = folder / "key"
    key.unlink()
    os.symlink("/dev/zero", key)
    assert energy(runner) == clean
    assert key.is_file() and not key.is_symlink() and key.stat().st_size == 32
    assert key.stat().st_mode & 0o077 == 0


def test_cached_documents_keep_positions_of_values_and_keys(folder):
    path = REPO / "catalogs" / "accelerators.yaml"
    first = Tree(REPO).load(path, "catalog")
    again = Tree(REPO).load(path, "catalog")  # from the cache
    assert again.data == first.data
    assert again.marks == first.marks and again.keys
    assert all(again.key_loc(parts) == first.key_loc(parts) for parts in first.marks)


@pytest.mark.parametrize("content", [b"[]", b'{"data": [], "marks": []}', b'{"data": {}, "marks": [[1, 2]]}',
                                     b'{"data": {}, "marks": [[[], "x", 1]]}', b'{"data": {}}'])  # fmt: skip
def test_an_entry_with_a_valid_check_but_the_wrong_shape_is_ignored(folder, runner, content):
    # even an entry signed with the folder's own key (a bug of a future version, say) must have the right shape
    import hashlib
    import hmac

    clean = energy(runner)
    secret = (folder / "key").read_bytes()
    for path in folder.glob("*.json"):
        check = hmac.new(secret, path.stem.encode() + b"\0" + content, hashlib.sha256).hexdigest().encode()
        path.write_bytes(check + b"\n" + content)
    assert energy(runner) == clean
