"""GHG Protocol: a run's emissions as inventory lines (scope, category, basis), per request and in total,
with the boundary written out. Markdown, so it reads as text and pastes into a report."""

from __future__ import annotations

from .. import report, standards
from .layout import figure
from .markdown import table

BOUNDARY_OWN = """\
- Scope 2 holds the electricity the serving hardware draws (IT energy x PUE), for hardware you own or rent
  where you buy the electricity (a lease under your operational control). Location-based uses the grid's
  average intensity; market-based uses your contractual factor (market_gco2e_per_kwh), else the region's
  residual mix, else the grid average (the Scope 2 Guidance's hierarchy); its basis says which.
  If your provider pays for the electricity (a public cloud bought by the hour), these lines are its Scope 2
  and your Scope 3 category 1.
- Scope 3 category 2 holds the hardware's manufacture (cradle to gate) as the share of its life this use
  takes. The Protocol reports a capital good's emissions whole in the year it is acquired: add the purchase
  figure there; this amortised share serves allocation between uses.
- Scope 3 category 1 holds the model's training and fine-tuning emissions, amortised over the requests it
  serves (the model as an upstream good; an open-weights model has no purchase, the line is still stated).
"""
BOUNDARY_SERVICE = """\
- API use is a purchased service: the provider's electricity, hardware manufacture and the model's training
  all sit in Scope 3 category 1 (purchased goods and services), split here so each can be checked. They are
  the provider's Scope 1 and 2, estimated with the deployment's assumed hardware and location.
"""
LEFT_OUT = """\
- Left out: Scope 1 (no fuel is burnt by inference; backup generators are the facility's), networking and
  end-user devices, the data centre building and its non-IT equipment beyond PUE, idle capacity not reserved
  by these requests, and water (not a greenhouse gas; see impact run).
"""


def runs(runs, units: str = "si") -> str:
    parts = []
    for run in runs:
        if not standards.covered(run):
            continue
        lines = standards.ghg_lines(run)
        requests = run.requests
        rows = [{"scope": ln.scope, "category": ln.category, "basis": ln.basis,
                 "per request [gCO2e]": figure(ln.per_request) if ln.per_request is not None else ln.note,
                 f"total, {report.requests_label(requests)} [kgCO2e]":
                     figure(ln.per_request * requests / 1000) if ln.per_request is not None else ""}
                for ln in lines]  # fmt: skip
        deployment = run.scenario.entities["deployment"]
        kind = "a purchased service" if standards.is_service(run) else "own or rented hardware"
        parts.append(f"## GHG Protocol: {run.scenario.name} ({run.methodology} {run.version})\n")
        parts.append(f"Deployment `{deployment.id}` ({kind}); {report.requests_label(requests)}; energy drawn "
                     f"{figure(standards.energy_wh(run))} Wh per request, "
                     f"{figure(standards.energy_wh(run) * requests / 1000)} kWh in total.\n")  # fmt: skip
        parts.append(table(rows, list(rows[0])) + "\n")
        location = standards.total(lines)
        market = standards.total(lines, market=True)
        totals = (f"Total, location-based: {figure(location)} gCO2e per request, "
                  f"{figure(location * requests / 1000)} kgCO2e.")  # fmt: skip
        if not standards.is_service(run):
            totals += (" Total, market-based: not available (no contractual factor)." if market is None else
                       f" Total, market-based: {figure(market)} gCO2e per request, "
                       f"{figure(market * requests / 1000)} kgCO2e.")  # fmt: skip
        parts.append(totals + "\n")
        parts.append("### Boundary\n\n" + (BOUNDARY_SERVICE if standards.is_service(run) else BOUNDARY_OWN) + LEFT_OUT)
    if not parts:
        return "No methodology of this run splits its emissions into operational, embodied and training.\n"
    return "\n".join(parts)
