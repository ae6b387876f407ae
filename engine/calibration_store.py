"""Write fitted values into a calibrations catalog without losing anything that was there.

`impact calibrate` updates ONE entry (`--id`, default `default`) of ONE file (`--out`): the fields the fit
produced replace those of the same name in that entry; every other field of the entry and every other entry of
the file are kept as they were (an existing file is read and validated first; a new file holds the fitted entry
only, so that it can sit beside the tree's own calibrations.yaml without repeating its ids). The text is written
by `engine.safefile` (atomic; links, devices and FIFOs refused). Comments of the old file are not kept: the
header below says how the file is made.
"""

from __future__ import annotations

from pathlib import Path

from .errors import Location
from .safefile import check_target, write_text
from .tree import Tree

HEADER = """# Fitted coefficients of the methodologies. Written by `impact calibrate` (engine/calibrate.py for scope3's
# t_hat = beta_in * t_in + beta_out * t_out; engine/fitting.py for the serving methodology's serving_* fields, one
# value per engine); do not edit by hand: rerun the command, which updates one entry and keeps the others. A
# scenario without `calibration:` uses the entry `default`; `uncalibrated` keeps the theoretical durations
# (roofline). Per-precision betas are written only when they lower the held-out error; *_by_load holds scope3's
# batch-1 betas, used by deployments that serve one request at a time (local).
"""


def update(tree: Tree, target: str | Path, entry_id: str, fields: dict, source: str, where: Location) -> str:
    """Write `fields` into entry `entry_id` of the calibrations file `target`; returns the text written."""
    import yaml

    path = check_target(target, where)
    if path.exists():
        doc = tree.load(path.resolve(), "catalog")
        body = dict(doc.data)
        entries = {k: dict(v) for k, v in body["entries"].items()}
    else:
        body = {"kind": "catalog", "schema_version": 1, "catalog": "calibrations",
                "description": "Coefficients fitted on benchmark measurements, per methodology."}  # fmt: skip
        entries = {}
    entry = entries.get(entry_id, {"name": f"Fitted by impact calibrate ({entry_id})", "source": source})
    fits = {**entry.get("fits", {}), **fields.get("fits", {})}
    entry.update(fields)
    if fits:
        entry["fits"] = fits
    entry.setdefault("source", source)
    entries[entry_id] = entry
    body["entries"] = entries
    text = HEADER + yaml.safe_dump(body, sort_keys=False, width=110)
    write_text(path, text, where)
    return text
