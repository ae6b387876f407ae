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

from .errors import ImpactError, Location, Problem, display_path, shorten

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


class Hourly:
    """What charges a request the intensity of its hour: a --grid-profile CSV (Profile), the profiles the
    regions name (RegionProfiles), or a live provider (engine.intensity). `label` names it in messages."""

    label = "--grid-profile"
    fallback = False
    implicit = False  # charged without being asked for (a region's grid_hourly): a log column beats it

    def covers(self, location) -> bool:
        raise NotImplementedError

    def value(self, location, hour: int) -> float | None:
        raise NotImplementedError

    def source(self, location) -> str:
        """What has no intensity for an hour at `location`, for messages."""
        return self.label

    def regional(self) -> bool:
        """Whether the intensities depend on the row's location (a message then names it)."""
        return True

    def charge(self, timestamps, locations) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(intensity per row, rows charged, rows outside the profile) for a chunk's timestamps and locations."""
        n = len(timestamps)
        values = np.full(n, np.nan)
        outside = np.zeros(n, dtype=bool)
        hours: dict[object, int | None] = {}
        for i, (stamp, location) in enumerate(zip(timestamps, locations, strict=True)):
            if not self.covers(location):
                continue
            if stamp not in hours:
                hours[stamp] = hour_of(stamp)
            found = self.value(location, hours[stamp]) if hours[stamp] is not None else None
            if found is None:
                outside[i] = True
            else:
                values[i] = found
        return values, ~np.isnan(values), outside


@dataclass
class Profile(Hourly):
    """An hourly profile read from a CSV: (region or None, hour) -> gCO2e/kWh."""

    file: str = ""
    values: dict[tuple[str | None, int], float] = field(default_factory=dict)  # (region or None, hour) -> g/kWh
    regions: set[str] | None = None
    fallback: bool = False

    @property
    def label(self) -> str:
        return f"--grid-profile {self.file}"

    def covers(self, location) -> bool:
        return self.regions is None or location in self.regions

    def value(self, location, hour: int) -> float | None:
        return self.values.get((location if self.regions is not None else None, hour))

    def source(self, location) -> str:
        return self.file

    def regional(self) -> bool:
        return self.regions is not None

    @classmethod
    def load(cls, path, fallback: bool = False) -> Profile:
        from .loader import read_regular

        path = Path(path)
        shown = display_path(path)
        if not path.exists():
            raise ImpactError(Problem(Location(None, path=f"--grid-profile {path}"), "no such file", WANTED))
        content = read_regular(path, shown, MAX_BYTES, WANTED)  # a FIFO or a device is refused, never read
        return cls.parse(content, shown, fallback)

    @classmethod
    def parse(cls, content: bytes, shown: str, fallback: bool = False, region: str | None = None) -> Profile:
        """A profile from the bytes of its CSV. With `region` (a region's own profile), a region column may only
        name that region, and the hours are the region's."""
        import csv
        import io

        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = content[: exc.start].count(b"\n") + 1
            where = Location(shown, line)
            raise ImpactError(Problem(where, f"not UTF-8 text (byte {exc.start + 1})", WANTED)) from None
        out = cls(file=shown, fallback=fallback)
        reader = csv.DictReader(io.StringIO(text, newline=""))
        try:
            names = [n.strip() for n in reader.fieldnames or []]
            reader.fieldnames = names
            _header(names, shown)
            regional = "region" in names and region is None
            lines: dict[tuple, int] = {}
            out.regions = set() if regional else None
            for row in reader:
                line = reader.line_num
                _complete(row, names, shown, line)
                hour = hour_of(row["hour"])
                if hour is None:
                    what = f"{shorten(row['hour'])!r} is not an ISO 8601 time with a UTC offset"
                    raise ImpactError(Problem(Location(shown, line, path="$.hour"), what,
                                              "such as 2025-12-01T08:00:00+00:00"))  # fmt: skip
                value = _number(row["grid_gco2e_per_kwh"], shown, line)
                key = row["region"].strip() if "region" in names else None
                if region is not None and key not in (None, region):
                    raise ImpactError(Problem(Location(shown, line, path="$.region"), f"names region "
                                              f"{shorten(key)!r} in the profile of region '{region}'",
                                              f"only {region}, or no region column"))  # fmt: skip
                key = key if regional else None
                if regional:
                    out.regions.add(key)
                if (key, hour) in lines:
                    utc = datetime.fromtimestamp(hour, tz=UTC).strftime("%H:%M UTC")
                    raise ImpactError(Problem(Location(shown, line, path="$.hour"), f"the hour {row['hour']} ({utc}) "
                                              f"is also on line {lines[(key, hour)]}",
                                              "one intensity per hour and region"))  # fmt: skip
                lines[(key, hour)] = line
                out.values[(key, hour)] = value
        except csv.Error as exc:
            raise ImpactError(Problem(Location(shown, reader.line_num or 1), f"cannot read the CSV: {exc}",
                                      WANTED)) from None  # fmt: skip
        if not out.values:
            raise ImpactError(Problem(Location(shown, 1), "the profile has no hours", "one row per hour"))
        return out


WANTED = "a CSV with hour, grid_gco2e_per_kwh (and optionally region)"
COLUMNS = ("hour", "grid_gco2e_per_kwh", "region")
MAX_BYTES = 64 * 1024 * 1024  # a year of hours for 700 regions is about 30 MB


def _header(names: list[str], shown: str) -> None:
    from .errors import suggest

    missing = [c for c in COLUMNS[:2] if c not in names]
    if missing:
        raise ImpactError(Problem(Location(shown, 1), "no column " + ", ".join(missing),
                                  "columns hour, grid_gco2e_per_kwh and optionally region"))  # fmt: skip
    for name in names:
        if name not in COLUMNS:  # a misspelt region column would otherwise charge every row
            raise ImpactError(Problem(Location(shown, 1, path=f"$.{shorten(name)}"), f"unknown column "
                                      f"{shorten(name)!r}", "hour, grid_gco2e_per_kwh and optionally region",
                                      suggest(name, COLUMNS)))  # fmt: skip
        if names.count(name) > 1:
            raise ImpactError(Problem(Location(shown, 1, path=f"$.{name}"), f"column {name!r} is named twice",
                                      "each column once"))  # fmt: skip


def _complete(row: dict, names: list[str], shown: str, line: int) -> None:
    if None in row:  # more cells than the header names
        raise ImpactError(Problem(Location(shown, line), f"the row has {len(names) + len(row[None])} cells, the "
                                  f"header {len(names)}", "one cell per column"))  # fmt: skip
    for name in names:
        if row[name] is None or not row[name].strip():
            raise ImpactError(Problem(Location(shown, line, path=f"$.{name}"), f"no {name}",
                                      f"a value in every column ({', '.join(names)})"))  # fmt: skip


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
    """The inputs an hourly profile sets become columns; the log must say when each request started. A profile
    the regions name (not asked for) gives way to a log column that sets the intensity itself."""
    where = Location(None, path=batch.profile.label)
    if "timestamp" not in batch.kinds:
        raise ImpactError(Problem(where, f"{batch.log.shown} has no timestamp column",
                                  "a log whose timestamp column says when each request started"))  # fmt: skip
    names = bound_inputs(batch.methods)
    for name in names:
        if name in batch.kinds:
            if batch.profile.implicit:
                batch.profile = None
                return
            raise ImpactError(Problem(where, f"the log's column {name} and the profile both set {name}",
                                      "one of them"))  # fmt: skip
    for name in names:
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
        profile, place = batch.profile, locations[i]
        where = f" in {place}" if profile.regional() else ""
        return (
            f"{profile.source(place)} has no intensity for the hour of {stamp}{where}",
            "a timestamp within the profile, or --grid-fallback annual",
        )

    return outside, "timestamp", describe


def _base_location(scenario) -> str:
    entry = scenario.entities.get("region")
    return entry.id if entry is not None else ""


# -- the profiles the regions name (a region entry's grid_hourly) --------------------------------------------


class RegionProfiles(Hourly):
    """The hourly profiles named by region entries (`grid_hourly: {file, year, source, method, licence}`, the
    file relative to the catalog's folder), each read and checked the first time a row in its region needs it."""

    label = "a region's grid_hourly"
    implicit = True

    def __init__(self, tree, fallback: bool = False):
        self.tree, self.fallback = tree, fallback
        self.entries = {i: e for i, e in tree.catalog("regions").items() if "grid_hourly" in e.data}
        self.loaded: dict[str, Profile] = {}

    def covers(self, location) -> bool:
        return location in self.entries

    def profile(self, region: str) -> Profile:
        if region not in self.loaded:
            self.loaded[region] = region_profile(self.tree, self.entries[region], self.fallback)
        return self.loaded[region]

    def value(self, location, hour: int) -> float | None:
        return self.profile(location).values.get((None, hour))

    def source(self, location) -> str:
        return self.profile(location).file


def region_profile(tree, entry, fallback: bool = False) -> Profile:
    """The profile a region entry names, read as untrusted input: the path stays inside the tree, the file is a
    regular one, and any problem is located at the entry's grid_hourly.file (or in the CSV itself)."""
    import os

    from .loader import read_regular

    spec = entry.data["grid_hourly"]
    where = entry.loc("grid_hourly", "file")
    folder = (tree.root / entry.file).parent
    path = Path(os.path.normpath(folder / spec["file"]))
    expected = "a CSV inside the tree, relative to the catalog's folder, such as grids/fr-2024.csv"
    if not path.is_relative_to(tree.root):
        raise ImpactError(Problem(where, f"{shorten(spec['file'])!r} leads outside the tree {tree.root}", expected))
    shown = display_path(path)
    try:
        tree.confined(path)
        content = read_regular(path, shown, MAX_BYTES, expected)
    except ImpactError as exc:
        problem = exc.problems[0]
        raise ImpactError(Problem(where, f"{shown}: {problem.message}", problem.expected)) from None
    return Profile.parse(content, shown, fallback, region=entry.id)


def choose(tree, log, grid_profile=None, fallback: bool = False, live=None) -> Hourly | None:
    """What charges a batch's rows their hour: --grid-profile, else --grid-live (engine.intensity), else the
    profiles the regions name when the log has timestamps and some region names one; else nothing."""
    if grid_profile and live:
        raise ImpactError(Problem(Location(None, path=f"--grid-live {live}"), "--grid-profile and --grid-live both "
                                  "give the hourly intensity", "one of them"))  # fmt: skip
    if grid_profile:
        return Profile.load(grid_profile, fallback)
    if live:
        from .intensity import LiveProfile

        return LiveProfile.create(tree, live, fallback)
    if "timestamp" in log.columns and any("grid_hourly" in e.data for e in tree.catalog("regions").values()):
        return RegionProfiles(tree, fallback)
    return None
