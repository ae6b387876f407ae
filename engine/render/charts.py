"""Charts for the HTML report, drawn with matplotlib (the `plot` extra, imported on use) as inline SVG text.

Each function takes report rows (or runs, a batch summary) and returns an `<svg>` element as a string, so the
report needs nothing at view time. One colour per methodology (or per swept choice) across every chart;
axes carry units; a log axis where values span two decades or more. `available()` says whether
matplotlib is installed; without it the report says what the charts need instead of drawing them.
"""

from __future__ import annotations

import io

from .. import report, standards

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"]
PARTS = {"operational_emissions": "operational", "embodied_emissions": "embodied", "training_emissions": "training"}


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"svg.hashsalt": "impact", "svg.fonttype": "path", "font.size": 10})
    import matplotlib.pyplot as plt

    return plt


def _svg(fig) -> str:
    plt = _plt()
    out = io.StringIO()
    fig.tight_layout()
    fig.savefig(out, format="svg", metadata={"Date": None})
    plt.close(fig)
    text = out.getvalue()
    return text[text.index("<svg") :]


def colours(names) -> dict:
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(dict.fromkeys(names))}


def _log_if_wide(ax, values, axis: str = "y") -> None:
    positive = [v for v in values if v and v > 0]
    if positive and max(positive) / min(positive) >= 100:
        (ax.set_yscale if axis == "y" else ax.set_xscale)("log")


def per_methodology(runs, units: str = "si") -> str | None:
    """Bars of the headline energy and emissions, one bar per methodology."""
    rows, columns = report.summary_rows(runs, units)
    roles = [(role, unit) for role, unit in columns if role in ("energy", "emissions")]
    if not roles:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, len(roles), figsize=(4.6 * len(roles), 3.4), squeeze=False)
    colour = colours(r["methodology"] for r in rows)
    for ax, (role, unit) in zip(axes[0], roles, strict=True):
        shown = [r for r in rows if role in r]
        ax.bar([r["methodology"] for r in shown], [r[role] for r in shown],
               color=[colour[r["methodology"]] for r in shown])  # fmt: skip
        ax.set_title(f"{role} per request")
        ax.set_ylabel(f"{role} [{unit}]")
        _log_if_wide(ax, [r[role] for r in shown])
    return _svg(fig)


def breakdown(runs) -> str | None:
    """Stacked bars of emissions per request: operational, embodied, training, one bar per methodology."""
    split = [run for run in runs if standards.covered(run)]
    if not split:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    bottoms = [0.0] * len(split)
    names = [run.methodology for run in split]
    for (name, label), colour in zip(PARTS.items(), ["#4c72b0", "#dd8452", "#55a868"], strict=True):
        values = [float(run.results[name].value[0]) for run in split]
        ax.bar(names, values, bottom=bottoms, label=label, color=colour)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    ax.set_ylabel(f"emissions per request [{split[0].results['emissions'].unit}]")
    ax.set_title("emissions by origin")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return _svg(fig)


def bands(run) -> str | None:
    """The sampled headline results: the p5 to p95 band, the median and the point value, a panel each."""
    if not run.uncertainty:
        return None
    spreads = run.uncertainty["results"]
    names = [n for n in report.shown_results(run) if n in spreads][:4]
    if not names:
        return None
    plt = _plt()
    cols = 2 if len(names) > 1 else 1
    rows = (len(names) + 1) // 2
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 1.9 * rows), squeeze=False)
    for ax in axes.ravel()[len(names) :]:
        ax.axis("off")
    for ax, name in zip(axes.ravel(), names, strict=False):
        sp, unit = spreads[name], run.results[name].unit
        ax.barh([0], [sp.p95 - sp.p5], left=[sp.p5], height=0.5, color="#9ecae1", label="p5 to p95")
        ax.plot([sp.p50], [0], "|", color="#08519c", markersize=22, mew=2.5, label="median")
        ax.plot([float(run.results[name].value[0])], [0], "o", color="#d62728", label="point value")
        ax.set_yticks([])
        ax.set_xlabel(f"{name} [{unit}]" if unit else name)
    axes.ravel()[0].legend(loc="upper left", bbox_to_anchor=(0, 1.6), ncol=3, frameon=False, fontsize=8)
    fig.suptitle(f"{run.methodology}: {run.uncertainty['samples']:,} samples", y=1.0)
    return _svg(fig)


def sweep_curves(runs) -> str | None:
    """A sweep's headline energy and emissions against its first numeric swept key, a line per choice."""
    first = runs[0]
    keys = list(first.points)
    numeric = [k for k in keys if all(isinstance(v, float) for v in first.points[k])]
    x = numeric[0] if numeric else keys[0]
    others = [k for k in keys if k != x]
    n = len(first.points[x])
    label_of = [", ".join(f"{k}={first.points[k][i]}" for k in others) for i in range(n)]
    colour = colours(label_of)
    panels = [(run, run.method.headline[role], role) for role in ("energy", "emissions") for run in runs
              if run.method and role in run.method.headline][:4]  # fmt: skip
    if not panels:
        return None
    plt = _plt()
    cols = 2 if len(panels) > 1 else 1
    fig, axes = plt.subplots((len(panels) + 1) // 2, cols, figsize=(4.8 * cols, 3.4 * ((len(panels) + 1) // 2)),
                             squeeze=False)  # fmt: skip
    for ax in axes.ravel()[len(panels) :]:
        ax.axis("off")
    for ax, (run, name, role) in zip(axes.ravel(), panels, strict=False):
        values = run.results[name].value
        for label in dict.fromkeys(label_of):
            idx = [i for i in range(n) if label_of[i] == label]
            ax.plot(
                [first.points[x][i] for i in idx], values[idx], marker="o", color=colour[label], label=label or name
            )
        if numeric:
            _log_if_wide(ax, first.points[x], "x")
        _log_if_wide(ax, list(values))
        ax.set_xlabel(x)
        ax.set_ylabel(f"{role} [{run.results[name].unit}]")
        ax.set_title(f"{run.methodology}: {role}")
    if others:
        axes.ravel()[0].legend(fontsize=8, frameon=False)
    return _svg(fig)


def batch_groups(data: dict) -> str | None:
    """A batch's totals by --by group: horizontal bars of each methodology's energy and emissions."""
    if not data["groups"]:
        return None
    panels = [(m, n, r["unit"]) for m, results in data["totals"].items() for n, r in results.items()
              if n in data["headline"].get(m, []) and r["unit"] in ("Wh", "gCO2e")][:4]  # fmt: skip
    if not panels:
        return None
    labels = [", ".join(str(v) for v in g["key"].values()) for g in data["groups"]]
    plt = _plt()
    cols = 2 if len(panels) > 1 else 1
    height = max(2.6, 0.32 * len(labels) + 1.2)
    fig, axes = plt.subplots((len(panels) + 1) // 2, cols, figsize=(5.2 * cols, height * ((len(panels) + 1) // 2)),
                             squeeze=False)  # fmt: skip
    for ax in axes.ravel()[len(panels) :]:
        ax.axis("off")
    colour = colours(m for m, _, _ in panels)
    for ax, (m, n, unit) in zip(axes.ravel(), panels, strict=False):
        values = [float(g["totals"].get(m, {}).get(n, {}).get("value", 0.0)) for g in data["groups"]]
        ax.barh(labels[::-1], values[::-1], color=colour[m])
        ax.set_xlabel(f"{m}.{n}, total [{unit}]")
        ax.tick_params(axis="y", labelsize=8)
    return _svg(fig)
