"""The estimate a gateway hook attaches to one LLM call: energy (Wh), emissions (gCO2e) and water (L) of a
request with the call's model and token usage, on a configured base scenario.

`Estimator(scenario, models=...)` opens the methodology tree once and reads the base scenario (a YAML path
or a mapping; its hardware, location and deployment stand for the gateway's backend). For each call,
`estimate(model, input_tokens, output_tokens, provider=None)` puts the call's model and tokens into a copy of
the base and runs one methodology (the base's first, else scope3) through the public API. The model a
gateway reports is found, in order: in `models` (gateway name -> a models catalog id, or an API model
`{provider, name}`); as a models catalog id (also after a `provider/` prefix); as an API model of the price
table, `{provider, name}`. An estimate that cannot be made returns the reason instead of raising: a hook
never breaks the call it observes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from impact.engine import ImpactError, Location, load_scenario, open_tree, run

QUANTITIES = {"energy": ("energy_wh", "Wh"), "emissions": ("emissions_gco2e", "gCO2e"), "water": ("water_l", "L")}


@dataclass(frozen=True)
class Estimate:
    """What one call cost: values in Wh, gCO2e and L (None where the methodology has no such result)."""

    model: str
    input_tokens: int
    output_tokens: int
    methodology: str
    energy_wh: float | None = None
    emissions_gco2e: float | None = None
    water_l: float | None = None
    error: str | None = None  # why there is no estimate, when there is none

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class Estimator:
    """A base scenario and a methodology tree, opened once; one estimate per call."""

    def __init__(self, scenario: str | Path | Mapping, *, models: Mapping | None = None, methodology: str | None = None,
                 root: str | Path | None = None, tree=None):  # fmt: skip
        self.tree = tree or open_tree(root)
        base = load_scenario(scenario, self.tree)  # checked now: a bad configuration fails at start-up
        self.base = dict(base.doc.data)
        self.models = dict(models or {})
        self.methodology = methodology or (base.methodologies[0][0] if "methodology" in self.base else "scope3")
        method = self.tree.methodology(self.methodology, Location(None, path=f"methodology={self.methodology}"))
        self.results = {}  # quantity -> (result name, factor to the quantity's unit)
        for quantity, (_, unit) in QUANTITIES.items():
            name = method.headline.get(quantity)
            if name in method.formulas:
                self.results[quantity] = (name, _factor(method.formulas[name].unit, unit))

    def candidates(self, model: str, provider: str | None = None) -> list:
        """The scenario `model:` values to try for a gateway's model name, most specific first."""
        if model in self.models:
            return [self.models[model]]
        prefix, _, short = model.rpartition("/")
        catalog = self.tree.catalog("models")
        found = [m for m in (model, short) if m in catalog]
        found += [{"provider": p, "name": n} for p, n in ((provider, model), (prefix, short), (provider, short)) if p]
        return list({repr(c): c for c in found}.values())

    def estimate(self, model: str, input_tokens: int, output_tokens: int, provider: str | None = None) -> Estimate:
        """The impact of one call of `model` with these token counts."""
        shown = str(model)
        problem = f"no catalog model or priced API model matches '{shown}'; map it with models={{...}}"
        for candidate in self.candidates(shown, provider):
            request = {"input_tokens": int(input_tokens), "output_tokens": int(output_tokens)}
            scenario = {**self.base, "model": candidate, "request": request}
            scenario.pop("sweep", None)
            scenario.pop("expect", None)
            scenario.pop("requests", None)
            try:
                (result,) = run(scenario, tree=self.tree, methodologies=[self.methodology])
            except ImpactError as exc:
                problem = exc.problems[0].render().splitlines()[0]
                continue
            values = {QUANTITIES[q][0]: float(result.results[name].value[0]) * factor
                      for q, (name, factor) in self.results.items()}  # fmt: skip
            resolved = candidate if isinstance(candidate, str) else f"{candidate['provider']}/{candidate['name']}"
            return Estimate(resolved, int(input_tokens), int(output_tokens), self.methodology, **values)
        return Estimate(shown, int(input_tokens), int(output_tokens), self.methodology, error=problem)


def _factor(unit: str, target: str) -> float:
    from impact.engine.units import convert

    return 1.0 if unit == target else convert(f"1 {unit}", target)
