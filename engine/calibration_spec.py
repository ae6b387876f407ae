"""The rules of a formulas file's `calibration:` block that its schema cannot state: what `impact calibrate`
fits must be an input, and each fitted input must read its value by the key it is fitted per."""

from __future__ import annotations

from .errors import ImpactError, Problem, suggest


def check_fitted(doc, calibration: dict, inputs: dict) -> None:
    """Each fitted input exists and reads its fitted value by the key it is fitted per: `per: engine` (the
    default) from calibration.FIELD[engine.fit], `per: accelerator.X` from calibration.FIELD[accelerator.X]."""
    problems = []
    for name, spec in (calibration.get("fitted") or {}).items():
        where = doc.loc(("calibration", "fitted", name))
        if name not in inputs:
            problems.append(Problem(where, f"fitted '{name}' is not an input of this methodology",
                                    "the name of an input", suggest(name, list(inputs))))  # fmt: skip
            continue
        per = spec.get("per", calibration.get("per", "engine"))
        key = "engine.fit" if per == "engine" else per
        reads = [b for b in inputs[name].bindings if b.entity == "calibration"]
        if not any(f"{b.key_entity}.{b.key_field}" == key for b in reads):
            found = ", ".join(str(b) for b in reads) or "no calibration field"
            problems.append(Problem(where, f"'{name}' is fitted per {per}, but the input reads {found}",
                                    f"from: calibration.FIELD[{key}]"))  # fmt: skip
    if problems:
        raise ImpactError(problems)
