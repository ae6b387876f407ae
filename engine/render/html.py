"""HTML: one self-contained report file (inline CSS and SVG charts, nothing fetched at view time).

`document(sections)` takes report sections: `{"runs": [...], "explain": {methodology: [tree, ...]},
"comparison": Comparison or None}` for a scenario (a sweep too), `{"batch": summary}` for a request log. Each
scenario gives its summary, charts (energy and emissions per methodology, the emissions by origin, a sweep's
curves, uncertainty bands when sampled), the explain trees of its headline results, every result and input
with its source, assumptions, warnings and each run's provenance stamp. Charts need matplotlib (the `plot`
extra); without it the report says so where they would be. All text is escaped.
"""

from __future__ import annotations

import html

from .. import report
from . import charts
from .layout import figure, figures

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:72rem;
padding:0 1.5rem;color:#1b1f24;line-height:1.45}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{border-bottom:2px solid #d0d7de;padding-bottom:.3rem;margin-top:2.5rem}
h3{margin-top:1.6rem}table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.92rem}
th,td{border:1px solid #d0d7de;padding:.25rem .6rem;vertical-align:top}td.src{overflow-wrap:anywhere}
th{background:#f3f5f7;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#57606a}.warn{color:#9a6700}.chart{margin:.8rem 0}.chart svg{max-width:100%;height:auto}
ul.tree{overflow-wrap:anywhere;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.84rem;padding-left:1.2rem}
ul.tree ul{padding-left:1.4rem;border-left:1px dotted #afb8c1}code{font-size:.88rem}
.note{background:#fff8c5;border:1px solid #d4a72c;padding:.5rem .8rem}
"""


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def table(rows: list[dict], columns: list[str], numeric=(), long=("source", "description")) -> str:
    """An HTML table; `numeric` columns align right, `long` ones may break anywhere (paths, links)."""
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    kind = {c: ' class="n"' if c in numeric else ' class="src"' if c in long else "" for c in columns}
    body = "".join("<tr>" + "".join(f"<td{kind[c]}>{esc(r.get(c, ''))}</td>" for c in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _chart(svg: str | None, caption: str) -> str:
    if svg is None:
        return ""
    return f'<figure class="chart">{svg}<figcaption class="muted">{esc(caption)}</figcaption></figure>'


def summary(runs, units: str) -> str:
    out = []
    blocks = [("per request", False)]
    if runs[0].requests != 1:
        blocks.append((f"total, {report.requests_label(runs[0].requests)}", True))
    for title, total in blocks:
        rows, columns = report.summary_rows(runs, units, total)
        if not rows:
            continue
        labels = {role: f"{report.ROLE_LABELS.get(role, role)}" + (f" [{u}]" if u not in report.COUNTS else "")
                  for role, u in columns}  # fmt: skip
        shown = [{"methodology": r["methodology"], **{labels[role]: figure(r.get(role)) for role, _ in columns}}
                 for r in rows]  # fmt: skip
        out.append(f"<h3>Summary, {esc(title)}</h3>" + table(shown, ["methodology", *labels.values()],
                                                               numeric=set(labels.values())))  # fmt: skip
    return "".join(out)


def _tree(node: dict) -> str:
    value = f"{figure(node['value'])} {node['unit']}".rstrip()
    if node["kind"] != "formula":
        label = f"<b>{esc(node['name'])}</b> = {esc(value)} <span class=muted>{esc(node['source'])}</span>"
    elif node.get("repeated"):
        label = f"<b>{esc(node['name'])}</b> = {esc(value)} <span class=muted>(derived above)</span>"
    else:
        label = (f"<b>{esc(node['name'])}</b> = {esc(node['expr'])} = {esc(node['substituted'])} = {esc(value)} "
                 f"<span class=muted>{esc(node['where'])}</span>")  # fmt: skip
    children = "".join(_tree(child) for child in node.get("reads", []))
    return f"<li>{label}" + (f"<ul>{children}</ul>" if children else "") + "</li>"


def _notes(run) -> str:
    items = [f"<li>{esc(a)}</li>" for a in run.assumptions]
    items += [f'<li class="warn">warning: {esc(w)}</li>' for w in run.warnings]
    return f"<ul>{''.join(items)}</ul>" if items else "<p class=muted>none</p>"


def _provenance(run) -> str:
    p = run.provenance or {}
    files = "".join(f"<li><code>{esc(f)}</code></li>" for f in p.get("files", []))
    return (f"<p>{esc(p.get('methodology', run.methodology))} {esc(p.get('version', run.version))}, "
            f"<code>{esc(p.get('hash', ''))}</code></p><details><summary>files hashed</summary><ul>{files}</ul>"
            "</details>")  # fmt: skip


def _run_details(run, units: str) -> str:
    results = report.result_rows(run, figures, units)
    columns = ["name", "value", "unit"] + (["total"] if "total" in results[0] else [])
    columns += list(report.SPREAD_COLUMNS) if run.uncertainty else []
    inputs = report.input_rows(run, figures)
    return (f"<h3>{esc(run.methodology)} {esc(run.version)}: {esc(run.title)}</h3>"
            f"<details><summary>every result ({len(results)})</summary>"
            + table(results, [*columns, "description"], numeric=set(columns) - {"name", "unit"}) + "</details>"
            + "<h4>Inputs, with their sources</h4>" + table(inputs, ["name", "value", "unit", "source"], {"value"})
            + "<h4>Assumptions and warnings</h4>" + _notes(run) + "<h4>Provenance</h4>" + _provenance(run))  # fmt: skip


def scenario_section(section: dict, units: str, draw: bool) -> str:
    runs = section["runs"]
    scenario = runs[0].scenario
    deployment = scenario.entities["deployment"]
    what = deployment.data.get("description", deployment.data.get("name", ""))
    out = [f"<h2>{esc(scenario.name)}</h2><p>Deployment <b>{esc(deployment.id)}</b>: {esc(what)} "
           f"<span class=muted>({esc(scenario.file)})</span></p>"]  # fmt: skip
    sweep = runs[0].points is not None
    if sweep:
        rows, columns = report.sweep_rows(runs, every_result=False)
        shown = [{c: figure(r[c]) if isinstance(r[c], float) else r[c] for c in columns} for r in rows]
        out.append(f"<h3>Sweep of {len(rows)} points</h3>" + table(shown, columns, numeric=set(columns[1:])))
    else:
        out.append(summary(runs, units))
    if section.get("comparison") is not None:
        c = section["comparison"]
        out.append("<h3>Methodologies compared</h3>"
                   + table(report.comparison_rows(c, figure), report.comparison_columns(c),
                           numeric=set(report.comparison_columns(c)[2:])))  # fmt: skip
    out.append("<h3>Charts</h3>")
    if not draw:
        out.append('<p class="note">Charts need matplotlib: <code>pip install "impact-llm[plot]"</code>.</p>')
    elif sweep:
        out.append(_chart(charts.sweep_curves(runs), "headline energy and emissions across the sweep"))
    else:
        out.append(_chart(charts.per_methodology(runs, units), "headline energy and emissions per request"))
        out.append(_chart(charts.breakdown(runs), "emissions per request: electricity, hardware, training"))
        for run in runs:
            out.append(_chart(charts.bands(run), "p5 to p95 of the sampled results, median and point value"))
    trees = section.get("explain") or {}
    if trees and not sweep:
        out.append("<h3>How the headline results are derived</h3>")
        for methodology, found in trees.items():
            out.append(f"<p><b>{esc(methodology)}</b></p><ul class=tree>{''.join(_tree(t) for t in found)}</ul>")
    for run in runs:
        out.append(_run_details(run, units))
    return "".join(out)


def batch_section(data: dict, draw: bool) -> str:
    rows, columns = report.batch_rows(data, show=figure)
    skipped = f", {data['skipped']:,} bad rows skipped" if data["skipped"] else ""
    out = [f"<h2>Request log {esc(data['log'])}</h2><p>{data['rows']:,} rows, {esc(figure(data['requests']))} "
           f"requests{esc(skipped)}, base scenario <code>{esc(data['scenario'])}</code>.</p>",
           "<h3>Totals" + (" by " + esc(", ".join(data["by"])) if data["by"] else "") + "</h3>",
           table(rows, columns, numeric=set(columns) - set(data["by"]))]  # fmt: skip
    if draw:
        out.append(_chart(charts.batch_groups(data), "totals by group"))
    elif data["groups"]:
        out.append('<p class="note">Charts need matplotlib: <code>pip install "impact-llm[plot]"</code>.</p>')
    if data["bad_rows"]:
        out.append("<h3>Bad rows</h3><ul>" + "".join(f"<li>{esc(b)}</li>" for b in data["bad_rows"]) + "</ul>")
    return "".join(out)


def document(sections: list[dict], title: str, version: str, units: str = "si") -> str:
    """The whole report as one HTML page."""
    draw = charts.available()
    body = [scenario_section(s, units, draw) if "runs" in s else batch_section(s["batch"], draw) for s in sections]
    return ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            '<meta name=viewport content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{esc(title)}</h1><p class=muted>impact {esc(version)}; units: {esc(units)}. Every number below "
            "comes from the methodology files named in each run's provenance.</p>"
            + "".join(body) + "</body></html>\n")  # fmt: skip
