"""The located YAML loader: positions, duplicate keys, numbers, booleans, refusals."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from impact.engine import ImpactError
from impact.engine.loader import load_file, load_text, render_path


def test_positions_point_at_values():
    doc = load_text("a:\n  b: 7\n  c: [1, 2]\n", "f.yaml")
    assert doc.data == {"a": {"b": 7, "c": [1, 2]}}
    assert doc.loc(("a", "b")).render() == "f.yaml:2:6: $.a.b"
    assert doc.loc(("a", "c", 1)).render() == "f.yaml:3:10: $.a.c[1]"
    assert doc.loc(("a", "missing")).render() == "f.yaml:1:1: $.a.missing"  # nearest known ancestor: `a:`


def test_exponent_numbers_and_yaml_1_2_booleans():
    doc = load_text("x: 1e3\ny: 2.5E-4\nno: yes\non: true\nd: 2024-01-01\n", "f.yaml")
    assert doc.data == {"x": 1000.0, "y": 0.00025, "no": "yes", "on": True, "d": "2024-01-01"}


def test_duplicate_keys_name_both_lines():
    with pytest.raises(ImpactError) as err:
        load_text("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert (
        err.value.render() == "f.yaml:3:1: $.a: duplicate key 'a' (first at line 1); expected each key once per mapping"
    )


def test_alias_bombs_are_refused():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]  # 10**9 nodes
    with pytest.raises(ImpactError) as err:
        load_text("\n".join(lines) + "\n", "bomb.yaml")
    assert "document expands to more than 1,000,000 nodes" in err.value.render()


def test_python_tags_are_refused_not_executed():
    with pytest.raises(ImpactError) as err:
        load_text("a: !!python/object/apply:os.system ['echo pwned']\n", "f.yaml")
    assert "the tag '!!python/object/apply:os.system' is not allowed" in err.value.render()


def test_render_path_quotes_ids_with_dots():
    assert render_path(("entries", "llama-3.1-70b", "layers")) == "$.entries['llama-3.1-70b'].layers"


def refused(text: str) -> str:
    with pytest.raises(ImpactError) as info:
        load_text(text, "f.yaml")
    message = info.value.render()
    assert "\n" not in message  # one line
    return message


def test_a_recursive_alias_is_refused_not_a_recursion_error():
    assert refused("a: &a [*a]\n").startswith("f.yaml:1:4: $.a[0]: an alias refers to the anchor it is inside of")
    assert refused("a: &x {b: *x}\n").startswith("f.yaml:1:4: $.a.b: an alias refers")
    assert load_text("x: &v [1]\ny: [*v, *v]\n", "f.yaml").data == {"x": [1], "y": [[1], [1]]}  # reuse is fine


def test_deep_nesting_is_refused():
    assert "nests deeper than" in refused("[" * 300 + "]" * 300)
    assert "nesting depth" in refused("[" * 100_000)  # libyaml's own limit, reported as invalid YAML


@pytest.mark.parametrize("text, where", [("a: .inf\n", "1:4: $.a"), ("a: [1, -.Inf]\n", "1:8: $.a[1]"),
                                         ("b: 1\na: {c: .nan}\n", "2:8: $.a.c"),
                                         ("a: 1e400\n", "1:4: $.a")])  # fmt: skip
def test_non_finite_numbers_are_never_facts(text, where):
    assert refused(text).startswith(f"f.yaml:{where}: ")
    assert "is not a finite number" in refused(text)


@pytest.mark.parametrize("digits", [400, 100_000])
def test_integers_beyond_the_floating_point_range_are_refused(digits):
    # 400 digits: beyond float64; 100,000 digits: beyond what Python converts at all (a ValueError before)
    message = refused("a: 1" + "0" * digits + "\n")
    assert message.startswith("f.yaml:1:4: $.a: '1000") and "beyond the floating-point range" in message
    assert len(message) < 300


def test_a_control_character_is_located_at_its_own_line_and_column():
    assert refused("x: 1\nb: ab\x07\n") == (
        "f.yaml:2:6: $: the control character U+0007 is not allowed; expected text without control characters"
    )
    # libyaml counts bytes; the column is in characters
    assert refused("x: 'é€'\nb: \x07\n").startswith("f.yaml:2:4: ")


def test_a_byte_order_mark_is_skipped(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\nb: [2]\n")
    doc = load_file(path)
    assert doc.data == {"a": 1, "b": [2]}
    assert doc.marks[("a",)] == (1, 4)


def test_keys_keep_their_own_position_beside_the_value():
    doc = load_text("top:\n  gpus: -2\n", "f.yaml")
    assert doc.loc(("top", "gpus")).column == 9  # the value, for a message about the value
    assert doc.key_loc(("top", "gpus")).column == 3  # the key, for a message about the key


@pytest.mark.parametrize("make", ["fifo", "directory", "device", "link to a device"])
def test_only_regular_files_are_read_and_nothing_blocks(tmp_path, make):
    path = tmp_path / "x.yaml"
    if make == "fifo":
        os.mkfifo(path)
    elif make == "directory":
        path.mkdir()
    elif make == "device":
        path = Path("/dev/zero")
    else:
        path.symlink_to("/dev/zero")
    with pytest.raises(ImpactError) as info:
        load_file(path)  # would block (FIFO) or never end (/dev/zero) if it were read
    assert {"fifo": "FIFO", "directory": "a directory"}.get(make, "a device") in str(info.value)


def test_messages_do_not_repeat_a_megabyte_value():
    big = "x" * 1_000_000
    message = refused(f"? {big}\n: 1\n? {big}\n: 2\n")
    assert "duplicate key" in message and len(message) < 300
