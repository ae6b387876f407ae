"""Estimate a closed model's parameter count from its API price: the Scope3 method (seed 000).

For each provider, fit ln(P) = b0 + b1 ln(price) on the models whose size is known: rows of
`catalogs/benchmarks/api-prices.yaml` whose `params_basis` is published, or a Together AI size tier (the
tier's midpoint). P is the ACTIVE parameter count in billions (what a token's compute and price follow, and
what scope3's P_m means). The price is the INPUT price per million tokens: across providers it predicts size
best (R^2 of the log-log fit 0.53, against 0.51 for a 3:1 blend and 0.43 for the output price), and `--basis`
can choose another.

A provider with fewer than MIN_ROWS known sizes, no spread of prices or no residual spread (OpenAI,
Anthropic and Google publish no sizes at all) uses the pooled fit over every provider's known sizes instead,
and the estimate says so.
Each prediction has the standard error of a new observation, s * sqrt(1 + 1/n + (x0 - mean x)^2 / Sxx); the
predictions of several providers are combined with weights 1/SE^2 on the log scale, and the 95% interval is
exp(ln P +- t * SE) with Student's t at the smallest residual degrees of freedom used. The seed's conservative
estimate, the upper bound, is what a scenario uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import ImpactError, Location, Problem, suggest
from .tree import Tree

PRICES = "catalogs/benchmarks/api-prices.yaml"
MIN_ROWS = 4
BASES = ("input", "output", "blend")


@dataclass
class LogFit:
    """ln(P) = b0 + b1 ln(price), with what a prediction's standard error needs."""

    name: str
    b0: float
    b1: float
    n: int
    s: float
    x_mean: float
    sxx: float

    def predict(self, price: float) -> tuple[float, float]:
        x0 = math.log(price)
        se = self.s * math.sqrt(1 + 1 / self.n + (x0 - self.x_mean) ** 2 / self.sxx)
        return self.b0 + self.b1 * x0, se


@dataclass
class Estimate:
    point_b: float
    low_b: float
    high_b: float
    predictions: list[dict]  # per provider: provider, fit used, price, ln estimate, SE

    @property
    def conservative_b(self) -> float:
        return self.high_b

    def describe(self) -> str:
        used = "; ".join(f"{p['provider']} at ${p['price']:g}/M via the {p['fit']} fit" for p in self.predictions)
        return (f"ESTIMATE from API price ({used}): point {self.point_b:.3g}B, 95% interval "
                f"[{self.low_b:.3g}B, {self.high_b:.3g}B]; the conservative upper bound is used")  # fmt: skip


def price_of(row: dict, basis: str) -> float | None:
    price_in, price_out = row.get("input_usd_per_1m"), row.get("output_usd_per_1m")
    if basis == "input":
        return price_in
    if basis == "output":
        return price_out
    return None if price_in is None or price_out is None else (3 * price_in + price_out) / 4


def parse_price(raw: str | None, option: str) -> float | None:
    """A price a person typed (--price-in 2.5), read by engine.numbers: a positive, finite number."""
    from .numbers import NumberProblem, parse

    if raw is None:
        return None
    where = Location(None, path=f"{option} {raw}")
    try:
        price = parse(raw)
    except NumberProblem as exc:
        raise ImpactError(Problem(where, str(exc), "a positive price in USD per million tokens, such as 2.5")) from None
    if price <= 0:
        raise ImpactError(Problem(where, f"{price:g} is not positive", "a positive price in USD per million tokens"))
    return price


def known_size(row: dict) -> float | None:
    """Active parameters in billions when published (or a size tier's midpoint); else None."""
    basis = row.get("params_basis") or ""
    value = row.get("params_active_b")
    if basis.startswith("published") and isinstance(value, (int, float)):
        return float(value)
    if basis.startswith("Together") and isinstance(value, str) and "-" in value:
        low, high = (float(v) for v in value.split("-"))
        return (low + high) / 2
    return None


def load_prices(tree: Tree) -> list[dict]:
    doc = tree.table(tree.root / PRICES)
    columns = doc.data["columns"]
    return [dict(zip(columns, row, strict=True)) for row in doc.data["rows"]]


def fits(rows: list[dict], basis: str = "input", exclude: str | None = None) -> dict[str, LogFit]:
    """A fit per provider with at least MIN_ROWS known sizes, and the pooled fit under the key '*'."""
    points: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        size, price = known_size(row), price_of(row, basis)
        if size and price and size > 0 and price > 0 and row["model"] != exclude:
            points.setdefault(row["provider"], []).append((math.log(price), math.log(size)))
    out = {}
    pooled = [point for group in points.values() for point in group]
    for name, group in [*points.items(), ("*", pooled)]:
        fit = _fit(name, group)
        if fit is not None:
            out[name] = fit
    return out


def _fit(name: str, points) -> LogFit | None:
    if len(points) < MIN_ROWS:
        return None
    x, y = np.array(points).T
    sxx = float(((x - x.mean()) ** 2).sum())
    if sxx <= 1e-12:
        return None
    b1 = float(((x - x.mean()) * (y - y.mean())).sum() / sxx)
    b0 = float(y.mean() - b1 * x.mean())
    residual = y - (b0 + b1 * x)
    s = float(math.sqrt((residual @ residual) / (len(x) - 2)))
    if s <= 1e-9:  # every known size identical (or a perfect line): no error to weigh it by
        return None
    return LogFit(name, b0, b1, len(x), s, float(x.mean()), sxx)


def estimate(tree: Tree, offers: list[tuple[str, float]], basis: str = "input", exclude: str | None = None,
             where: Location | None = None) -> Estimate:  # fmt: skip
    """Combine the predictions for (provider, price) offers of one model; see the module docstring."""
    from scipy.stats import t as student  # deferred: only estimates need scipy

    where = where or Location(None, path="estimate-params")
    table = fits(load_prices(tree), basis, exclude)
    predictions = []
    for provider, price in offers:
        if isinstance(price, bool) or not isinstance(price, (int, float)) or not math.isfinite(price) or price <= 0:
            raise ImpactError(Problem(where, f"the {basis} price of {provider} is {price!r}",
                                      "a positive, finite price in USD per million tokens"))  # fmt: skip
        fit = table.get(provider, table["*"])
        ln_p, se = fit.predict(price)
        predictions.append({"provider": provider, "fit": "own" if fit.name == provider else "pooled",
                            "fit_rows": fit.n, "price": price, "ln_estimate": ln_p, "se": se})  # fmt: skip
    weights = np.array([1 / p["se"] ** 2 for p in predictions])
    ln_hat = float((weights * [p["ln_estimate"] for p in predictions]).sum() / weights.sum())
    se_hat = float(math.sqrt(1 / weights.sum()))
    dof = min(p["fit_rows"] for p in predictions) - 2
    q = float(student.ppf(0.975, dof))
    return Estimate(math.exp(ln_hat), math.exp(ln_hat - q * se_hat), math.exp(ln_hat + q * se_hat), predictions)


def check_provider(tree: Tree, provider: str, where: Location) -> None:
    """A provider must be one the price table knows, or 'any' (the pooled fit)."""
    providers = sorted({r["provider"] for r in load_prices(tree)})
    if provider != "any" and provider not in providers:
        raise ImpactError(Problem(where, f"unknown provider '{provider}'", f"a provider of {PRICES}, or any",
                                  suggest(provider, providers)))  # fmt: skip


def _priced_as(row: dict, name: str) -> bool:
    """Whether a price-table row is model `name` (its id, or the part after its last /)."""
    return row["model"] == name or row["model"].split("/")[-1] == name


def is_priced(tree: Tree, provider: str, name: str) -> bool:
    """Whether the price table has model `name` of `provider` (as offers_for would find it)."""
    return any(r["provider"] == provider and _priced_as(r, name) for r in load_prices(tree))


def offers_for(tree: Tree, provider: str, name: str, basis: str, where: Location) -> list[tuple[str, float]]:
    """The (provider, price) of a model named in the price table, e.g. openai / gpt-4o."""
    check_provider(tree, provider, where)
    mine = [r for r in load_prices(tree) if r["provider"] == provider]
    match = [r for r in mine if _priced_as(r, name)]
    if not match:
        names = [r["model"].split("/")[-1] for r in mine]
        raise ImpactError(Problem(where, f"{provider} has no model '{name}' in {PRICES}",
                                  f"a model {provider} prices", suggest(name, names)))  # fmt: skip
    return [(provider, price_of(match[0], basis))]
