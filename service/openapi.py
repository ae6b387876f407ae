"""The OpenAPI 3.1 document of the service, built from the same JSON Schemas the tree's files are checked with.

Every schema of the tree (`schemas/*.json`, JSON Schema 2020-12, which OpenAPI 3.1 takes as it is) becomes a
component named by its `$id` (`scenario.v1`, `catalog-models.v1`, ...); references between them
(`common.v1#/$defs/text`) are rewritten to point at the components. A change to a schema is a change to the
API's document with nothing else to edit.
"""

from __future__ import annotations

import json

from impact import __version__

PROBLEMS = {
    "type": "object",
    "required": ["problems"],
    "properties": {
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["file", "line", "column", "path", "message", "expected", "hint"],
                "properties": {
                    "file": {"type": ["string", "null"], "description": "<request> for the body, else a file"},
                    "line": {"type": ["integer", "null"]},
                    "column": {"type": ["integer", "null"]},
                    "path": {"type": "string", "description": "JSON path of the value, such as $.hardware.gpus"},
                    "message": {"type": "string"},
                    "expected": {"type": ["string", "null"]},
                    "hint": {"type": ["string", "null"]},
                },
            },
        }
    },
}


def components(tree) -> dict:
    """schema $id -> the schema with its references rewritten to #/components/schemas/..."""
    out = {}
    for path in sorted(tree.schemas.directory.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        name = schema.pop("$id")
        schema.pop("$schema", None)
        out[name] = _refs(schema, name)
    return out


def _refs(node, here: str):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                target, _, pointer = value.partition("#")
                out[key] = f"#/components/schemas/{target or here}{pointer}"
            else:
                out[key] = _refs(value, here)
        return out
    if isinstance(node, list):
        return [_refs(v, here) for v in node]
    return node


def _answer(description: str, schema: dict | None = None) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema or {"type": "object"}}}}


def _errors(*codes: int) -> dict:
    words = {400: "Bad input", 404: "Unknown catalog, id or route", 413: "Body or batch too large",
             415: "Unsupported body type"}  # fmt: skip
    return {str(c): _answer(words[c], {"$ref": "#/components/schemas/Problems"}) for c in codes}


def _query(name: str, description: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def document(tree, limits) -> dict:
    """The OpenAPI document: paths, the tree's schemas as components, and the error document."""
    schemas = {**components(tree), "Problems": PROBLEMS}
    scenario = {"$ref": "#/components/schemas/scenario.v1"}
    catalogs = sorted(tree.catalogs())
    kind = {"name": "kind", "in": "path", "required": True, "schema": {"enum": catalogs}}
    batch_body = {
        "type": "object",
        "required": ["scenario"],
        "properties": {
            "scenario": scenario,
            "requests": {"type": "array", "maxItems": limits.batch_rows, "items": {"type": "object"}},
            "log": {"type": "string", "description": "CSV or JSON Lines text, instead of requests"},
            "format": {"enum": ["csv", "jsonl"]},
            "by": {"type": "array", "items": {"type": "string"}},
            "rows": {"type": "boolean", "description": "also return each request's results"},
            "results": {"type": "array", "items": {"type": "string"}},
            "skip_bad_rows": {"type": "boolean"},
            "methodology": {"type": "array", "items": {"type": "string"}},
        },
    }
    paths = {
        "/v1/run": {"post": {
            "summary": "Evaluate a scenario: the document of `impact run --format json`",
            "parameters": [
                _query("explain", "1: add each formula's derivation", {"type": "boolean"}),
                _query("samples", "draws of the uncertain inputs", {"type": "integer", "minimum": 1,
                                                                    "maximum": limits.samples}),
                _query("seed", "seed of the draws", {"type": "integer", "minimum": 0}),
                _query("methodology", "run this methodology instead (repeatable)", {"type": "string"}),
                _query("optimization", "apply this optimization (repeatable)", {"type": "string"}),
            ],
            "requestBody": {"required": True, "content": {"application/json": {"schema": scenario}}},
            "responses": {"200": _answer("One run per methodology"), **_errors(400, 413)},
        }},
        "/v1/batch": {"post": {
            "summary": "Evaluate a request log against a base scenario: the document of `impact batch --format json`",
            "parameters": [_query("scenario", "a scenario of the tree, for a list, CSV or JSON Lines body",
                                  {"type": "string"})],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"oneOf": [batch_body, {"type": "array", "items": {"type": "object"}}]}},
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            }},
            "responses": {"200": _answer("Totals, breakdowns and per-request results"), **_errors(400, 413, 415)},
        }},
        "/v1/catalog/{kind}": {"get": {"summary": "Every entry of a catalog", "parameters": [kind],
                                       "responses": {"200": _answer("The entries by id"), **_errors(404)}}},
        "/v1/catalog/{kind}/{id}": {"get": {
            "summary": "One catalog entry, with its file and line",
            "parameters": [kind, {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": _answer("The entry"), **_errors(404)},
        }},
        "/v1/methodologies": {"get": {"summary": "The installed methodologies and optimizations",
                                      "responses": {"200": _answer("Methodologies")}}},
        "/healthz": {"get": {"summary": "Liveness", "responses": {"200": _answer("ok")}}},
    }  # fmt: skip
    return {
        "openapi": "3.1.0",
        "info": {"title": "impact", "version": __version__,
                 "description": "The footprint of LLM inference: duration, energy, carbon, water, memory."},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "components": {"schemas": schemas},
    }  # fmt: skip
