"""The fast readers of plain CSV and Parquet logs (engine.arrowlog) against the pandas readers they stand in
for: on random small logs, good and bad, both give the same totals and groups to the last bit, or refuse the
same cell with the same message; and a plain CSV batch never imports pandas."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO
from impact.engine import ImpactError, requestlog
from impact.engine.batch import run_batch, summary
from impact.engine.logcolumns import Coded, Columns, first_appearance, group_codes

pytest.importorskip("pyarrow")

BASE = REPO / "scenarios" / "chatbot-llama70b-h100.yaml"
METHODS = ["scope3"]  # one methodology keeps each example fast; the readers do not depend on it

MODELS = ["llama-3.1-8b", "llama-3.1-70b", "mistral-7b", "", "gpt-9", " llama-3.1-8b", "llama-3.1-8b "]
ODD = ["", "-1", "1.5", "2.0", "1e3", "abc", "True", "nan", "inf", "-0", "-0.0", " 7", "7 ", '"8"', "0x10",
       "+5", "1_000", "7\t", "5 W", "NaN"]  # fmt: skip
tokens = st.one_of(st.integers(0, 5000).map(str), st.integers(0, 5000).map(str), st.sampled_from(ODD))
COLUMNS = {
    "model": st.sampled_from(MODELS),
    "input_tokens": tokens,
    "output_tokens": tokens,
    "location": st.sampled_from(["us", "fr", "de", "", "xx"]),
    "requests": st.sampled_from(["1", "2", "3", "0", "-1", "2.5", ""]),
    "session": st.sampled_from(["a", "b", "1", "007", "", "1.50", "nan"]),
    "PUE": st.sampled_from(["1.2", "1.5", "0.9", "", "abc", "1.1"]),
}


@contextlib.contextmanager
def readers(fast: bool):
    before = requestlog.FAST_READERS
    requestlog.FAST_READERS = fast
    try:
        yield
    finally:
        requestlog.FAST_READERS = before


def outcome(tree, log, fast, **options):
    """The batch's JSON document (bad rows listed included), or the message of the error it stops with."""
    with readers(fast):
        try:
            batch = run_batch(log, BASE, tree, methodologies=METHODS, **options)
        except ImpactError as exc:
            return "error", str(exc)
    return "ok", summary(batch)


@st.composite
def csv_logs(draw):
    names = ["model", *draw(st.lists(st.sampled_from(list(COLUMNS)[1:]), min_size=1, max_size=4, unique=True))]
    lines = []
    for _ in range(draw(st.integers(1, 14))):
        cells = [draw(COLUMNS[c]) for c in names]
        shape = draw(st.sampled_from(["row"] * 12 + ["blank", "short", "long", "commas"]))
        if shape == "blank":
            cells = []
        elif shape == "short":
            cells = cells[:-1]
        elif shape == "long":
            cells = [*cells, "9"]
        elif shape == "commas":
            cells = [""] * len(names)
        lines.append(",".join(cells))
    newline = draw(st.sampled_from(["\n"] * 5 + ["\r\n"]))
    end = draw(st.sampled_from([newline, newline, ""]))
    header = draw(st.sampled_from([",", ",", ", ", " ,"])).join(names)  # a space around a name is dropped
    text = newline.join([header, *lines]) + end
    return text, names


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=csv_logs(), rows=st.integers(1, 5), skip=st.booleans(), by=st.sampled_from([(), ("model",), ("location",)]))
def test_a_csv_log_reads_the_same_through_both_readers(tree, log, rows, skip, by):
    text, names = log
    by = ("session",) if "session" in names and by == ("location",) else by
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.csv"
        path.write_bytes(text.encode())
        options = {"chunk_rows": rows, "skip_bad_rows": skip, "by": by}
        assert outcome(tree, path, True, **options) == outcome(tree, path, False, **options)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 12),
    data=st.data(),
    rows=st.integers(1, 5),
    skip=st.booleans(),
    kind=st.sampled_from(["int64", "float64", "string", "bool", "int32"]),
)
def test_a_parquet_log_reads_the_same_through_both_readers(tree, n, data, rows, skip, kind):
    import pyarrow as pa
    import pyarrow.parquet as pq

    models = data.draw(st.lists(st.sampled_from([*MODELS[:5], None]), min_size=n, max_size=n))
    raw = data.draw(st.lists(st.one_of(st.none(), st.integers(-2, 3000)), min_size=n, max_size=n))
    if kind == "string":
        cells = [None if v is None else data.draw(st.sampled_from([str(v), "abc", "5 W", "True"])) for v in raw]
    elif kind == "bool":
        cells = [None if v is None else v > 100 for v in raw]
    elif kind == "float64":
        cells = [None if v is None else v / 2 for v in raw]
    else:
        cells = raw
    types = {"int64": pa.int64(), "float64": pa.float64(), "string": pa.string(), "bool": pa.bool_(),
             "int32": pa.int32()}  # fmt: skip
    table = pa.table({"model": pa.array(models, pa.string()), "output_tokens": pa.array(cells, types[kind])})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.parquet"
        pq.write_table(table, path)
        options = {"chunk_rows": rows, "skip_bad_rows": skip, "by": ("model",)}
        assert outcome(tree, path, True, **options) == outcome(tree, path, False, **options)


def test_a_clean_csv_is_read_by_pyarrow_and_an_unusual_block_by_pandas_at_its_line(tree, tmp_path):
    # rows 2-7 are plain; row 8 holds a quoted cell, so lines 8 onwards go to pandas; line 11 is bad
    rows = ["llama-3.1-8b,10"] * 6 + ['"llama-3.1-8b",10', "llama-3.1-8b,10", "llama-3.1-8b,10", "llama-3.1-8b,-4"]
    log = tmp_path / "log.csv"
    log.write_text("model,output_tokens\n" + "\n".join(rows) + "\n")
    opened = requestlog.Log.open(log)
    frames = [type(c.frame).__name__ for c in opened.chunks(3, {"output_tokens"}, {"model"})]
    assert frames == ["Columns", "Columns", "DataFrame", "DataFrame"]  # lines 2-4, 5-7, then 8-10, 11
    with pytest.raises(ImpactError) as caught:
        run_batch(log, BASE, tree, methodologies=METHODS, chunk_rows=3)
    assert str(caught.value).startswith(f"{log}:11:14: $.output_tokens: -4 is less than 0")


def test_a_line_longer_than_the_header_is_located_wherever_it_is(tree, tmp_path):
    # pandas took a first data line with one field too many as an index column, shifting every value left;
    # now it is refused at its line, whether it starts the file, a chunk, or neither
    for number in (2, 4, 5):
        rows = ["llama-3.1-8b,10"] * 6
        rows[number - 2] += ",7"
        log = tmp_path / f"log{number}.csv"
        log.write_text("model,output_tokens\n" + "\n".join(rows) + "\n")
        for fast in (True, False):
            with readers(fast), pytest.raises(ImpactError) as caught:
                run_batch(log, BASE, tree, methodologies=METHODS, chunk_rows=2)
            assert str(caught.value) == (f"{log}:{number}:1: $: the line has 3 fields, more than the header's 2; "
                                         "expected one field per column of the header")  # fmt: skip


def test_a_space_around_a_header_name_is_read_alike(tree, tmp_path):
    # pandas kept "model " as the column's name, and the batch then failed with a KeyError
    log = tmp_path / "log.csv"
    log.write_text("model , output_tokens\nllama-3.1-8b,5\nmistral-7b,7\n")
    fast, slow = outcome(tree, log, True, by=("model",)), outcome(tree, log, False, by=("model",))
    assert fast == slow and fast[0] == "ok" and fast[1]["rows"] == 2


def test_without_pyarrow_a_csv_log_is_read_by_pandas(tree, monkeypatch):
    from impact.engine import arrowlog

    sample = REPO / "scenarios" / "logs" / "requests-sample.csv"
    monkeypatch.setattr(arrowlog, "_pyarrow", lambda: None)
    frames = {type(c.frame).__name__ for c in requestlog.Log.open(sample).chunks(7, {"input_tokens"}, {"model"})}
    assert frames == {"DataFrame"}
    assert outcome(tree, sample, True) == outcome(tree, sample, False)


def test_the_fast_readers_give_the_shipped_samples_golden_totals(tree):
    logs = REPO / "scenarios" / "logs"
    for name in ("requests-sample.csv", "requests-sample.parquet"):
        fast = outcome(tree, logs / name, True, by=("model", "location"))
        assert fast == outcome(tree, logs / name, False, by=("model", "location")) and fast[0] == "ok"


def test_a_plain_csv_batch_imports_neither_pandas_nor_what_it_does_not_use(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("model,input_tokens,output_tokens\nllama-3.1-8b,100,20\nmistral-7b,50,10\n")
    code = (
        "import sys; from impact.cli import main; sys.argv = ['impact', 'batch', sys.argv[1], '--scenario', "
        "sys.argv[2], '--format', 'json']\ntry: main()\nexcept SystemExit as e: assert not e.code, e.code\n"
        "print(sorted(m for m in ('pandas', 'scipy', 'dask', 'matplotlib', 'pint') if m in sys.modules))"
    )
    for _ in range(2):  # the first run fills the cache of validated files (a cold one checks units with pint)
        done = subprocess.run([sys.executable, "-c", code, str(log), str(BASE)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


@given(st.sampled_from([7, 40]).flatmap(lambda size: st.tuples(st.just(size), st.lists(st.integers(-1, size - 1)))))
def test_first_appearance_numbers_codes_as_pandas_factorize_does(case):
    import pandas as pd

    size, codes = case  # a few levels take one comparison each, more a scatter: both orders as pandas'
    levels = [f"level {i}" for i in range(size)]
    column = Coded(np.asarray(codes, dtype=np.intp), levels).ordered()
    expected_codes, expected_levels = pd.factorize(pd.Series([levels[c] if c >= 0 else None for c in codes]))
    assert column.codes.tolist() == expected_codes.tolist() and column.levels == list(expected_levels)
    renumbered, order = first_appearance(np.asarray(codes, dtype=np.intp), size)
    assert [levels[i] for i in order] == column.levels and renumbered.tolist() == column.codes.tolist()


def test_groups_over_two_text_columns_follow_pandas():
    import pandas as pd

    a = Coded(np.array([0, 1, 0, 2, 1, 0]), ["x", "y", "nan"])  # "nan" is a text like any other
    b = Coded(np.array([1, 1, 1, 0, 0, 1]), ["p", "q"])
    codes, levels = group_codes([a, b])
    texts = [pd.Series([column[i] for i in range(6)]).astype(str) for column in (a, b)]
    expected_codes, expected = pd.factorize(pd.MultiIndex.from_arrays(texts))
    assert codes.tolist() == expected_codes.tolist() and levels == [tuple(v) for v in expected]
    assert len(Columns({"a": a}, 6)) == 6 and "a" in Columns({"a": a}, 6)
