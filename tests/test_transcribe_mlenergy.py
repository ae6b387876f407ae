"""tools/transcribe_mlenergy.py, the developer tool that writes catalogs/benchmarks/mlenergy.yaml: on a small
export written here (the real one is not part of a clone), which rows it keeps, what it maps them to, the
reason it gives for the rest, and that what it writes is the table the engine reads."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml

TOOL = Path(__file__).resolve().parent.parent / "tools" / "transcribe_mlenergy.py"
HEADER = ("leaderboard_version,model_id,task,architecture,total_params_b,active_params_b,weight_precision,gpu_model,"
          "num_gpus,tensor_parallel,expert_parallel,data_parallel,max_num_seqs,batch_size,avg_batch_size,"
          "avg_output_len_tokens,avg_power_w,energy_per_request_j,energy_per_output_token_j,output_throughput_tok_s,"
          "median_itl_ms,p90_itl_ms,latency_s,notes,source")  # fmt: skip
V3 = "v3 (vLLM serving)"
V1 = '"v1 (2023; HF transformers, static batch)"'  # quoted, as in the export
ROWS = [
    f"{V3},openai/gpt-oss-120b,gpqa,MoE,117.0,5.0,mxfp4,H100,2,1,2,1,64,,63.5,4000.5,900.0,800.25,0.2,300.0,40.0,60.0,,n,s1",
    f"{V3},Qwen/Qwen3-VL-8B-Instruct,image-chat,Dense,8.0,8.0,bfloat16,B200,1,1,1,1,8,,7.9,500.0,300.0,90.0,0.18,40.0,9.0,11.0,,n,s2",  # noqa: E501
    f"{V3},someone/unknown-7b,lm-arena-chat,Dense,7.0,7.0,bfloat16,B200,1,1,1,1,8,,7.9,500.0,300.0,90.0,0.18,40.0,9.0,11.0,,n,s3",  # noqa: E501
    f"{V1},lmsys/vicuna-7B,chat (v1 prompt set),,,,,A100 (40GB? per v1 leaderboard),1,,,,,2,,209.94,,1142.24,5.4408,34.762,,,14.237,n,s4",  # noqa: E501
]


def _tool():
    spec = importlib.util.spec_from_file_location("transcribe_mlenergy", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rows_are_mapped_and_the_rest_have_reasons(tmp_path):
    tool = _tool()
    export = tmp_path / "mlenergy.csv"
    export.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    rows, unmapped = tool.transcribe(export, {"gpt-oss-120b", "llama-7b", "qwen3-8b"})
    got = [dict(zip(tool.COLUMNS, r, strict=True)) for r in rows]
    assert [r["row"] for r in got] == [2, 5]  # the export's line numbers (line 1 is the header)
    oss, vicuna = got
    assert [oss[c] for c in ("model", "accelerator", "precision", "engine")] == [
        "gpt-oss-120b",
        "h100-sxm",
        "fp4",
        "vllm",
    ]
    assert (oss["gpus"], oss["tp"], oss["ep"], oss["max_num_seqs"], oss["batch_size"]) == (2, 1, 2, 64, 63.5)
    assert (oss["input_tokens"], oss["output_tokens"], oss["latency_s"]) == (224, 4000.5, None)
    assert [vicuna[c] for c in ("model", "precision", "engine", "batch_size")] == [
        "llama-7b",
        "fp16",
        "transformers",
        2.0,
    ]
    assert (vicuna["tp"], vicuna["input_tokens"], vicuna["latency_s"]) == (None, None, 14.237)
    assert [(u["row"], u["reason"]) for u in unmapped] == [
        (3, "not a text task (image-chat: image or video inputs)"),
        (4, "no catalog model for someone/unknown-7b"),
    ]


def test_what_it_writes_is_a_benchmark_table(tmp_path):
    tool = _tool()
    export, out = tmp_path / "mlenergy.csv", tmp_path / "out.yaml"
    export.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    assert tool.main(["transcribe_mlenergy.py", str(export), str(out)]) == 0
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert (doc["kind"], doc["benchmark"], doc["columns"]) == ("benchmarks", "mlenergy", tool.COLUMNS)
    assert [r[3] for r in doc["rows"]] == ["gpt-oss-120b", "llama-7b"] and len(doc["unmapped"]) == 2
    assert tool.main(["transcribe_mlenergy.py"]) == 2  # usage
