"""The shipped catalogs and formulas: sizes the issue asks for, references that resolve, units that agree."""

from __future__ import annotations

import pytest

from impact.engine.check import ENTITY_CATALOG, binding_problems
from impact.engine.units import parse_unit, registry


def test_catalog_sizes(tree):
    catalogs = tree.catalogs()
    assert len(catalogs["accelerators"]) >= 20
    assert len(catalogs["models"]) >= 40
    assert {"local", "cloud", "api"} <= set(catalogs["deployments"])
    scopes = {e.data.get("scope") for e in catalogs["regions"].values()}
    assert {"country", "cloud_region"} <= scopes


def test_issue_accelerators_are_present(tree):
    wanted = {
        "a100-sxm-40gb",
        "a100-sxm-80gb",
        "h100-sxm",
        "h100-pcie",
        "h100-nvl",
        "h200-sxm",
        "b200",
        "gb200",
        "l4",
        "l40s",
        "a10g",
        "t4",
        "v100-sxm2-32gb",
        "mi250x",
        "mi250x-gcd",
        "mi300x",
        "mi325x",
        "tpu-v5e",
        "tpu-v5p",
        "gaudi2",
        "gaudi3",
        "rtx-4090",
    }
    assert wanted <= set(tree.catalog("accelerators"))


def test_every_entry_cites_a_source(tree):
    for table in tree.catalogs().values():
        for entry in table.values():
            assert entry.data["source"].strip()


def test_references_between_catalogs_resolve(tree):
    servers, accelerators = tree.catalog("servers"), tree.catalog("accelerators")
    for entry in accelerators.values():
        assert entry.data.get("default_server", next(iter(servers))) in servers, entry.id
    for entry in servers.values():
        assert entry.data["accelerator"] in accelerators, entry.id
    for entry in tree.catalog("deployments").values():
        assert entry.data.get("accelerator", "h100-sxm") in accelerators
        assert entry.data.get("location", "us") in tree.catalog("regions")


def test_every_declared_unit_is_understood(tree):
    for method in tree.methodologies().values():
        for table in (method.inputs, method.constants, method.formulas):
            for item in table.values():
                parse_unit(item.unit)
    for catalog in ENTITY_CATALOG.values():
        for unit in tree.schemas.field_units(catalog).values():
            parse_unit(unit)


@pytest.mark.parametrize("methodology", ["scope3", "memory", "llm_bench"])
def test_binding_scales_convert_field_units_into_input_units(tree, methodology):
    """`from: accelerator.memory_bandwidth_tb_s` with `scale: 1e12` must mean TB/s -> B/s exactly (the check
    is engine.check.binding_problems, which `impact check` runs on any tree)."""
    method = tree.methodologies()[methodology]
    assert [p.render() for p in binding_problems(tree.schemas, method)] == []
    assert sum(len(item.bindings) for item in method.inputs.values()) >= 8


def test_constants_are_exact_conversions(tree):
    ureg = registry()
    for method in tree.methodologies().values():
        for c in method.constants.values():
            assert ureg.Quantity(c.value, parse_unit(c.unit)).to("dimensionless").magnitude == pytest.approx(1), c.name


def test_moe_entries_are_consistent(tree):
    """Every MoE entry names its experts, and (total - active) / (1 - k/E), the routed-expert parameters the
    serving methodology derives, lies between the inactive parameters and the total: e.g. Mixtral 8x7B
    (46.7 - 12.9) / (1 - 2/8) = 45.07 <= 46.7."""
    moe = {k: e.data for k, e in tree.catalog("models").items() if e.data.get("moe")}
    wanted = {"mixtral-8x7b", "mixtral-8x22b", "deepseek-v3", "qwen3-30b-a3b", "gpt-oss-120b", "llama-4-maverick"}
    assert wanted <= set(moe)
    for name, m in moe.items():
        assert 1 <= m["experts_per_token"] < m["experts"], name
        inactive = m["total_params_b"] - m["active_params_b"]
        routed = inactive / (1 - m["experts_per_token"] / m["experts"])
        assert inactive < routed <= m["total_params_b"], name
    assert moe["mixtral-8x7b"]["experts"] == 8 and moe["deepseek-v3"]["experts_per_token"] == 8
    assert moe["deepseek-v3"]["kv_elements_per_token"] == 61 * (512 + 64)  # MLA: layers x (kv_lora_rank + rope dim)


def test_mlenergy_rows_name_catalog_entries(tree):
    """The ML.ENERGY table: columns engine/validate.py reads, ids that resolve, every text task present."""
    doc = tree.table(tree.root / "catalogs" / "benchmarks" / "mlenergy.yaml")
    columns = doc.data["columns"]
    assert {"model", "accelerator", "precision", "gpus", "output_tokens", "energy_per_request_j",
            "energy_per_output_token_j", "batch_size", "tp", "ep", "engine"} <= set(columns)  # fmt: skip
    rows = [dict(zip(columns, r, strict=True)) for r in doc.data["rows"]]
    for kind, column in (("models", "model"), ("accelerators", "accelerator"), ("precisions", "precision")):
        assert {r[column] for r in rows} <= set(tree.catalog(kind)), column
    assert {r["task"] for r in rows} == {"lm-arena-chat", "gpqa", "sourcegraph-fim", "chat (v1 prompt set)"}
    assert {r["engine"] for r in rows if r["version"] == "v3"} == {"vllm"}
    by_task = {r["task"]: r["input_tokens"] for r in rows}  # ML.ENERGY's published means; none for FIM or v1
    assert by_task == {"lm-arena-chat": 634, "gpqa": 224, "sourcegraph-fim": None, "chat (v1 prompt set)": None}
    unmapped = doc.data["unmapped"]
    assert all(u["reason"].startswith("not a text task") for u in unmapped if u["task"] in ("image-chat", "video-chat"))
    assert len({r["row"] for r in rows} | {u["row"] for u in unmapped}) == len(rows) + len(unmapped)  # each row once
