"""Plain text: the short reports of `impact calibrate` and `impact estimate-params`, a line per fact."""

from __future__ import annotations

import textwrap


def _percent(value) -> str:
    return "n/a (a single group)" if value is None else f"{value:.1%}"


def calibration(fit, per_precision_used: bool, written: str | None) -> str:
    """A fit (engine.calibrate.calibrate): its data, betas, in-sample and held-out errors, what was written."""
    lines = [
        f"fitted on {fit.rows} rows of {fit.data} ({fit.groups['model']} models, {fit.groups['accelerator']} "
        f"accelerators, {fit.groups['precision']} precisions); {len(fit.dropped)} rows unusable",
        f"beta_in = {fit.beta_in:.6g}, beta_out = {fit.beta_out:.6g}",
        f"R^2 (log durations) = {fit.r2_log:.3f}, MAPE = {fit.mape:.1%}",
        f"held-out MAPE: whole models left out {_percent(fit.cv_mape_by_model)}, whole accelerators left out "
        f"{_percent(fit.cv_mape_by_accelerator)}, per-precision betas (models left out) "
        f"{_percent(fit.cv_mape_per_precision)}",
    ]
    for precision, (b_in, b_out) in fit.per_precision.items():
        lines.append(f"  {precision}: beta_in = {b_in:.6g}, beta_out = {b_out:.6g}")
    used = "per-precision betas" if per_precision_used else "pooled betas"
    lines.append(f"using {used} (lower held-out error); " + (f"wrote {written}" if written else "nothing written"))
    return "\n".join(lines) + "\n"


def parameter_estimate(found, basis: str) -> str:
    """An estimate of active parameters from a price (engine.estimate.estimate), with each provider's fit."""
    lines = [
        f"active parameters: {found.point_b:.3g}B (95% interval {found.low_b:.3g}B to {found.high_b:.3g}B)",
        f"conservative estimate (upper bound, used by scenarios): {found.conservative_b:.3g}B",
    ]
    for p in found.predictions:
        lines.append(f"  {p['provider']}: ${p['price']:g}/M tokens ({basis}), {p['fit']} fit on {p['fit_rows']} models")
    return "\n".join(lines) + "\n"


def _items(head: str, items: list[str], width: int, indent: str = "      ") -> list[str]:
    """`head` then `items` joined by ", ", in lines of at most `width` columns where the items allow it, each item
    whole (a value never splits from its name); lines after the first start with `indent`."""
    lines, line = [], head
    for i, item in enumerate(items):
        text = item + ("," if i < len(items) - 1 else "")
        if line != head and len(line) + 1 + len(text) > width:
            lines.append(line)
            line = indent + text
        else:
            line = f"{line} {text}"
    return [*lines, line]


def serving_calibration(fit, dropped: int, written: str | None, names: list[str], width: int = 80) -> str:
    """A fit of declared parameters (engine.fitting): values per engine, in the order `names` declares them, then
    in-sample and held-out errors; lines fit `width` columns."""
    used = [f"{d} ({n} rows)" for d, n in fit.rows.items()]
    used[-1] += f"; {dropped} rows unusable"
    lines = _items("fitted per engine on", used, width, "  ")
    family = set(fit.references)
    for key, values in fit.values.items():
        tied = fit.tied.get(key, [])
        own = [n for n in names if n in values and n not in family]
        shown = [f"{n} = {values[n]:.4g}" + ("*" if n in tied else "") for n in own]
        if shown:
            lines += _items(f"  {key}:", shown, width)
    if fit.tied:
        note = "  * no row of that engine informs it: the value of the engine with most rows that does"
        lines += textwrap.wrap(note, width, subsequent_indent="    ", break_long_words=False)
    for name, reference in fit.references.items():
        shown = [f"{k} = {v[name]:.4g}" for k, v in fit.values.items() if name in v]
        lines += _items(f"  {name} per accelerator family:", shown, width)
        lines.append(f"      ({reference}, with most rows, is the reference)")
    lines.append("error (median predicted/measured, MAPE):")
    for kind, table in fit.errors.items():
        lines.append(f"  {kind.replace('_', ' ')}:")
        for key, e in table.items():
            lines.append(f"    {key}: {e['rows']} rows, median {e['median_ratio']:.3g}, MAPE {e['mape']:.1%}")
    lines.append(f"wrote {written}" if written else "nothing written")
    return "\n".join(lines) + "\n"
