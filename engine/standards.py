"""The standards' shapes as plain rows: GHG Protocol inventory lines, the Software Carbon Intensity, ESRS E1.

A run's emissions are read from the results its methodology names `operational_emissions` (electricity),
`embodied_emissions` (hardware manufacture, amortised per request) and `training_emissions` (model training
and fine-tuning, amortised), in gCO2e per request, and its energy from `E_facility` (else the headline
energy), in Wh. Market-based electricity emissions come from a result `operational_emissions_market`, or
`emissions_market` (less its embodied and training terms when it reads them); a run without one has none.
Nothing here formats text: `engine/render/ghg.py`, `sci.py` and `esrs.py` do.

- GHG Protocol (Corporate Standard 2004, Scope 2 Guidance 2015, Scope 3 Standard 2011): own or rented
  hardware (deployment other than `api`): Scope 2 location- and market-based for the electricity, Scope 3
  category 2 (capital goods) for the embodied share; a service (`api`): everything in Scope 3 category 1
  (purchased goods and services). Training amortisation is Scope 3 category 1 in both, stated on its own line.
- SCI (ISO/IEC 21031:2024, the Green Software Foundation's SCI specification 1.0): SCI = (E x I + M) / R with
  E the facility energy (kWh), I the grid's carbon intensity (gCO2e/kWh), M the embodied share, R the
  functional unit. Training is outside the runtime boundary (the SCI for AI draft's consumer boundary).
- ESRS E1 (Delegated Regulation (EU) 2023/2772): E1-5 energy consumption (MWh), E1-6 gross Scope 2 location-
  and market-based, Scope 3, and total GHG emissions (tCO2e), over the scenario's requests.
"""

from __future__ import annotations

from dataclasses import dataclass

from .api import Run
from .errors import ImpactError, Location, Problem

PARTS = ("operational_emissions", "embodied_emissions", "training_emissions")
PER = ("request", "token", "1k-tokens", "session")


def covered(run: Run) -> bool:
    """Whether the run splits its emissions (operational, embodied, training): the shapes need that."""
    return all(name in run.results for name in PARTS)


def value_of(run: Run, name: str) -> float:
    """Result `name` of a run, per request, in its own unit (a scenario without a sweep has one value)."""
    return float(run.results[name].value[0])


def _reads(run: Run, name: str, wanted: str) -> bool:
    """Whether formula `name` reads `wanted`, directly or through other formulas."""
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        formula = run.method.formulas.get(current) if run.method else None
        if formula is None or current in seen:
            continue
        seen.add(current)
        if wanted in formula.reads:
            return True
        todo += formula.reads
    return False


def market_based(run: Run) -> float | None:
    """Market-based electricity emissions per request (gCO2e), or None when the run has no contractual factor."""
    if "operational_emissions_market" in run.results:
        return value_of(run, "operational_emissions_market")
    if "emissions_market" not in run.results:
        return None
    value = value_of(run, "emissions_market")
    for part in PARTS[1:]:  # a total: keep its electricity term only
        if _reads(run, "emissions_market", part):
            value -= value_of(run, part)
    return value


MARKET_FACTOR = "market_gco2e_per_kwh"


def market_basis(run: Run) -> str:
    """Where the market-based factor came from, in words: a contractual factor, the region's residual mix, or
    the grid average (the Scope 2 Guidance's last resort, when neither is known)."""
    value = run.inputs.get(MARKET_FACTOR)
    if value is None:
        return "contractual instruments"
    binding = value.binding
    region = run.scenario.entities.get("region")
    where = f" of {region.id}" if region is not None else ""
    if binding is None:
        return "contractual factor given"
    if binding.field.startswith("residual_mix"):
        return f"residual mix{where}"
    return f"grid average{where}: no contractual factor or residual mix"


def energy_wh(run: Run) -> float:
    """Energy drawn per request (Wh): E_facility (IT energy x PUE), else the headline energy."""
    name = "E_facility" if "E_facility" in run.results else (run.method.headline.get("energy") if run.method else "")
    return value_of(run, name) if name in run.results else 0.0


@dataclass
class Line:
    scope: str  # "Scope 2", "Scope 3"
    category: str  # "purchased electricity", "category 1: purchased goods and services", ...
    basis: str  # what the line holds
    per_request: float | None  # gCO2e; None: not available
    note: str = ""


def is_service(run: Run) -> bool:
    return run.scenario.entities["deployment"].id == "api"


def ghg_lines(run: Run) -> list[Line]:
    """The GHG Protocol inventory lines of one run, per request (gCO2e); see the module docstring."""
    operational, embodied, training = (value_of(run, name) for name in PARTS)
    market = market_based(run)
    cat1 = "category 1: purchased goods and services"
    if is_service(run):
        return [
            Line("Scope 3", cat1, "electricity of the provider's servers (location-based)", operational),
            Line("Scope 3", cat1, "provider's hardware manufacture, amortised", embodied),
            Line("Scope 3", cat1, "model training and fine-tuning, amortised", training),
        ]
    missing = "not available (no contractual factor)"
    return [
        Line("Scope 2", "purchased electricity", "location-based (grid average)", operational),
        Line(
            "Scope 2",
            "purchased electricity",
            f"market-based ({market_basis(run)})",
            market,
            "" if market is not None else missing,
        ),  # fmt: skip
        Line("Scope 3", "category 2: capital goods", "hardware manufacture, amortised share", embodied),
        Line("Scope 3", cat1, "model training and fine-tuning, amortised", training),
    ]


def total(lines: list[Line], market: bool = False) -> float | None:
    """The sum of the lines, location-based (or market-based: None when that line is not available)."""
    out = 0.0
    for line in lines:
        if line.scope == "Scope 2" and ("market" in line.basis) != market:
            continue
        if line.per_request is None:
            return None
        out += line.per_request
    return out


@dataclass
class SCI:
    E: float  # kWh per request
    I: float  # gCO2e/kWh  # noqa: E741 (the specification's letter)
    M: float  # gCO2e per request
    R: float  # functional units per request
    per: str
    score: float  # gCO2e per functional unit
    training: float  # gCO2e per functional unit, outside the boundary


def sci(run: Run, per: str = "request", session_requests: float | None = None) -> SCI:
    """SCI = (E x I + M) / R for one request, R in functional units `per` (request, token = input + output
    tokens, 1k-tokens, session = `session_requests` requests)."""
    where = Location(None, path=f"--per {per}")
    if per not in PER:
        raise ImpactError(Problem(where, f"unknown functional unit '{per}'", "one of " + ", ".join(PER)))
    tokens = sum(float(run.inputs[n].value[0]) for n in ("n_in", "n_out") if n in run.inputs)
    if per == "session" and not session_requests:
        raise ImpactError(Problem(where, "a session needs its number of requests",
                                  "--session-requests N (requests in one session)"))  # fmt: skip
    if per in ("token", "1k-tokens") and tokens <= 0:
        raise ImpactError(Problem(where, "the request has no tokens", "a request with input or output tokens"))
    units = {"request": 1.0, "token": tokens, "1k-tokens": tokens / 1000, "session": 1 / (session_requests or 1)}[per]
    e_kwh = energy_wh(run) / 1000
    operational, embodied, training = (value_of(run, name) for name in PARTS)
    intensity = operational / e_kwh if e_kwh else 0.0  # E x I is the operational emissions
    return SCI(e_kwh, intensity, embodied, units, per, (operational + embodied) / units, training / units)
