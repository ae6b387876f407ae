"""The JSON document of a batch (`summary`): totals, `--by` groups, the bad rows listed, and with `--sessions`
the distribution of per-session totals.

A session is the set of requests that share a `session` value (a log column, or a span's trace id): an agent's
task, a chat. `--sessions` reports how many there are, the calls per session (mean, p50, p95, max) and, for
each headline result, the per-session total's mean, p50 and p95 (numpy's linear percentiles over sessions,
each session counted once whatever its number of calls). The per-session rows themselves are listed only
with `--by session`.
"""

from __future__ import annotations

import numpy as np


def summary(batch) -> dict:
    """The JSON document of a batch: totals, groups, the bad rows listed, and `sessions` when asked."""
    t = batch.totals

    def totals(sums):
        return {
            m: {n: {"value": v, "unit": batch.units[m][n]} for n, v in results.items()} for m, results in sums.items()
        }

    headline = {m.name: [n for n in dict.fromkeys(m.headline.values()) if n in t.sums[m.name]] for m in batch.methods}
    groups = [
        {"key": dict(zip(batch.by, key, strict=True)), "requests": g["requests"], "totals": totals(g["sums"])}
        for key, g in sorted(t.groups.items(), key=lambda kv: -kv[1]["requests"])
    ]
    data = {
        "log": batch.log.shown,
        "scenario": batch.scenario.file,
        "rows": t.rows,
        "requests": t.requests,
        "skipped": t.skipped,
        "bad_rows": [row.problem(batch.log).render() for row in t.bad],
        "totals": totals(t.sums),
        "headline": headline,
        "by": list(batch.by),
        "groups": groups if batch.by else [],
    }
    if getattr(batch, "sessions", False):
        data["sessions"] = sessions(groups, headline, batch.units)
        shown = batch.shown_by
        if shown != list(batch.by):  # --sessions without --by session: the groups asked for, summed over sessions
            data["by"], data["groups"] = shown, _regroup(groups, shown) if shown else []
    return data


def sessions(groups: list[dict], headline: dict, units: dict) -> dict:
    """Distribution over sessions of calls and of each headline result's per-session total."""
    per: dict[str, dict] = {}
    for g in groups:
        one = per.setdefault(g["key"]["session"], {"requests": 0.0, "totals": {}})
        one["requests"] += g["requests"]
        for m, results in g["totals"].items():
            for n, r in results.items():
                one["totals"][(m, n)] = one["totals"].get((m, n), 0.0) + r["value"]
    calls = np.array([s["requests"] for s in per.values()], dtype=np.float64)
    out = {"count": len(per), "calls": _stats(calls), "results": {}}
    for m, names in headline.items():
        for n in names:
            values = np.array([s["totals"].get((m, n), 0.0) for s in per.values()], dtype=np.float64)
            out["results"][f"{m}.{n}"] = {**_stats(values), "unit": units[m][n]}
    return out


def _stats(values: np.ndarray) -> dict:
    if not len(values):
        return {"mean": 0.0, "p50": 0.0, "p95": 0.0, "max": 0.0}
    return {"mean": float(values.mean()), "p50": float(np.percentile(values, 50)),
            "p95": float(np.percentile(values, 95)), "max": float(values.max())}  # fmt: skip


def _regroup(groups: list[dict], by: list[str]) -> list[dict]:
    merged: dict[tuple, dict] = {}
    for g in groups:
        key = tuple(g["key"][b] for b in by)
        one = merged.setdefault(key, {"key": {b: g["key"][b] for b in by}, "requests": 0.0, "totals": {}})
        one["requests"] += g["requests"]
        for m, results in g["totals"].items():
            for n, r in results.items():
                slot = one["totals"].setdefault(m, {}).setdefault(n, {"value": 0.0, "unit": r["unit"]})
                slot["value"] += r["value"]
    return sorted(merged.values(), key=lambda g: -g["requests"])


def session_rows(data: dict, show) -> tuple[list[dict], list[str]]:
    """Rows of the --sessions table: calls per session, then each headline result per session."""
    s = data["sessions"]
    rows = [{"per session": f"calls ({s['count']:,} sessions)", **{k: show(v) for k, v in s["calls"].items()}}]
    for name, stats in s["results"].items():
        label = f"{name} [{stats['unit']}]" if stats["unit"] else name
        rows.append({"per session": label, **{k: show(stats[k]) for k in ("mean", "p50", "p95", "max")}})
    return rows, ["per session", "mean", "p50", "p95", "max"]
