"""The located YAML loader: positions, duplicate keys, numbers, booleans, refusals."""

from __future__ import annotations

import pytest

from impact.engine import ImpactError
from impact.engine.loader import load_text, render_path


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
