"""Software Carbon Intensity: SCI = (E x I + M) / R per ISO/IEC 21031:2024 (the Green Software Foundation's
SCI specification 1.0), with the functional unit R chosen by `per`, as Markdown."""

from __future__ import annotations

from .. import standards
from .layout import figure
from .markdown import table

UNITS = {"request": "request", "token": "token", "1k-tokens": "1,000 tokens", "session": "session"}
NOTES = """\
- E is the energy the request draws (IT energy x PUE), I the carbon intensity of that electricity (the
  region's grid average: the specification prefers a marginal intensity, which the catalogs do not hold),
  M the embodied emissions of the serving hardware, amortised over its life and shared by its reserved time.
- R: `request` is one request; `token` counts the tokens the request processes, input plus output (the SCI
  for AI draft's consumer unit for an LLM); `1k-tokens` is a thousand of them; `session` is
  --session-requests requests.
- The boundary is runtime operations, the SCI for AI draft's consumer boundary (Green Software Foundation,
  github.com/Green-Software-Foundation/sci-ai SPEC.md, pre-draft, commit 02bc0f1: sections 6.1, 8.1, 9.1.1):
  the consumer score is this SCI per token. Model training belongs to the provider's boundary and is shown
  beside the score, not in it. That draft is not an approved standard; the SCI itself is.
- Left out: networking, storage, monitoring and client devices (the draft's consumer boundary includes them;
  no methodology here estimates them), and offsets, which the SCI excludes by definition.
"""


def runs(runs, per: str = "request", session_requests: float | None = None) -> str:
    parts = []
    for run in runs:
        if not standards.covered(run):
            continue
        s = standards.sci(run, per, session_requests)
        unit = UNITS[per]
        rows = [
            {"term": "E", "meaning": "energy per request", "value": figure(s.E), "unit": "kWh"},
            {"term": "I", "meaning": "carbon intensity of the electricity", "value": figure(s.I), "unit": "gCO2e/kWh"},
            {"term": "M", "meaning": "embodied emissions per request", "value": figure(s.M), "unit": "gCO2e"},
            {"term": "R", "meaning": f"functional units per request ({unit})", "value": figure(s.R), "unit": unit},
            {"term": "SCI", "meaning": "(E x I + M) / R", "value": figure(s.score), "unit": f"gCO2e/{unit}"},
            {"term": "training", "meaning": "outside the boundary, per unit", "value": figure(s.training),
             "unit": f"gCO2e/{unit}"},
        ]  # fmt: skip
        parts.append(f"## SCI: {run.scenario.name} ({run.methodology} {run.version}), per {unit}\n")
        parts.append(f"SCI = {figure(s.score)} gCO2e per {unit}.\n")
        parts.append(table(rows, ["term", "meaning", "value", "unit"]) + "\n")
        parts.append("### What it includes and leaves out\n\n" + NOTES)
    if not parts:
        return "No methodology of this run splits its emissions into operational, embodied and training.\n"
    return "\n".join(parts)
