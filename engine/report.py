"""Turn runs into plain rows: the JSON document and the rows every table and file is drawn from.

Nothing here imports rich or click and nothing makes text: `engine/render/` turns these rows into terminal
tables, JSON, CSV and Markdown. `number` writes six significant digits; the documents carry full precision.
"""

from __future__ import annotations

from .api import Run
from .compare import LABELS


def number(value) -> str:
    """A value for people: six significant digits."""
    values = [float(v) for v in getattr(value, "ravel", lambda: [value])()]
    return ", ".join(f"{v:.6g}" for v in values)


def document(runs: list[Run], explain: bool = False) -> dict:
    """The JSON contract: {"runs": [{"methodology", "inputs", "results", ...}]}; with `explain`, each run also
    has "explain": every formula's expression with its values substituted and the names it reads."""
    from .explain import derivations

    return {"runs": [{**r.to_dict(), **({"explain": derivations(r)} if explain else {})} for r in runs]}


def result_rows(run: Run, show=number, units: str = "si") -> list[dict]:
    """One row per result, each value written with `show` in the unit system `units` (`shown_unit`); with a
    `total` column when the scenario covers several requests, and p5, p50, p95, mean when it was sampled."""
    totals = run.totals() if run.requests != 1 else {}
    spreads = run.uncertainty["results"] if run.uncertainty else None
    rows = []
    for name, r in run.results.items():
        unit, factor = shown_unit(r.unit, units)
        row = {"name": name, "value": show(r.value * factor), "unit": unit, "description": r.description}
        if totals:
            row["total"] = show(totals[name].value * factor) if name in totals else ""
        if spreads is not None:
            sp = spreads.get(name)
            for key in SPREAD_COLUMNS:
                row[key] = show(getattr(sp, key) * factor) if sp else ""
        rows.append(row)
    return rows


SPREAD_COLUMNS = ("p5", "p50", "p95", "mean")


def sensitivity_rows(run: Run, top: int = 3) -> list[dict]:
    """For each result with a spread, the uncertain inputs that drive it most (Spearman rho)."""
    if not run.uncertainty:
        return []
    rows = []
    for name, sp in run.uncertainty["results"].items():
        if sp.sensitivity:
            drivers = ", ".join(f"{k} {rho:+.2f}" for k, rho in sp.sensitivity[:top])
            rows.append({"result": name, "drivers (rank correlation)": drivers})
    return rows


def shown_results(run: Run) -> list[str]:
    """The results a wide table shows: the methodology's headline ones (all of them if it names none)."""
    names = [n for n in dict.fromkeys(run.method.headline.values()) if n in run.results] if run.method else []
    return names or list(run.results)


def sweep_rows(runs: list[Run], every_result: bool = True) -> tuple[list[dict], list[str]]:
    """(one row per point of a sweep, the columns): the swept values, then results as
    `methodology.result [unit]` (every result, or each methodology's headline ones)."""
    first = runs[0]
    keys = list(first.points)
    n = len(first.points[keys[0]])
    rows = [{"point": i + 1, **{k: first.points[k][i] for k in keys}} for i in range(n)]
    columns = ["point", *keys]
    for run in runs:
        for name in run.results if every_result else shown_results(run):
            r = run.results[name]
            column = f"{run.methodology}.{name} [{r.unit}]" if r.unit else f"{run.methodology}.{name}"
            columns.append(column)
            for row, v in zip(rows, r.value, strict=True):
                row[column] = float(v)
    return rows, columns


def input_rows(run: Run, show=number) -> list[dict]:
    return [
        {"name": name, "value": show(v.value), "unit": v.unit, "source": v.source} for name, v in run.inputs.items()
    ]


def comparison_rows(comparison, show=number) -> list[dict]:
    """Rows of a comparison for people: quantity, unit, one column per methodology (each value written with
    `show`), then the ratios."""
    base = comparison.methodologies[0]
    rows = []
    for row in comparison.rows:
        out = {"quantity": LABELS.get(row["quantity"], row["quantity"])}
        if "point" in row:  # a sweep: one row per quantity and point, labelled with the swept values
            out[_point_header(comparison)] = ", ".join(_shown(v) for v in row["point"].values())
        out["unit"] = row["unit"]
        for m in comparison.methodologies:
            value = row["values"][m]
            out[m] = "" if value is None else show(value)
        for m in comparison.methodologies[1:]:
            ratio = row["ratios"][m]
            out[f"{m} / {base}"] = "" if ratio is None else f"{ratio:.3g}"
        rows.append(out)
    return rows


def comparison_columns(comparison) -> list[str]:
    base = comparison.methodologies[0]
    point = [_point_header(comparison)] if comparison.points else []
    return ["quantity", *point, "unit", *comparison.methodologies,
            *(f"{m} / {base}" for m in comparison.methodologies[1:])]  # fmt: skip


def _point_header(comparison) -> str:
    return ", ".join(comparison.points)


def _shown(value) -> str:
    return number(value) if isinstance(value, float) else str(value)


def memory_matrix(rows: list[dict], suffix: str, unit: str) -> tuple[list[dict], list[str]]:
    """Memory rows as a matrix for people: one line per model, one column per precision, each cell
    'total / accelerators needed' (the unit is the caller's to state)."""
    precisions = list(dict.fromkeys(r["precision"] for r in rows))
    matrix: dict[str, dict] = {}
    for r in rows:
        line = matrix.setdefault(r["model"], {"model": r["model"], "params (B)": f"{r['params_b']:.4g}"})
        line[r["precision"]] = f"{r['total' + suffix]:.4g} / {r['gpus_needed']}"
    return list(matrix.values()), ["model", "params (B)", *precisions]


def batch_rows(data: dict, every_result: bool = False, show=number) -> tuple[list[dict], list[str]]:
    """Rows of a batch: the total, then one per --by group; columns: requests and the results that add up,
    each methodology's headline ones (or every one), each value written with `show`."""
    names = [(m, n, r["unit"]) for m, results in data["totals"].items() for n, r in results.items()
             if every_result or n in data["headline"].get(m, [])]  # fmt: skip
    labels = [f"{m}.{n} [{u}]" if u else f"{m}.{n}" for m, n, u in names]
    groups = [({b: "total" for b in data["by"]}, data["requests"], data["totals"])]
    groups += [(g["key"], g["requests"], g["totals"]) for g in data["groups"]]
    rows = []
    for key, requests, totals in groups:
        row = {**key, "requests": show(float(requests))}
        for (m, n, _), label in zip(names, labels, strict=True):
            row[label] = show(float(totals.get(m, {}).get(n, {}).get("value", 0.0)))
        rows.append(row)
    return rows, [*data["by"], "requests", *labels]


ROLES = ("duration", "energy", "emissions", "water", "memory", "accelerators")  # the summary's columns, in order
ROLE_LABELS = {"accelerators": "GPUs"}
COUNTS = {"", "accelerator", "request", "token"}  # units a header leaves out
UNIT_SYSTEMS = {
    "si": {},  # the methodology's own units: Wh, gCO2e, L
    "ghg": {"Wh": ("kWh", 1e-3), "gCO2e": ("kgCO2e", 1e-3), "L": ("m3", 1e-3)},  # what reporting tools use
}


def shown_unit(unit: str, units: str = "si") -> tuple[str, float]:
    """(the unit a value of `unit` is shown in under the unit system `units`, the factor to multiply by)."""
    return UNIT_SYSTEMS[units].get(unit, (unit, 1.0))


def _factor(unit: str, target: str) -> float | None:
    from .units import parse_unit, registry

    try:
        return float(registry().Quantity(1.0, parse_unit(unit)).to(parse_unit(target)).magnitude)
    except Exception:  # pint raises several error types for incompatible units
        return None


def summary_rows(runs: list[Run], units: str = "si", total: bool = False) -> tuple[list[dict], list[tuple]]:
    """(one row per methodology: its headline value of each role, the columns as (role, unit)).

    Roles come from each formulas file's `headline:` mapping; a methodology without a role has no value for
    it, and one with none is left out (methodologies with an energy first). Each column takes the unit of its
    first value, in the unit system `units`; later values are converted to it. With `total`, only results
    that add up over requests, times the scenario's `requests`."""
    columns: dict[str, str] = {}
    rows = []
    for run in runs:
        row = {"methodology": run.methodology}
        headline = run.method.headline if run.method else {}
        for role in ROLES:
            result = run.results.get(headline.get(role, ""))
            if result is None or (total and not result.extensive):
                continue
            unit, factor = shown_unit(result.unit, units)
            if columns.setdefault(role, unit) != unit:
                factor = _factor(result.unit, columns[role])
                if factor is None:
                    continue
            row[role] = float(result.value[0]) * factor * (run.requests if total else 1.0)
        if len(row) > 1:
            rows.append(row)
    rows.sort(key=lambda r: "energy" not in r)  # the energy methodologies first, then memory
    return rows, [(role, columns[role]) for role in ROLES if role in columns]


def requests_label(requests: float) -> str:
    """'1,000,000 requests' (never 1e+06)."""
    shown = f"{requests:,.0f}" if float(requests).is_integer() else f"{requests:,.6g}"
    return f"{shown} request" + ("" if requests == 1 else "s")


def explain_trees(run: Run) -> list[dict]:
    """The derivation trees (engine.explain) of a run's headline energy and emissions."""
    from .explain import explain

    headline = run.method.headline if run.method else {}
    names = [headline[role] for role in ("energy", "emissions") if headline.get(role) in run.results]
    return [explain(run, name) for name in dict.fromkeys(names)]
