"""Request logs: `impact batch` and the dataframe entry point, checked against single runs and hand
arithmetic; bad rows reported by file, line and column."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import REPO
from impact.cli import main
from impact.engine import ImpactError, run
from impact.engine.batch import run_batch, summary

BASE = REPO / "scenarios" / "chatbot-llama70b-h100.yaml"
SAMPLE = REPO / "scenarios" / "logs" / "requests-sample.csv"


def write(path, text):
    path.write_text(text)
    return path


def single(tree, model, n_in, n_out, location):
    scenario = {"kind": "scenario", "schema_version": 1, "model": model, "location": location,
                "hardware": {"server": "dgx-h100", "gpus": 8},
                "request": {"input_tokens": n_in, "output_tokens": n_out}}  # fmt: skip
    runs = run(scenario, tree=tree)
    return {r.methodology: {k: v.value[0] for k, v in r.results.items()} for r in runs}


def test_totals_are_the_weighted_sum_of_single_runs(tree, tmp_path):
    log = write(tmp_path / "log.csv", "model,input_tokens,output_tokens,location,requests\n"
                "llama-3.1-8b,100,200,fr,3\nllama-3.1-70b,1000,50,us,2\nllama-3.1-8b,100,200,fr,1\n")  # fmt: skip
    batch = run_batch(log, BASE, tree, by=["model"])
    a = single(tree, "llama-3.1-8b", 100, 200, "fr")["scope3"]
    b = single(tree, "llama-3.1-70b", 1000, 50, "us")["scope3"]
    totals = batch.totals
    assert totals.rows == 3 and totals.requests == 6
    for name in ("E", "emissions", "water", "t_hat"):
        assert totals.sums["scope3"][name] == pytest.approx(4 * a[name] + 2 * b[name], rel=1e-12)
    groups = summary(batch)["groups"]
    assert [g["key"] for g in groups] == [{"model": "llama-3.1-8b"}, {"model": "llama-3.1-70b"}]
    assert groups[0]["totals"]["scope3"]["E"]["value"] == pytest.approx(4 * a["E"], rel=1e-12)


def test_decode_time_of_one_row_by_hand(tree, tmp_path):
    # t_out = b * P_m * n_out / (N_gpu * A_bw_gpu) = 2 * 8.03e9 * 200 / (8 * 3.35e12) = 0.11985... s for
    # llama-3.1-8b (8.03e9 parameters) on the base scenario's 8 x H100 SXM
    log = write(tmp_path / "log.csv", "model,output_tokens\nllama-3.1-8b,200\n")
    out = tmp_path / "out.csv"
    run_batch(log, BASE, tree, out=out, results=["t_out"])
    header, row = out.read_text().splitlines()
    assert header == "line,scope3.t_out [s]"
    line, t_out = row.split(",")
    assert line == "2" and float(t_out) == pytest.approx(2 * 8.03e9 * 200 / (8 * 3.35e12), rel=1e-8)


def test_chunks_give_the_same_totals_as_one_pass(tree):
    whole = run_batch(SAMPLE, BASE, tree, by=["location"]).totals
    chunked = run_batch(SAMPLE, BASE, tree, by=["location"], chunk_rows=5).totals
    for m in whole.sums:
        for name, value in whole.sums[m].items():
            assert chunked.sums[m][name] == pytest.approx(value, rel=1e-12, abs=1e-300), (m, name)
    assert chunked.requests == whole.requests == 6269


def test_json_lines_log(tree, tmp_path):
    log = write(tmp_path / "log.jsonl", '{"model": "llama-3.1-8b", "output_tokens": 200, "input_tokens": 100}\n'
                '{"model": "llama-3.1-8b", "output_tokens": 200, "input_tokens": 100, "location": "fr"}\n')  # fmt: skip
    batch = run_batch(log, BASE, tree)
    us = single(tree, "llama-3.1-8b", 100, 200, "aws-us-east-1")["scope3"]["E"]
    assert batch.totals.sums["scope3"]["E"] == pytest.approx(2 * us, rel=1e-12)  # E does not depend on location


BAD = ("model,input_tokens,output_tokens\nllama-3.1-8b,100,200\nllama-3.1-8b,abc,200\nllama-3.2-8b,1,2\n,1,2\n"
       "llama-3.1-8b,1,-5\n")  # fmt: skip


def test_a_bad_row_stops_with_file_line_and_column(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "log.csv", BAD)
    result = runner.invoke(main, ["batch", "log.csv", "--scenario", str(BASE)])
    assert result.exit_code == 1
    assert result.stderr == (
        "log.csv:3:14: $.input_tokens: 'abc' is not a number, or a number with a unit; "
        "expected a non-negative whole number of tokens\n"
    )
    assert result.stdout == ""


def test_skip_bad_rows_counts_and_lists_them(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "log.csv", BAD)
    result = runner.invoke(main, ["batch", "log.csv", "--scenario", str(BASE), "--skip-bad-rows", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["rows"], data["skipped"]) == (1, 4)
    assert data["bad_rows"] == [
        "log.csv:3:14: $.input_tokens: 'abc' is not a number, or a number with a unit; "
        "expected a non-negative whole number of tokens",
        "log.csv:4:1: $.model: unknown model 'llama-3.2-8b' (did you mean 'llama-3.2-3b', 'llama-3.2-1b', "
        "'llama-3.1-8b'?); expected an id from models",
        "log.csv:5:1: $.model: the value is missing; expected an id from models",
        "log.csv:6:16: $.output_tokens: -5 is less than 0; expected a non-negative whole number of tokens",
    ]
    assert "skipped: log.csv:6:16" in result.stderr


def test_an_unknown_column_is_refused_unless_ignored(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "log.csv", "model,ouput_tokens\nllama-3.1-8b,3\n")
    result = runner.invoke(main, ["batch", "log.csv", "--scenario", str(BASE)])
    assert result.exit_code == 1
    assert result.stderr.startswith("log.csv:1:7: $.ouput_tokens: unknown column 'ouput_tokens'")
    assert "hint: did you mean 'output_tokens'" in result.stderr
    result = runner.invoke(main, ["batch", "log.csv", "--scenario", str(BASE), "--ignore", "ouput_tokens"])
    assert result.exit_code == 0, result.output


def test_out_is_not_half_written_on_error(tree, tmp_path):
    log = write(tmp_path / "log.csv", "model,output_tokens\n" + "llama-3.1-8b,5\n" * 10 + "nope,5\n")
    out = tmp_path / "out.csv"
    with pytest.raises(ImpactError):
        run_batch(log, BASE, tree, out=out, chunk_rows=4)
    assert not out.exists() and list(tmp_path.glob(".out.csv*")) == []


def test_dataframe_partitions_give_the_batch_results(tree):
    pd = pytest.importorskip("pandas")
    from impact import evaluate_frame, frame_meta

    frame = pd.read_csv(SAMPLE)
    out = evaluate_frame(frame, str(BASE))
    assert list(out.columns) == list(frame_meta(str(BASE)).columns)
    assert out.attrs["units"]["scope3.E"] == "Wh"
    total = float((out["scope3.E"] * frame["requests"]).sum())
    assert total == pytest.approx(run_batch(SAMPLE, BASE, tree).totals.sums["scope3"]["E"], rel=1e-12)
    arrays = evaluate_frame({c: frame[c].to_numpy() for c in frame}, str(BASE))
    assert np.array_equal(arrays["scope3.E"], out["scope3.E"].to_numpy())


def test_dask_map_partitions(tree):
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    from impact import evaluate_frame, frame_meta

    frame = pd.read_csv(SAMPLE)
    ddf = dd.from_pandas(frame, npartitions=3)
    results = ddf.map_partitions(evaluate_frame, str(BASE), meta=frame_meta(str(BASE)))
    weighted = (results["scope3.E"] * ddf["requests"]).sum().compute(scheduler="synchronous")
    assert weighted == pytest.approx(run_batch(SAMPLE, BASE, tree).totals.sums["scope3"]["E"], rel=1e-12)


@pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")  # dask's own use of pandas
def test_dask_reads_a_parquet_dataset_split_into_partitions(tree, tmp_path):
    # the sample log as three Parquet files, one dask partition each: the weighted sum of the rows' E is the
    # batch's total
    dd = pytest.importorskip("dask.dataframe")
    pacsv, pq = pytest.importorskip("pyarrow.csv"), pytest.importorskip("pyarrow.parquet")
    from impact import evaluate_frame, frame_meta

    table, folder = pacsv.read_csv(SAMPLE), tmp_path / "log"
    folder.mkdir()
    size = -(-len(table) // 3)
    for i in range(3):
        pq.write_table(table.slice(i * size, size), folder / f"part-{i}.parquet")
    ddf = dd.read_parquet(folder)
    assert ddf.npartitions == 3

    def weighted(frame):
        return evaluate_frame(frame, str(BASE))["scope3.E"] * frame["requests"]

    meta = frame_meta(str(BASE))["scope3.E"]
    total = ddf.map_partitions(weighted, meta=meta).sum().compute(scheduler="synchronous")
    assert total == pytest.approx(run_batch(SAMPLE, BASE, tree).totals.sums["scope3"]["E"], rel=1e-12)


def test_a_column_that_overrides_a_formula_is_totalled(tree, tmp_path):
    # E given per row replaces the formula: the total is 0.5 + 0.25 = 0.75 Wh, and E_facility = PUE * E follows
    log = write(tmp_path / "log.csv", "model,E\nllama-3.1-8b,0.5\nllama-3.1-8b,0.25\n")
    sums = run_batch(log, BASE, tree).totals.sums["scope3"]
    assert sums["E"] == pytest.approx(0.75, rel=1e-12)
    pue = run(BASE, tree=tree, methodologies=["scope3"])[0].inputs["PUE"].value[0]
    assert sums["E_facility"] == pytest.approx(0.75 * pue, rel=1e-12)


# -- one strict schema per file (issue 11, item 4) ----------------------------------------------------------


def test_a_utf8_bom_is_read_as_excel_writes_it(tree, tmp_path):
    plain = write(tmp_path / "plain.csv", "model,output_tokens\nllama-3.1-8b,5\n")
    excel = tmp_path / "excel.csv"
    excel.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    a, b = run_batch(plain, BASE, tree).totals, run_batch(excel, BASE, tree).totals
    assert a.sums == b.sums and b.rows == 1


def test_a_jsonl_row_without_a_key_takes_the_base_scenarios_value(tree, tmp_path):
    # line 1 lacks model and input_tokens: the base scenario's llama-3.1-70b with 1000 input tokens;
    # line 3 is blank (skipped, but counted in line numbers); line 4 lacks requests: a weight of 1
    log = write(tmp_path / "log.jsonl", '{"output_tokens": 5}\n{"model": "llama-3.1-8b", "output_tokens": 5, '
                '"input_tokens": 10, "requests": 2}\n\n{"model": "llama-3.1-8b", "output_tokens": 7}\n')  # fmt: skip
    out = tmp_path / "out.csv"
    batch = run_batch(log, BASE, tree, out=out, results=["E"])
    assert (batch.totals.rows, batch.totals.requests) == (3, 4)
    a = single(tree, "llama-3.1-70b", 1000, 5, "aws-us-east-1")["scope3"]["E"]
    b = single(tree, "llama-3.1-8b", 10, 5, "aws-us-east-1")["scope3"]["E"]
    c = single(tree, "llama-3.1-8b", 1000, 7, "aws-us-east-1")["scope3"]["E"]
    assert batch.totals.sums["scope3"]["E"] == pytest.approx(a + 2 * b + c, rel=1e-12)
    lines = [row.split(",")[0] for row in out.read_text().splitlines()[1:]]
    assert lines == ["1", "2", "4"]


def test_quantities_in_cells_are_converted_like_set(tree, tmp_path):
    plain = write(tmp_path / "plain.csv", "model,P_gpu\nllama-3.1-8b,700\nllama-3.1-8b,700\n")
    units = write(tmp_path / "units.csv", "model,P_gpu\nllama-3.1-8b,0.7 kW\nllama-3.1-8b,700 W\n")
    jsonl = write(tmp_path / "units.jsonl", '{"model": "llama-3.1-8b", "P_gpu": "0.7 kW"}\n'
                  '{"model": "llama-3.1-8b", "P_gpu": 700}\n')  # fmt: skip
    expected = run_batch(plain, BASE, tree).totals.sums["scope3"]["E"]
    for log in (units, jsonl):
        assert run_batch(log, BASE, tree).totals.sums["scope3"]["E"] == pytest.approx(expected, rel=1e-12)


def test_a_column_of_mixed_types_across_chunks_reads_quietly(tree, tmp_path, capfd):
    rows = "llama-3.1-8b,700\n" * 30 + "llama-3.1-8b,0.7 kW\n" + "llama-3.1-8b,700\n" * 30
    log = write(tmp_path / "log.csv", "model,P_gpu\n" + rows)
    batch = run_batch(log, BASE, tree, chunk_rows=7)
    assert batch.totals.rows == 61
    assert capfd.readouterr().err == ""


def test_a_header_field_over_the_csv_limit_is_one_located_error(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "log.csv", "model," + "x" * 131_073 + "\nllama-3.1-8b,1\n")
    result = runner.invoke(main, ["batch", "log.csv", "--scenario", str(BASE)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr == (
        "log.csv:1:1: $: a header field is longer than 131,072 characters; expected a header line naming the columns\n"
    )


@pytest.mark.parametrize("target", ["folder", "link"])
def test_out_refuses_a_folder_or_a_link_before_reading(runner, tmp_path, monkeypatch, target):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "log.csv", "model,output_tokens\nllama-3.1-8b,5\n")
    victim = write(tmp_path / "victim.txt", "keep me\n")
    (tmp_path / "folder").mkdir()
    (tmp_path / "link").symlink_to(victim)
    result = runner.invoke(main, ["batch", "log.csv", "--scenario", str(BASE), "--out", target])
    assert result.exit_code == 1 and result.stdout == ""
    what = "a directory" if target == "folder" else "a symbolic link (impact never writes through one)"
    assert result.stderr.startswith(f"--out {target}: {target} is {what}; expected a new file")
    assert (
        victim.read_text() == "keep me\n" and sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    )
