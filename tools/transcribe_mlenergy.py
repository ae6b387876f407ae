"""Developer tool: transcribe the ML.ENERGY leaderboard export into catalogs/benchmarks/mlenergy.yaml.

    python tools/transcribe_mlenergy.py PATH/TO/mlenergy.csv [OUTPUT.yaml]

It reads the CSV export of the ML.ENERGY leaderboard (v1 2023 rows and v3 vLLM rows) given on the command
line and writes the benchmark table in the project's `kind: benchmarks` format: one row per measurement of a
text task whose model has a catalog entry, and an `unmapped` list giving the reason for every other row. It is
run by hand when the export or the models catalog changes and is never used at run time (no part of `impact`
imports it, and a user's clone needs neither it nor the CSV). The mappings below (model ids to catalog ids,
GPU names, precisions) are the transcription's decisions; the header it writes says which are ASSUMPTIONS.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import yaml

from impact.engine.safefile import write_text

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "catalogs" / "benchmarks" / "mlenergy.yaml"
TEXT_TASKS = ("lm-arena-chat", "gpqa", "sourcegraph-fim", "chat (v1 prompt set)")

# ML.ENERGY model id -> catalog id: fine-tunes and re-quantized checkpoints map to the entry of their architecture
MODELS = {
    "Qwen/Qwen3-8B": "qwen3-8b",
    "Qwen/Qwen3-14B": "qwen3-14b",
    "Qwen/Qwen3-32B": "qwen3-32b",
    "Qwen/Qwen3-30B-A3B-Instruct-2507": "qwen3-30b-a3b",
    "Qwen/Qwen3-30B-A3B-Thinking-2507": "qwen3-30b-a3b",
    "Qwen/Qwen3-Coder-30B-A3B-Instruct": "qwen3-30b-a3b",
    "Qwen/Qwen3-235B-A22B-Instruct-2507": "qwen3-235b-a22b",
    "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8": "qwen3-235b-a22b",
    "Qwen/Qwen3-235B-A22B-Thinking-2507": "qwen3-235b-a22b",
    "Qwen/Qwen3-235B-A22B-Thinking-2507-FP8": "qwen3-235b-a22b",
    "Qwen/Qwen3-Coder-480B-A35B-Instruct": "qwen3-coder-480b-a35b",
    "Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8": "qwen3-coder-480b-a35b",
    "openai/gpt-oss-20b": "gpt-oss-20b",
    "openai/gpt-oss-120b": "gpt-oss-120b",
    "google/gemma-3-12b-it": "gemma-3-12b",
    "google/gemma-3-27b-it": "gemma-3-27b",
    "meta-llama/Llama-4-Scout-17B-16E-Instruct": "llama-4-scout",
    "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8": "llama-4-maverick",
    "deepseek-ai/DeepSeek-V3.1": "deepseek-v3",
    "deepseek-ai/DeepSeek-R1-0528": "deepseek-v3",
    "nvidia/NVIDIA-Nemotron-Nano-9B-v2": "nemotron-nano-9b-v2",
    "nvidia/NVIDIA-Nemotron-Nano-12B-v2": "nemotron-nano-12b-v2",
    "meta-llama/Llama-3.1-8B-Instruct": "llama-3.1-8b",
    "meta-llama/Llama-3.1-70B-Instruct": "llama-3.1-70b",
    "meta-llama/Llama-3.1-405B-Instruct": "llama-3.1-405b",
    "meta-llama/Llama-3.1-405B-Instruct-FP8": "llama-3.1-405b",
    "meta-llama/Llama-3.3-70B-Instruct": "llama-3.3-70b",
    # v1 (2023): the LLaMA fine-tunes map to the LLaMA base of their size
    "metaai/llama-7B": "llama-7b",
    "metaai/llama-13B": "llama-13b",
    "lmsys/vicuna-7B": "llama-7b",
    "lmsys/vicuna-13B": "llama-13b",
    "tatsu-lab/alpaca-7B": "llama-7b",
    "BAIR/koala-7b": "llama-7b",
    "BAIR/koala-13b": "llama-13b",
    "metaai/Llama-2-7b-chat-hf": "llama-2-7b",
    "metaai/Llama-2-13b-chat-hf": "llama-2-13b",
}
GPUS = {"B200": "b200", "H100": "h100-sxm", "A100 (40GB? per v1 leaderboard)": "a100-sxm-40gb"}
PRECISIONS = {"bfloat16": "bf16", "fp8": "fp8", "mxfp4": "fp4", "": "fp16"}  # "" is v1: FP16 is an ASSUMPTION
INTEGERS = ("row", "gpus", "tp", "ep", "max_num_seqs", "input_tokens")
# Mean prompt tokens per task, as ML.ENERGY published them (the export has none); see the header for the source
INPUT_TOKENS = {"lm-arena-chat": 634, "gpqa": 224}
COLUMNS = ["row", "version", "task", "model", "accelerator", "precision", "gpus", "tp", "ep", "max_num_seqs",
           "batch_size", "input_tokens", "output_tokens", "energy_per_request_j", "energy_per_output_token_j",
           "avg_power_w", "output_tokens_per_s", "median_itl_ms", "p90_itl_ms", "latency_s", "engine",
           "source"]  # fmt: skip

HEADER = """\
# ML.ENERGY leaderboard measurements (GPU energy, measured with Zeus), transcribed by tools/transcribe_mlenergy.py
# from the leaderboard's published data (v3: public/data/models/*.json at commit 0cd52dab; v1: data/*.csv at
# commit 4717739a); each row cites its file. Every text-task row (lm-arena-chat, gpqa, sourcegraph-fim, v1 chat)
# whose model has a catalog entry is kept; `unmapped` gives the reason for every other row (image-chat and
# video-chat rows are not text tasks).
# Models map to the catalog entry of their architecture: instruct, thinking and coder fine-tunes and the -FP8
# re-quantized checkpoints to their base (Qwen3-30B-A3B Instruct/Thinking-2507 and Qwen3-Coder-30B-A3B share one
# entry; DeepSeek-V3.1 and DeepSeek-R1-0528 have DeepSeek-V3's architecture); the 2023 LLaMA fine-tunes (Vicuna,
# Alpaca, Koala) map to LLaMA 7B/13B.
# Columns: gpus = num_gpus; tp, ep = tensor- and expert-parallel degree; max_num_seqs = vLLM's concurrency cap;
# batch_size = the measured mean batch size (avg_batch_size) for v3, the static batch for v1; output_tokens =
# mean output length; avg_power_w = GPU power summed over the GPUs; median/p90_itl_ms = inter-token latency;
# latency_s (v1 only) = mean request latency; engine = vllm (v3) or transformers (v1). Empty cells are null.
# Precision: bfloat16 -> bf16, fp8 -> fp8, and gpt-oss's mxfp4 -> fp4 (MXFP4 is a 4-bit float format with
# block scales: its expert weights are 4-bit, attention and embeddings stay bf16).
# ASSUMPTIONS: v3 'H100' read as H100 SXM (h100-sxm); v1 GPU 'A100 (40GB?)' read as A100 SXM 40GB and v1
# precision as FP16 (HF transformers, 2023).
# input_tokens: the export has no input lengths. ML.ENERGY's v3.0 analysis gives the mean prompt length of two
# tasks, "mean 634 vs. 224", beside its Qwen 3 32B case study whose table lists Text Conversation first: read as
# 634 tokens for lm-arena-chat and 224 for gpqa, in Qwen 3 tokens (https://github.com/ml-energy/blog/blob/
# 2bfa158da2019b365406a13e05f4fa364299b491/docs/posts/ml-energy-leaderboard-v3.0.md, section "LLM"); the order
# fits the datasets (multi-turn chat histories against one question and four choices). The benchmark counts the tokens
# of the prompt content (lm-arena-chat: all earlier turns of the conversation; gpqa: question and four choices),
# not the chat template (https://github.com/ml-energy/benchmark, mlenergy/benchmark/llm/datasets.py, commit
# c1d6557). ASSUMPTION: the same mean for every model of a task (tokenizers differ). No mean is published for
# sourcegraph-fim or the v1 chat set: null there.
"""


def _cell(column: str, raw: str):
    if raw == "":
        return None
    if column in INTEGERS:
        return int(float(raw))
    return float(raw)


def transcribe(csv_path: Path, catalog_ids: set[str]) -> tuple[list[list], list[dict]]:
    """The table's rows and its unmapped list, in the export's order; `row` is the export's line number."""
    rows, unmapped = [], []
    with open(csv_path, newline="", encoding="utf-8") as fh:
        for line, r in enumerate(csv.DictReader(fh), start=2):
            model, task, gpu = r["model_id"], r["task"], r["gpu_model"]
            target = MODELS.get(model)
            if task not in TEXT_TASKS:
                reason = f"not a text task ({task}: image or video inputs)"
            elif target is None or target not in catalog_ids:
                reason = f"no catalog model for {model}"
            elif gpu not in GPUS or r["weight_precision"] not in PRECISIONS:
                reason = f"no catalog accelerator or precision for {gpu} {r['weight_precision']}"
            else:
                reason = None
            if reason:
                unmapped.append({"row": line, "model": model, "task": task, "gpu": gpu, "reason": reason})
                continue
            v1 = r["leaderboard_version"].startswith("v1")
            values = {
                "row": line, "version": "v1" if v1 else "v3", "task": task, "model": target,
                "accelerator": GPUS[gpu], "precision": PRECISIONS[r["weight_precision"]],
                "gpus": r["num_gpus"], "tp": r["tensor_parallel"], "ep": r["expert_parallel"],
                "max_num_seqs": r["max_num_seqs"], "batch_size": r["batch_size"] if v1 else r["avg_batch_size"],
                "input_tokens": str(INPUT_TOKENS.get(task, "")),
                "output_tokens": r["avg_output_len_tokens"], "energy_per_request_j": r["energy_per_request_j"],
                "energy_per_output_token_j": r["energy_per_output_token_j"], "avg_power_w": r["avg_power_w"],
                "output_tokens_per_s": r["output_throughput_tok_s"], "median_itl_ms": r["median_itl_ms"],
                "p90_itl_ms": r["p90_itl_ms"], "latency_s": r["latency_s"],
                "engine": "transformers" if v1 else "vllm", "source": r["source"],
            }  # fmt: skip
            text = ("version", "task", "model", "accelerator", "precision", "engine", "source")
            rows.append([values[c] if c in text else _cell(c, values[c]) for c in COLUMNS])
    return rows, unmapped


def render(rows: list[list], unmapped: list[dict]) -> str:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[2]] = counts.get(row[2], 0) + 1
    summary = ", ".join(f"{task} {n}" for task, n in counts.items())
    lines = [HEADER.rstrip("\n"), f"# Rows kept per task: {summary}; {len(unmapped)} rows unmapped.",
             "kind: benchmarks", "schema_version: 1", "benchmark: mlenergy",
             "description: Measured GPU energy, power and latency of LLM serving per request and per output token "
             "(ML.ENERGY leaderboard v1 and v3).",
             "source: https://github.com/ml-energy/leaderboard (v3 commit 0cd52dab, v1 commit 4717739a); "
             "per-row sources",
             f"columns: [{', '.join(COLUMNS)}]", "rows:"]  # fmt: skip
    lines += [f"  - {json.dumps(row)}" for row in rows]
    lines.append("unmapped:")
    lines += [f"  - {json.dumps(u)}" for u in unmapped]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    output = Path(argv[2]) if len(argv) == 3 else OUTPUT
    catalog = yaml.safe_load((REPO / "catalogs" / "models.yaml").read_text(encoding="utf-8"))
    rows, unmapped = transcribe(Path(argv[1]), set(catalog["entries"]))
    write_text(output, render(rows, unmapped))
    print(f"{output}: {len(rows)} rows, {len(unmapped)} unmapped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
