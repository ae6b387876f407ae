"""Compare predictions with measurements, per dataset and per group (accelerator, model family, precision).

Four datasets, each a table under `catalogs/benchmarks/`:

- `trtllm-throughput`: the calibration's own data, each row predicted by betas fitted WITHOUT its model
  (leave-one-model-out), so the error is a held-out one. Predicted t_hat against output_tokens / throughput.
- `trtllm-ttft`: first-token latency at batch 1 against the theoretical prefill time t_in (uncorrected).
- `mlenergy` per request and per output token: GPU energy measured by ML.ENERGY against t_hat x N_gpu x P_gpu
  with the default calibration (GPU energy only, as Zeus measures; input lengths are not published, so the
  prediction has no prefill term, and output lengths are rounded to whole tokens).
- `seed002-decode-speed`: seconds per output token of one request (1 / measured tokens/s) against the
  theoretical decode time of one token, t_out with n_out = 1 (a single request, so no batching correction).

Each line: the number of rows, the median ratio predicted / measured, and the mean absolute percentage error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .calibrate import calibrate, duration_terms, held_out, prefers_per_precision, prepare
from .tree import Tree

FOLDER = "catalogs/benchmarks"
GROUPS = ("accelerator", "family", "precision", "engine", "load")


@dataclass
class Dataset:
    name: str
    quantity: str
    predicted: np.ndarray
    measured: np.ndarray
    groups: dict[str, np.ndarray]  # group kind -> label per row
    unusable: int = 0


def datasets(tree: Tree, methodologies=("scope3", "serving")) -> list[Dataset]:
    """The datasets of each methodology: scope3's four, and every result a methodology's calibration: block
    compares (serving), each row predicted by a fit that left its whole model out."""
    out = []
    if "scope3" in methodologies:
        method = tree.methodologies()["scope3"]
        calibration = tree.catalog("calibrations").get("default")
        out += [_throughput(tree), _ttft(tree, method), *_mlenergy(tree, method, calibration),
                _seed002(tree, method)]  # fmt: skip
    for name in methodologies:
        if name != "scope3":
            out += declared(tree, name)
    return out


LOAD_BANDS = ((0, 1.5, "1"), (1.5, 16.5, "2-16"), (16.5, 128.5, "17-128"), (128.5, float("inf"), ">128"))


def declared(tree: Tree, methodology: str) -> list[Dataset]:
    """Held-out predictions of a methodology that declares its calibration (engine.fitting), one Dataset per
    (table, compared result), grouped by accelerator, engine, model family, precision and load band."""
    from .errors import Location
    from .fitting import Fitter, prepare

    method = tree.methodology(methodology, Location(None, path=f"--methodology {methodology}"))
    fitter = Fitter(method, prepare(tree, method))
    full = fitter.fit()
    predicted = fitter.held_out("model", full.values)
    rows, out = fitter.rows, []
    concurrency = fitter.predict(full.values)["concurrency"] if "concurrency" in method.formulas else None
    for result, measured in rows.measured.items():
        for name in dict.fromkeys(rows.dataset):
            sel = (rows.dataset == name) & np.isfinite(measured) & (measured > 0) & np.isfinite(predicted[result])
            if not sel.any():
                continue
            groups = {k: rows.labels[k][sel] for k in ("accelerator", "engine", "family", "precision")}
            if concurrency is not None:
                groups["load"] = np.array([next(label for lo, hi, label in LOAD_BANDS if lo <= c < hi)
                                           for c in concurrency[sel]])  # fmt: skip
            unit = method.unit_of(result)
            quantity = f"{result}, held out by model ({unit})"
            out.append(Dataset(f"{methodology}: {name}", quantity, predicted[result][sel], measured[sel], groups, 0))
    return out


def summary(data: list[Dataset]) -> list[dict]:
    """One row per dataset (group 'all') and per group value: count, median ratio, MAPE."""
    rows = []
    for ds in data:
        ratio = ds.predicted / ds.measured
        rows.append(_line(ds, "all", "all", ratio))
        for kind in ds.groups:
            for label in sorted(set(ds.groups[kind])):
                rows.append(_line(ds, kind, label, ratio[ds.groups[kind] == label]))
    return rows


def _line(ds: Dataset, kind: str, label: str, ratio: np.ndarray) -> dict:
    return {"dataset": ds.name, "quantity": ds.quantity, "group": kind, "value": str(label), "count": int(len(ratio)),
            "median_ratio": float(np.median(ratio)), "mape": float(np.mean(np.abs(ratio - 1)))}  # fmt: skip


def _rows(tree: Tree, name: str):
    doc = tree.table(tree.root / FOLDER / f"{name}.yaml")
    columns = doc.data["columns"]
    rows = [dict(zip(columns, values, strict=True), _index=i) for i, values in enumerate(doc.data["rows"])]
    return doc, rows


def _groups(tree: Tree, rows: list[dict]) -> dict[str, np.ndarray]:
    models = tree.catalog("models")
    return {"accelerator": np.array([r["accelerator"] for r in rows]),
            "family": np.array([models[r["model"]].data.get("family", r["model"]) for r in rows]),
            "precision": np.array([r["precision"] for r in rows])}  # fmt: skip


def _throughput(tree: Tree) -> Dataset:
    prepared = prepare(tree)
    fit = calibrate(tree, prepared=prepared)
    split = prepared.by["precision"] if prefers_per_precision(fit) else None
    predicted = held_out(prepared.x, prepared.y, prepared.by["model"], prepared.doc, split)
    ok = np.isfinite(predicted)
    groups = _groups(tree, prepared.used)
    return Dataset("trtllm-throughput", "t_hat, held out by model (s)", predicted[ok], prepared.y[ok],
                   {k: v[ok] for k, v in groups.items()}, len(prepared.dropped) + int((~ok).sum()))  # fmt: skip


def _ttft(tree: Tree, method) -> Dataset:
    doc, rows = _rows(tree, "trtllm-ttft")
    for r in rows:
        r.update(gpus=r["tp"], output_tokens=0)
    terms, kept, dropped = duration_terms(tree, method, doc, rows, targets=("t_in",))
    used = [rows[i] for i in kept]
    measured = np.array([r["first_token_ms"] / 1000 for r in used])
    return Dataset("trtllm-ttft", "first-token latency vs t_in (s)", terms["t_in"], measured, _groups(tree, used),
                   len(dropped))  # fmt: skip


def _mlenergy(tree: Tree, method, calibration) -> list[Dataset]:
    doc, rows = _rows(tree, "mlenergy")
    for r in rows:
        r.update(input_tokens=0, output_tokens=max(1, round(r["output_tokens"])))
    targets = ("t_hat", "N_gpu", "P_gpu")
    terms, kept, dropped = duration_terms(tree, method, doc, rows, targets=targets, calibration=calibration)
    used = [rows[i] for i in kept]
    energy = terms["t_hat"] * terms["N_gpu"] * terms["P_gpu"] if kept else np.array([])
    tokens = np.array([r["output_tokens"] for r in used])
    groups = _groups(tree, used)
    return [
        Dataset("mlenergy", "GPU energy per request (J)", energy, np.array([r["energy_per_request_j"] for r in used]),
                groups, len(dropped)),
        Dataset("mlenergy", "GPU energy per output token (J)", energy / tokens,
                np.array([r["energy_per_output_token_j"] for r in used]), groups, len(dropped)),
    ]  # fmt: skip


def _seed002(tree: Tree, method) -> Dataset:
    doc, rows = _rows(tree, "seed002-decode-speed")
    for r in rows:
        r.update(input_tokens=0, output_tokens=1)
    terms, kept, dropped = duration_terms(tree, method, doc, rows, targets=("t_out",))
    used = [rows[i] for i in kept]
    measured = np.array([1 / r["output_tokens_per_s"] for r in used])
    groups = _groups(tree, used)
    groups["accelerator"] = np.array([f"{r['accelerator']} {r['engine']}" for r in used])  # the engine matters most
    return Dataset("seed002-decode-speed", "seconds per output token, one request", terms["t_out"], measured, groups,
                   len(dropped))  # fmt: skip


def batch1_terms(tree: Tree) -> dict:
    """scope3's theoretical batch-1 terms beside their measurements: {beta field: (theory, measured)}."""
    method = tree.methodologies()["scope3"]
    ttft, speed = _ttft(tree, method), _seed002(tree, method)
    return {"beta_in": (ttft.predicted, ttft.measured), "beta_out": (speed.predicted, speed.measured)}


def require_matplotlib(path: str):
    """matplotlib, or a clear error naming the extra that installs it; and `path` a file it can write (a new
    file in an existing folder or a regular file, engine.safefile) in a format it knows, so that a bad --plot
    fails before anything is computed."""
    from .errors import ImpactError, Location, Problem
    from .safefile import check_target

    where = Location(None, path=f"--plot {path}")
    try:
        import matplotlib
    except ImportError:
        raise ImpactError(Problem(where, "matplotlib is not installed",
                                  'the plot extra: pip install "impact-llm[plot]"')) from None  # fmt: skip
    check_target(path, where)
    from matplotlib.backend_bases import FigureCanvasBase

    known = FigureCanvasBase.get_supported_filetypes()
    if _format(path) not in known:
        raise ImpactError(Problem(where, f"matplotlib cannot write a '.{_format(path)}' file",
                                  "a file name ending in " + ", ".join(f".{k}" for k in sorted(known))))  # fmt: skip
    return matplotlib


def _unit(quantity: str) -> str:
    """'t_hat, held out by model (s)' -> 's'."""
    return quantity.rsplit("(", 1)[1].rstrip(")") if quantity.endswith(")") else ""


def _format(path: str) -> str:
    return Path(path).suffix[1:].lower() or "png"


def save_figure(fig, path: str, dpi: int) -> None:
    """Write a figure through engine.safefile: whole or not at all, never onto a link, directory or device."""
    from .errors import Location
    from .safefile import replacing

    with replacing(path, Location(None, path=f"--plot {path}"), binary=True) as fh:
        fig.savefig(fh, format=_format(path), dpi=dpi)


def plot(data: list[Dataset], path: str) -> None:
    """Predicted against measured, a panel per dataset in a grid of two columns (log axes where the values span
    decades), one colour per accelerator across every panel and one legend for all, the y = x line and a
    factor-of-two band. Written through engine.safefile."""

    from .errors import Location
    from .safefile import check_target

    where = Location(None, path=f"--plot {path}")
    check_target(path, where)
    matplotlib = require_matplotlib(path)
    matplotlib.use("Agg")
    from collections import Counter

    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    counts = Counter(str(a) for ds in data for a in ds.groups["accelerator"])
    accelerators = sorted(counts)
    palette = [*plt.get_cmap("tab10").colors, *plt.get_cmap("Dark2").colors, *plt.get_cmap("Set1").colors]
    colour = {a: palette[i % len(palette)] for i, (a, _) in enumerate(counts.most_common())}  # common: strongest
    rows = (len(data) + 2) // 2  # one cell more than the panels: the legend's
    fig, axes = plt.subplots(rows, 2, figsize=(11, 4.2 * rows), squeeze=False)
    for ax, ds in zip(axes.ravel(), data, strict=False):
        for label in sorted(set(ds.groups["accelerator"])):
            mask = ds.groups["accelerator"] == label
            ax.scatter(ds.measured[mask], ds.predicted[mask], s=12, alpha=0.75, color=colour[str(label)], label=label)
        low = min(ds.measured.min(), ds.predicted.min())
        high = max(ds.measured.max(), ds.predicted.max())
        ax.plot([low, high], [low, high], color="black", linewidth=0.9)
        for factor in (0.5, 2.0):
            ax.plot([low, high], [low * factor, high * factor], color="grey", linewidth=0.7, linestyle="--")
        unit = _unit(ds.quantity)
        scale = "log" if low > 0 and high / low >= 30 else "linear"  # log where the values span decades
        ax.set(xscale=scale, yscale=scale, xlabel=f"measured [{unit}]" if unit else "measured",
               ylabel=f"predicted [{unit}]" if unit else "predicted")  # fmt: skip
        ax.set_title(f"{ds.name}: {ds.quantity} (n = {len(ds.measured):,})", fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
    spare = axes.ravel()[len(data) :]
    for ax in spare:
        ax.axis("off")
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=colour[a], label=a) for a in accelerators]
    handles += [plt.Line2D([], [], color="black", label="predicted = measured"),
                plt.Line2D([], [], color="grey", linestyle="--", label="a factor of 2 off")]  # fmt: skip
    spare[0].legend(handles=handles, loc="center", ncol=2, frameon=False, title="accelerator")
    fig.tight_layout()
    save_figure(fig, path, 100)
    plt.close(fig)
