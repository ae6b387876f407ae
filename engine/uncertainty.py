"""Uncertain values: ranges and distributions, sampled in one vectorized pass, summarised with percentiles.

Wherever a number may be written in a scenario's `set:` or in the catalog fields that allow it (the schemas
say which), an uncertain value may be written instead:

    {low: 1.1, high: 1.4}                              a range: uniform between the bounds; the point value
                                                       is `value` if given, else the midpoint
    {distribution: uniform, low: 1.1, high: 1.4}       the same, said explicitly
    {distribution: normal, mean: 1.2, sigma: 0.05}     point value: the mean
    {distribution: lognormal, median: 150, sigma: 0.8} sigma of ln(x); point value: the median
    {distribution: triangular, low: 1, mode: 1.2, high: 1.6}   point value: the mode

A run without `--samples` uses the point values, so adding a range never changes a single-number result.
With `--samples N --seed S`, every uncertain input is drawn N times from numpy's PCG64 generator, in the
order of the names (so a seed reproduces the same draws), the methodology is evaluated once over the N
samples, and each result gets p5, p50, p95 and mean, and a sensitivity ranking: the Spearman rank
correlation between each uncertain input and the result, largest magnitude first.

Every parameter is read by `engine.numbers.parse`, like any value a person writes: a finite number (YAML files
hold numbers here, the schemas say so; where a quantity string gets through, as in the Python API's `set=`
mapping, it is converted to the input's unit); a lognormal's sigma, of ln(x), is a pure number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import numbers
from .errors import ImpactError, Location, Problem, shorten

PARAMETERS = {
    "range": ("low", "high"),
    "uniform": ("low", "high"),
    "normal": ("mean", "sigma"),
    "lognormal": ("median", "sigma"),
    "triangular": ("low", "mode", "high"),
}
OPTIONAL = {"value", "source", "notes", "distribution"}
PERCENTILES = (5, 50, 95)


@dataclass(frozen=True)
class Dist:
    """A range or a distribution, with the point value a run without samples uses."""

    kind: str
    params: dict
    nominal: float
    location: Location
    source: str = ""
    scale: float = 1.0  # applied to draws, as an input's `scale` applies to the catalog field

    def scaled(self, factor: float) -> Dist:
        return Dist(self.kind, self.params, self.nominal, self.location, self.source, self.scale * factor)

    @property
    def point(self) -> float:
        return self.nominal * self.scale

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        p = self.params
        if self.kind in ("range", "uniform"):
            draws = rng.uniform(p["low"], p["high"], n)
        elif self.kind == "normal":
            draws = rng.normal(p["mean"], p["sigma"], n)
        elif self.kind == "lognormal":
            draws = rng.lognormal(math.log(p["median"]), p["sigma"], n)
        else:
            draws = rng.triangular(p["low"], p["mode"], p["high"], n) if p["low"] < p["high"] else np.full(n, p["low"])
        return draws * self.scale

    def describe(self) -> str:
        shown = ", ".join(f"{k} {v:g}" for k, v in self.params.items())
        text = f"{self.kind} ({shown})" + (f" x {self.scale:g}" if self.scale != 1 else "")
        return text + (f"; {self.source}" if self.source else "")


def is_uncertain(value) -> bool:
    return isinstance(value, dict) and ("distribution" in value or {"low", "high"} <= value.keys())


def parse(raw: dict, loc, unit: str = "") -> Dist:
    """A Dist from its mapping; `loc(key)` gives the location of a key (or of the mapping, for None); `unit` is
    the unit its parameters are in (a quantity written with another unit is converted to it).
    Parameters are checked here (the schema checks only their types): every one the distribution needs,
    none it does not, low <= mode <= high, sigma >= 0, a lognormal median > 0."""
    kind = raw.get("distribution", "range")
    if kind not in PARAMETERS:
        raise ImpactError(Problem(loc("distribution"), f"unknown distribution {shorten(repr(kind))}",
                                  "one of " + ", ".join(k for k in PARAMETERS if k != "range")))  # fmt: skip
    wanted = PARAMETERS[kind]
    for key in raw:
        if key not in wanted and key not in OPTIONAL:
            raise ImpactError(Problem(loc(key), f"'{shorten(key)}' is not a parameter of a {kind} distribution",
                                      "only " + ", ".join(wanted)))  # fmt: skip
    for key in wanted:
        if key not in raw:
            raise ImpactError(Problem(loc(None), f"a {kind} distribution needs '{key}'", ", ".join(wanted)))
    p = {key: _number(raw, key, "" if kind == "lognormal" and key == "sigma" else unit, loc) for key in wanted}
    if "low" in p and p["low"] > p["high"]:
        raise ImpactError(Problem(loc("low"), f"low {p['low']:g} is greater than high {p['high']:g}", "low <= high"))
    if kind == "triangular" and not p["low"] <= p["mode"] <= p["high"]:
        raise ImpactError(
            Problem(loc("mode"), f"mode {p['mode']:g} is outside [{p['low']:g}, {p['high']:g}]", "low <= mode <= high")
        )
    if "sigma" in p and p["sigma"] < 0:
        raise ImpactError(Problem(loc("sigma"), f"sigma {p['sigma']:g} is negative", "sigma >= 0"))
    if kind == "lognormal" and p["median"] <= 0:
        raise ImpactError(Problem(loc("median"), f"median {p['median']:g} is not positive", "a lognormal median > 0"))
    nominal = {"normal": p.get("mean"), "lognormal": p.get("median"), "triangular": p.get("mode")}.get(kind)
    if nominal is None:
        nominal = (p["low"] + p["high"]) / 2
    if "value" in raw:
        if kind not in ("range", "uniform"):
            raise ImpactError(Problem(loc("value"), f"a {kind} distribution takes its point value from "
                                      + {"normal": "mean", "lognormal": "median", "triangular": "mode"}[kind],
                                      "no 'value' here"))  # fmt: skip
        nominal = _number(raw, "value", unit, loc)
        if not p["low"] <= nominal <= p["high"]:
            raise ImpactError(Problem(loc("value"), f"value {nominal:g} is outside [{p['low']:g}, {p['high']:g}]",
                                      "a point value within the range"))  # fmt: skip
    return Dist(kind, p, nominal, loc(None), str(raw.get("source", "")))


def _number(raw: dict, key: str, unit: str, loc) -> float:
    try:
        return numbers.parse(raw[key], unit)
    except numbers.NumberProblem as exc:
        raise ImpactError(Problem(loc(key), f"{key}: {exc}", numbers.expected(unit))) from None


@dataclass
class Spread:
    """The distribution of one result over the samples."""

    p5: float
    p50: float
    p95: float
    mean: float
    sensitivity: list[tuple[str, float]] = field(default_factory=list)  # (input, Spearman rho), |rho| desc


def draw(spreads: dict[str, Dist], n: int, seed: int | None) -> dict[str, np.ndarray]:
    """N draws of every uncertain input, in name order so that a seed reproduces them. Inputs that read the
    same uncertain field (one place in one file, as market_gco2e_per_kwh falls back to the grid intensity
    grid_intensity reads) share its draws, each times its own scale: one uncertain quantity, not two."""
    rng = np.random.default_rng(seed)
    out, drawn = {}, {}
    for name in sorted(spreads):
        d = spreads[name]
        where = d.location
        key = (where.file, where.line, where.column, where.path, d.kind, tuple(sorted(d.params.items())))
        if key not in drawn:
            drawn[key] = Dist(d.kind, d.params, d.nominal, d.location, d.source).sample(rng, n)
        out[name] = drawn[key] * d.scale
    return out


def _ranks(x: np.ndarray) -> np.ndarray | None:
    """Centred, normalised ranks (None for a constant): their dot product is Spearman's rho."""
    if np.ptp(x) == 0:
        return None
    r = np.empty(len(x))
    r[np.argsort(x)] = np.arange(len(x), dtype=np.float64)
    r -= r.mean()
    return r / np.linalg.norm(r)


def summarise(results: dict[str, np.ndarray], draws: dict[str, np.ndarray]) -> dict[str, Spread]:
    """Percentiles and mean of each result, and each uncertain input's rank correlation with it."""
    ranked = {name: _ranks(x) for name, x in draws.items()}
    ranked = {name: r for name, r in ranked.items() if r is not None}
    out = {}
    for name, x in results.items():
        if len(x) == 1 or np.ptp(x) == 0:  # no spread: every sample is the point value
            out[name] = Spread(*[float(x[0])] * 4)
            continue
        p5, p50, p95 = (float(v) for v in np.percentile(x, PERCENTILES))
        rx = _ranks(x)
        sens = sorted(((k, float(rx @ r)) for k, r in ranked.items()), key=lambda kv: -abs(kv[1]))
        out[name] = Spread(p5, p50, p95, float(x.mean()), sens)
    return out
