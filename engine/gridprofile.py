"""Hourly grid carbon intensity for a request log: `impact batch --grid-profile FILE.csv` charges each request
the intensity of the hour it started in, instead of the region's annual mean.

A profile is a CSV with columns `hour` (ISO 8601 with its UTC offset, such as `2025-12-01T08:00:00+00:00` or
`2025-12-01T09:00+01:00`; an hour without an offset is refused, since it names no instant) and
`grid_gco2e_per_kwh`, and optionally `region` (a regions id): then a row is charged only when its location is
one the profile names, and other rows keep their region's annual figure. The log needs a `timestamp` column
(ISO 8601 with an offset; time zones are converted, so `10:30+02:00` falls in the 08:00 UTC hour). A
timestamp outside the profile is a bad row, located, unless `fallback` is set: it then keeps the annual mean
and is counted (`Batch.grid_fallbacks`, a warning); a timestamp without an offset is always a bad row. The
hourly value overrides every input bound to `region.grid_gco2e_per_kwh` (scope3's `grid_intensity`), row by
row, like a log column would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .errors import ImpactError, Location, Problem, display_path

HOUR = 3600


def hour_of(text) -> int | None:
    """Seconds since the epoch of the hour `text` falls in; None when it is not ISO 8601 with an offset."""
    try:
        moment = datetime.fromisoformat(str(text).strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return int(moment.timestamp()) // HOUR * HOUR


@dataclass
class Profile:
    file: str
    values: dict[tuple[str | None, int], float] = field(default_factory=dict)  # (region or None, hour) -> g/kWh
    regions: set[str] | None = None
    fallback: bool = False

    @classmethod
    def load(cls, path, fallback: bool = False) -> Profile:
        import csv

        path = Path(path)
        shown = display_path(path)
        if not path.is_file():
            raise ImpactError(Problem(Location(None, path=f"--grid-profile {path}"), "no such file",
                                      "a CSV with hour, grid_gco2e_per_kwh (and optionally region)"))  # fmt: skip
        out = cls(shown, fallback=fallback)
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            names = reader.fieldnames or []
            missing = [c for c in ("hour", "grid_gco2e_per_kwh") if c not in names]
            if missing:
                raise ImpactError(Problem(Location(shown, 1), "no column " + ", ".join(missing),
                                          "columns hour, grid_gco2e_per_kwh and optionally region"))  # fmt: skip
            regional = "region" in names
            lines: dict[tuple, int] = {}
            out.regions = set() if regional else None
            for line, row in enumerate(reader, 2):
                hour = hour_of(row["hour"])
                if hour is None:
                    what = f"{row['hour']!r} is not an ISO 8601 time with a UTC offset"
                    raise ImpactError(Problem(Location(shown, line, path="$.hour"), what,
                                              "such as 2025-12-01T08:00:00+00:00"))  # fmt: skip
                value = _number(row["grid_gco2e_per_kwh"], shown, line)
                region = row["region"].strip() if regional else None
                if regional:
                    out.regions.add(region)
                if (region, hour) in lines:
                    utc = datetime.fromtimestamp(hour, tz=UTC).strftime("%H:%M UTC")
                    raise ImpactError(Problem(Location(shown, line, path="$.hour"), f"the hour {row['hour']} ({utc}) "
                                              f"is also on line {lines[(region, hour)]}",
                                              "one intensity per hour and region"))  # fmt: skip
                lines[(region, hour)] = line
                out.values[(region, hour)] = value
        if not out.values:
            raise ImpactError(Problem(Location(shown, 1), "the profile has no hours", "one row per hour"))
        return out

    def charge(self, timestamps, locations) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(intensity per row, rows charged, rows outside the profile) for a chunk's timestamps and locations."""
        n = len(timestamps)
        values = np.full(n, np.nan)
        outside = np.zeros(n, dtype=bool)
        hours: dict[object, int | None] = {}
        for i, (stamp, location) in enumerate(zip(timestamps, locations, strict=True)):
            region = None
            if self.regions is not None:
                if location not in self.regions:
                    continue
                region = location
            if stamp not in hours:
                hours[stamp] = hour_of(stamp)
            found = self.values.get((region, hours[stamp])) if hours[stamp] is not None else None
            if found is None:
                outside[i] = True
            else:
                values[i] = found
        return values, ~np.isnan(values), outside


def _number(raw: str, shown: str, line: int) -> float:
    from .numbers import NumberProblem, parse

    try:
        value = parse(raw, "gCO2e/kWh")
    except NumberProblem as exc:
        raise ImpactError(Problem(Location(shown, line, path="$.grid_gco2e_per_kwh"), str(exc),
                                  "a non-negative number in gCO2e/kWh")) from None  # fmt: skip
    if value < 0:
        raise ImpactError(Problem(Location(shown, line, path="$.grid_gco2e_per_kwh"), f"{value:g} is negative",
                                  "a non-negative number in gCO2e/kWh"))  # fmt: skip
    return value


def bound_inputs(methods) -> list[str]:
    """The inputs, in any methodology run, read first from region.grid_gco2e_per_kwh (the location-based
    intensity; market_gco2e_per_kwh, which falls back to it, stays an annual contractual figure)."""
    names = []
    for m in methods:
        for name, item in m.inputs.items():
            first = item.bindings[0] if item.bindings else None
            if first is not None and first.entity == "region" and first.field == "grid_gco2e_per_kwh":
                names.append(name)
    return list(dict.fromkeys(names))


# -- a batch's use of a profile (engine.batch calls these) ---------------------------------------------------


def prepare(batch) -> None:
    """The inputs an hourly profile sets become columns; the log must say when each request started."""
    where = Location(None, path=f"--grid-profile {batch.profile.file}")
    if "timestamp" not in batch.kinds:
        raise ImpactError(Problem(where, f"{batch.log.shown} has no timestamp column",
                                  "a log whose timestamp column says when each request started"))  # fmt: skip
    names = bound_inputs(batch.methods)
    for name in names:
        if name in batch.kinds:
            raise ImpactError(Problem(where, f"the log's column {name} and the profile both set {name}",
                                      "one of them"))  # fmt: skip
        batch.kinds[name] = "override"
    batch.hourly_names = names


def apply(batch, frame, absent):
    """Set each row's hourly intensity (rows the profile does not cover keep the annual one); returns
    (mask, column, describe) of the rows outside the profile, bad unless the profile falls back."""
    stamps = frame["timestamp"].to_numpy(dtype=object)
    if "location" in frame:
        locations = frame["location"].to_numpy(dtype=object)
    else:
        locations = np.full(len(frame), _base_location(batch.scenario), dtype=object)
    values, charged, outside = batch.profile.charge(stamps, locations)
    for name in batch.hourly_names:
        frame[name] = values
        absent[name] = ~charged
    batch.grid_charged += int(charged.sum())
    unzoned = np.fromiter((hour_of(s) is None for s in stamps), dtype=bool, count=len(stamps))
    if batch.profile.fallback:  # a timestamp with no offset names no hour: never a fallback, always located
        batch.grid_fallbacks += int((outside & ~unzoned).sum())
        outside = outside & unzoned

    def describe(i):
        stamp = stamps[i]
        if hour_of(stamp) is None:
            return (f"{stamp!r} is not an ISO 8601 time with a UTC offset",
                    "such as 2025-12-01T08:00:00+00:00, so that its hour is known")  # fmt: skip
        return (f"{batch.profile.file} has no intensity for the hour of {stamp}" + (f" in {locations[i]}"
                if batch.profile.regions is not None else ""), "a timestamp within the profile, or "
                "--grid-fallback annual")  # fmt: skip

    return outside, "timestamp", describe


def _base_location(scenario) -> str:
    entry = scenario.entities.get("region")
    return entry.id if entry is not None else ""
