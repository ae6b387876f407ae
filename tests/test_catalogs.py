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
