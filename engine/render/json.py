"""JSON: the documents `impact ... --format json` prints. `runs` is the contract tests/golden compares. Always
valid JSON: a number that is not finite is written as null, never NaN or Infinity (engine.jsontext)."""

from __future__ import annotations

from .. import jsontext, report


def _dump(document) -> str:
    return jsontext.dumps(document, indent=2) + "\n"


def runs(runs, explain: bool = False) -> str:
    """{"runs": [...]} (engine.report.document); with `explain`, each formula's substituted expression."""
    return _dump(report.document(runs, explain))


def comparison(comparison) -> str:
    return _dump(comparison.to_dict())


def batch(data: dict) -> str:
    return _dump(data)


def memory(rows: list[dict], unit: str) -> str:
    return _dump({"unit": unit, "rows": rows})


def validation(rows: list[dict], unusable: dict) -> str:
    return _dump({"rows": rows, "unusable": unusable})
