"""Log formats: each shipped sample (OpenTelemetry spans, LiteLLM spend logs, Parquet, compressed CSV) gives
the totals of the same requests written as a plain CSV log, translated by hand from the format's fields;
mapping files rename, convert and resolve; a format a file is not, or a model no mapping resolves, is located."""

from __future__ import annotations

import gzip
import shutil

import pytest

from conftest import REPO
from impact.cli import main
from impact.engine.batch import run_batch, summary

BASE = REPO / "scenarios" / "chatbot-llama70b-h100.yaml"
LOGS = REPO / "scenarios" / "logs"
METHODS = ["scope3", "llm_bench"]


def plain(tmp_path, rows: str, name="plain.csv"):
    path = tmp_path / name
    path.write_text("model,input_tokens,cached_input_tokens,reasoning_tokens,output_tokens,session\n" + rows)
    return path


def assert_same_totals(a, b):
    assert (a.totals.rows, a.totals.requests) == (b.totals.rows, b.totals.requests)
    for m, sums in b.totals.sums.items():
        for name, value in sums.items():
            assert a.totals.sums[m][name] == pytest.approx(value, rel=1e-12, abs=1e-300), (m, name)


def test_otel_spans_sample(tree, tmp_path):
    # the tool-call span has no gen_ai.request.model and is passed over; reasoning tokens are part of
    # gen_ai.usage.output_tokens (1540 = 440 output + 1100 reasoning); Llama-3.1-*B-Instruct resolve to llama-3.1-*b
    by_hand = plain(tmp_path, "llama-3.1-8b,1830,0,0,212,5b8aa5a2d2c872e8321cf37308d69df2\n"
                    "llama-3.1-8b,2950,1792,0,388,5b8aa5a2d2c872e8321cf37308d69df2\n"
                    "llama-3.1-70b,6120,4096,1100,440,0af7651916cd43dd8448eb211c80319c\n")  # fmt: skip
    spans = run_batch(LOGS / "otel-spans.jsonl", BASE, tree, log_format="otel", methodologies=METHODS,
                      by=["session"])  # fmt: skip
    assert_same_totals(spans, run_batch(by_hand, BASE, tree, methodologies=METHODS))
    groups = {g["key"]["session"]: g["requests"] for g in summary(spans)["groups"]}
    assert groups == {"5b8aa5a2d2c872e8321cf37308d69df2": 2, "0af7651916cd43dd8448eb211c80319c": 1}


def test_litellm_spendlogs_sample(tree, tmp_path):
    # cached and reasoning tokens from metadata.usage_object; completion_tokens 2000 = 600 output + 1400 reasoning
    by_hand = plain(tmp_path, "llama-3.1-8b,1310,1024,0,212,sess-41c2\nllama-3.1-8b,1702,1536,0,402,sess-41c2\n"
                    "llama-3.1-70b,3890,0,1400,600,sess-77ab\n")  # fmt: skip
    spend = run_batch(LOGS / "litellm-spendlogs.jsonl", BASE, tree, log_format="litellm", methodologies=METHODS)
    assert_same_totals(spend, run_batch(by_hand, BASE, tree, methodologies=METHODS))


def test_parquet_and_compressed_csv_give_the_csv_totals(tree, tmp_path):
    pytest.importorskip("pyarrow")
    csv = run_batch(LOGS / "requests-sample.csv", BASE, tree)
    assert_same_totals(run_batch(LOGS / "requests-sample.parquet", BASE, tree), csv)
    packed = tmp_path / "requests.csv.gz"
    with gzip.open(packed, "wb") as fh:
        fh.write((LOGS / "requests-sample.csv").read_bytes())
    assert_same_totals(run_batch(packed, BASE, tree, chunk_rows=7), csv)


def test_a_mapping_file_renames_converts_and_maps_models(tree, tmp_path):
    log = tmp_path / "gateway.csv"
    log.write_text("deployment_model,prompt,completion,gpu_watts,region\nmy-llama,100,200,0.7 kW,fr\n"
                   "my-llama,100,200,700,fr\n")  # fmt: skip
    mapping = tmp_path / "gateway.yaml"
    mapping.write_text("kind: logformat\nschema_version: 1\nname: gateway\ntitle: Our gateway\nsource: ours\n"
                       "columns:\n  deployment_model: {to: model}\n  prompt: {to: input_tokens}\n"
                       "  completion: {to: output_tokens}\n  gpu_watts: {to: P_gpu, unit: kW}\n"
                       "  region: {to: location}\nmodels: {my-llama: llama-3.1-8b}\n")  # fmt: skip
    # gpu_watts is declared in kW: a bare 700 is 700 kW = 700,000 W, and a cell "0.7 kW" is 700 W
    by_hand = tmp_path / "by-hand.csv"
    by_hand.write_text("model,input_tokens,output_tokens,P_gpu,location\nllama-3.1-8b,100,200,700,fr\n"
                       "llama-3.1-8b,100,200,700000,fr\n")  # fmt: skip
    assert_same_totals(run_batch(log, BASE, tree, mapping=mapping), run_batch(by_hand, BASE, tree))


def test_a_model_no_mapping_resolves_names_its_row(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(LOGS / "litellm-spendlogs.jsonl", tmp_path / "spend.jsonl")
    text = (tmp_path / "spend.jsonl").read_text().replace("Llama-3.1-70B-Instruct", "Llama-9-400B")
    (tmp_path / "spend.jsonl").write_text(text)
    args = ["batch", "spend.jsonl", "--scenario", str(BASE), "--log-format", "litellm"]
    result = runner.invoke(main, args)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.startswith("spend.jsonl:3:")
    assert "$.model: unknown model 'hosted_vllm/meta-llama/Llama-9-400B'" in result.stderr
    result = runner.invoke(main, [*args, "--skip-bad-rows", "--format", "json"])
    assert result.exit_code == 0 and '"skipped": 1' in result.stdout


@pytest.mark.parametrize("args, message", [
    (["--log-format", "otel"], "log.csv:1:1: $: not JSON; expected OTLP JSON (resourceSpans) or one span per line\n"),
    (["--log-format", "litelm"], "--log-format litelm: unknown log format 'litelm'; expected one of csv, jsonl, "
     "litellm, otel, parquet, or a mapping file FILE.yaml\n  hint: did you mean 'litellm', 'otel'?\n"),
    (["--log-format", "parquet"], "log.csv: $: not a Parquet file (ArrowInvalid); expected a Parquet file, one "
     "request per row\n"),
])  # fmt: skip
def test_a_file_that_is_not_the_format_it_claims(runner, tmp_path, monkeypatch, args, message):
    pytest.importorskip("pyarrow")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "log.csv").write_text("model,output_tokens\nllama-3.1-8b,5\n")
    result = runner.invoke(main, ["batch", "log.csv", "--scenario", str(BASE), *args])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr == message


def test_a_mapping_to_an_unknown_key_is_refused(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "log.csv").write_text("m,out\nllama-3.1-8b,5\n")
    (tmp_path / "map.yaml").write_text("kind: logformat\nschema_version: 1\nname: mine\ntitle: t\nsource: s\n"
                                       "columns:\n  m: {to: model}\n  out: {to: ouput_tokens}\n")  # fmt: skip
    result = runner.invoke(main, ["batch", "log.csv", "--scenario", str(BASE), "--map", "map.yaml"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.startswith("log.csv:1:3: $.ouput_tokens: unknown column 'ouput_tokens'")
    assert "did you mean 'output_tokens'" in result.stderr


def test_sessions_give_the_distribution_of_per_session_totals(tree, tmp_path):
    log = tmp_path / "agent.csv"
    log.write_text("session,model,input_tokens,output_tokens,requests\na,llama-3.1-8b,100,10,2\n"
                   "b,llama-3.1-8b,100,10,1\na,llama-3.1-8b,300,30,1\n")  # fmt: skip
    data = summary(run_batch(log, BASE, tree, methodologies=["scope3"], sessions=True))
    one = run_batch(plain(tmp_path, "llama-3.1-8b,100,0,0,10,x\n"), BASE, tree, methodologies=["scope3"])
    two = run_batch(plain(tmp_path, "llama-3.1-8b,300,0,0,30,x\n", "b.csv"), BASE, tree, methodologies=["scope3"])
    e1, e3 = one.totals.sums["scope3"]["E"], two.totals.sums["scope3"]["E"]
    s = data["sessions"]
    # calls per session: a = 2 + 1 = 3, b = 1; linear percentiles over [1, 3]: p50 = 2, p95 = 1 + 0.95 * 2 = 2.9
    assert s["count"] == 2 and s["calls"] == pytest.approx({"mean": 2, "p50": 2, "p95": 2.9, "max": 3})
    # E per session: a = 2 * e1 + e3, b = e1
    a, b = 2 * e1 + e3, e1
    assert s["results"]["scope3.E"]["mean"] == pytest.approx((a + b) / 2, rel=1e-12)
    assert s["results"]["scope3.E"]["p95"] == pytest.approx(b + 0.95 * (a - b), rel=1e-12)
    assert data["by"] == [] and data["groups"] == []  # per-session rows only with --by session
