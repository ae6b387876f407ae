"""ESRS E1 as CSV: a row per scenario and methodology with the scenario's requests' energy consumption (MWh,
disclosure E1-5) and gross GHG emissions (tCO2e, E1-6: Scope 2 location- and market-based, Scope 3, totals).

Columns, in order:
  scenario, methodology, deployment: what was estimated; requests: how many requests the figures cover;
  energy_consumption_mwh: E1-5 energy consumption of own or rented hardware (IT energy x PUE), empty for API
    use (the provider's consumption, not yours);
  scope1_tco2e: 0 (inference burns no fuel);
  scope2_location_tco2e, scope2_market_tco2e: E1-6 gross Scope 2, empty for API use; market-based empty when
    the run has no contractual factor;
  scope3_cat1_tco2e: purchased goods and services (API use: all of it; own hardware: model training);
  scope3_cat2_tco2e: capital goods, the hardware's amortised manufacture (own hardware);
  total_location_tco2e, total_market_tco2e: Scope 1 + 2 + 3, location- and market-based (market-based empty
    when not available; for API use both equal Scope 3);
  notes: what the row assumes.
"""

from __future__ import annotations

import csv
import io

from .. import standards

COLUMNS = ["scenario", "methodology", "deployment", "requests", "energy_consumption_mwh", "scope1_tco2e",
           "scope2_location_tco2e", "scope2_market_tco2e", "scope3_cat1_tco2e", "scope3_cat2_tco2e",
           "total_location_tco2e", "total_market_tco2e", "notes"]  # fmt: skip
T_PER_G = 1e-6
MWH_PER_WH = 1e-6


def runs(runs) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for run in runs:
        if not standards.covered(run):
            continue
        n = run.requests
        lines = standards.ghg_lines(run)
        service = standards.is_service(run)

        def tonnes(value, n=n):
            return "" if value is None else repr(value * n * T_PER_G)

        cat1 = sum(ln.per_request for ln in lines if ln.category.startswith("category 1"))
        cat2 = sum(ln.per_request for ln in lines if ln.category.startswith("category 2"))
        market = standards.market_based(run)
        location_total, market_total = standards.total(lines), standards.total(lines, market=True)
        notes = ["API use: the provider's hardware and location are assumed"] if service else []
        if not service and market is None:
            notes.append("market-based: not available (no contractual factor)")
        elif not service:
            notes.append(f"market-based: {standards.market_basis(run)}")
        notes.append("embodied: amortised share, not the year-of-purchase figure")
        writer.writerow({
            "scenario": run.scenario.name, "methodology": run.methodology,
            "deployment": run.scenario.entities["deployment"].id, "requests": repr(float(n)),
            "energy_consumption_mwh": "" if service else repr(standards.energy_wh(run) * n * MWH_PER_WH),
            "scope1_tco2e": "0.0",
            "scope2_location_tco2e": "" if service else tonnes(standards.value_of(run, "operational_emissions")),
            "scope2_market_tco2e": "" if service else tonnes(market),
            "scope3_cat1_tco2e": tonnes(cat1), "scope3_cat2_tco2e": tonnes(cat2),
            "total_location_tco2e": tonnes(location_total),
            "total_market_tco2e": tonnes(location_total if service else market_total),
            "notes": "; ".join(notes),
        })  # fmt: skip
    return out.getvalue()
