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
     "litellm, openai-usage, otel, parquet, or a mapping file FILE.yaml\n  hint: did you mean 'litellm', "
     "'otel'?\n"),
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


API = REPO / "scenarios" / "api-closed-model.yaml"


def test_openai_usage_sample(tree, tmp_path):
    # five results of num_model_requests requests each, read as that many requests of the mean size: e.g.
    # gpt-4o-mini at 08:00, 2,184,000 input / 1,200 requests = 1,820 each (1,228,800 cached / 1,200 = 1,024;
    # 373,200 output / 1,200 = 311); OpenAI's models are API models, their size estimated from their price
    by_hand = tmp_path / "by-hand.csv"
    by_hand.write_text("model,input_tokens,cached_input_tokens,output_tokens,requests\n"
                       "openai/gpt-4o-mini-2024-07-18,1820,1024,311,1200\nopenai/gpt-4.1-2025-04-14,9850,4096,1204,45\n"
                       "openai/gpt-4o-mini-2024-07-18,2410,1536,187,860\nopenai/o4-mini-2025-04-16,3120,0,2450,310\n"
                       "openai/gpt-4o-mini-2024-07-18,1760,1024,256,1045\n")  # fmt: skip
    usage = run_batch(LOGS / "openai-usage.jsonl", API, tree, log_format="openai-usage", by=["model"])
    assert_same_totals(usage, run_batch(by_hand, API, tree))
    assert usage.totals.requests == 1200 + 45 + 860 + 310 + 1045 == 3460
    groups = {g["key"]["model"]: g["requests"] for g in summary(usage)["groups"]}
    assert groups == {"openai/gpt-4o-mini-2024-07-18": 1200 + 860 + 1045, "openai/gpt-4.1-2025-04-14": 45,
                      "openai/o4-mini-2025-04-16": 310}  # fmt: skip


def usage_page(*results) -> str:
    import json

    bucket = {"object": "bucket", "start_time": 1764576000, "end_time": 1764579600, "results": list(results)}
    return json.dumps({"object": "page", "data": [bucket], "has_more": False, "next_page": None}) + "\n"


def result(model="gpt-4o-mini", n=3, inp=1000, cached=0, out=500) -> dict:
    return {"object": "organization.usage.completions.result", "input_tokens": inp, "output_tokens": out,
            "input_cached_tokens": cached, "num_model_requests": n, "model": model}  # fmt: skip


def test_a_usage_row_is_its_requests_of_the_mean_size(tree, tmp_path):
    # 1000 input and 500 output tokens over 3 requests: 333.33 and 166.67 each, weight 3. scope3's energy is
    # linear in the tokens, so 3 mean requests draw what one request of all the tokens would; its training share
    # is per request, so it counts 3 times
    log = tmp_path / "usage.jsonl"
    log.write_text(usage_page(result()))
    usage = run_batch(log, API, tree, log_format="openai-usage").totals
    one = tmp_path / "one.csv"
    one.write_text("model,input_tokens,output_tokens\nopenai/gpt-4o-mini,1000,500\n")
    whole = run_batch(one, API, tree).totals
    assert usage.requests == 3
    assert usage.sums["scope3"]["E"] == pytest.approx(whole.sums["scope3"]["E"], rel=1e-12)
    assert usage.sums["scope3"]["training_emissions"] == pytest.approx(3 * whole.sums["scope3"]["training_emissions"])


@pytest.mark.parametrize(("page", "message"), [
    (usage_page(result(n=0)), "usage.jsonl:1:1: $.requests: 0 is not positive; expected a positive number of "
     "requests"),
    (usage_page(result(model=None)), "usage.jsonl:1:1: $.model: the value is missing; expected an id from "
     "models"),
    (usage_page(result(model="gpt-9")), "usage.jsonl:1:1: $.model: unknown model 'gpt-9'"),
    (usage_page(result(cached=2000)), "usage.jsonl:1:1: $.cached_input_tokens: 666.667 cached input tokens is "
     "more than the 333.333 input tokens"),
    ('{"object": "page", "results": []}\n', "usage.jsonl:1:1: $.data: no data; expected JSON documents holding "
     "lists of records at data.results"),
    ('{"object": "page", "data": {"results": []}}\n', "usage.jsonl:1:1: $.data: data is a JSON object, not a list "
     "of objects"),
    ('[1, 2]\n', "usage.jsonl:1:1: $: the document is a JSON array, not a JSON object"),
    ('{"object": "page", "data": []}\n', "usage.jsonl:1:1: $: no records at data.results; expected at least one "
     "record"),
])  # fmt: skip
def test_a_bad_usage_export_is_located(runner, tmp_path, monkeypatch, page, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "usage.jsonl").write_text(page)
    result = runner.invoke(main, ["batch", "usage.jsonl", "--scenario", str(API), "--log-format", "openai-usage"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert message in result.stderr, result.stderr


def test_per_request_needs_a_requests_column(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "log.csv").write_text("m,tokens\nllama-3.1-8b,5\n")
    (tmp_path / "map.yaml").write_text(
        "kind: logformat\nschema_version: 1\nname: mine\ntitle: t\nsource: s\n"
        "columns:\n  m: {to: model}\n  tokens: {to: output_tokens, per_request: true}\n"
    )
    result = runner.invoke(main, ["batch", "log.csv", "--scenario", str(BASE), "--map", "map.yaml"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr == ("map.yaml:8:44: $.columns.tokens.per_request: 'tokens' is a total over a row's requests, "
                             "but no column maps to requests; expected a column {to: requests}, the row's number of "
                             "requests, to divide it by\n")  # fmt: skip
