"""Live grid carbon intensity from a provider's API: `impact batch --grid-live electricitymaps|watttime` charges
each timestamped row the intensity its region's grid had in that hour, as `--grid-profile` does from a file.

A `Provider` answers one question, the intensity (gCO2e/kWh) of a zone in one UTC hour, or None when it has no
figure for that hour; it reads its key from the environment and talks through an injectable `transport`
(`urlopen`, the standard library, by default; tests give a fake one, and never reach a network):

- Electricity Maps (API v3, `GET /v3/carbon-intensity/past?zone=Z&datetime=T`, header `auth-token`, key in
  $ELECTRICITYMAPS_API_KEY): the zone's carbon intensity in that hour (its lifecycle, consumption-based
  figure by default), `carbonIntensity` in gCO2eq/kWh.
- WattTime (API v3, `GET /login` with $WATTTIME_USER and $WATTTIME_PASSWORD for a token, then
  `GET /v3/historical?region=R&start=T&end=T+1h&signal_type=co2_aoer`): the average operating emissions rate
  of the region's grid over that hour, the mean of its points, converted from lbs_co2_per_mwh.

A region is a provider's zone when its catalog entry says so (`grid_zones: {electricitymaps: FR, watttime:
CAISO_NORTH}`), or for Electricity Maps when it is a country (its `country` code is the zone); rows in other
regions keep their annual figure and are counted. Every reading is kept in the cache folder (engine.cache:
private, HMAC-verified like the validated files, so a planted or edited reading is fetched again, never used)
with its provider, zone, hour, source URL and fetch time; a reading of an hour already fetched is not fetched
again. A refused key, an unreachable host or an answer that is not the documented JSON stops the run with one
line naming the provider; an hour the provider has no figure for is outside the profile (a bad row, or with
--grid-fallback annual the annual mean).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from .errors import ImpactError, Location, Problem, shorten
from .gridprofile import HOUR, Hourly

Transport = Callable[[str, dict], tuple[int, bytes]]  # (url, headers) -> (HTTP status, body)
MAX_BODY = 4 << 20  # bytes of one answer read at most
G_PER_LB = 453.59237  # grams per pound (avoirdupois); lbs/MWh x 453.59237 / 1000 = g/kWh


@dataclass
class Reading:
    """One hour's intensity of one zone, and where and when it was read."""

    value: float  # gCO2e/kWh
    source: str  # the URL it was read from (no key in it)
    fetched: str  # ISO 8601 UTC time of the fetch


class Provider(Protocol):
    name: str

    def intensity(self, zone: str, hour: int) -> Reading | None:
        """gCO2e/kWh of `zone` in the UTC hour starting at `hour` (seconds since the epoch), or None."""


def urlopen(url: str, headers: dict) -> tuple[int, bytes]:
    """GET `url` with `headers` through urllib, reading at most MAX_BODY bytes; (status, body)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (an https URL of ours)
            return answer.status, answer.read(MAX_BODY + 1)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(MAX_BODY + 1)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        where = Location(None, path=url.split("?")[0])
        expected = "a network connection to the provider, or --grid-profile FILE.csv"
        raise ImpactError(Problem(where, f"cannot reach the provider ({reason})", expected)) from None


def _iso(hour: int) -> str:
    return datetime.fromtimestamp(hour, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Base:
    name = ""
    host = ""

    def __init__(self, transport: Transport | None = None, environ=None):
        self.transport = transport or urlopen
        self.environ = os.environ if environ is None else environ

    def _where(self) -> Location:
        return Location(None, path=f"--grid-live {self.name}")

    def _key(self, variable: str) -> str:
        value = self.environ.get(variable, "").strip()
        if not value:
            raise ImpactError(Problem(self._where(), f"no {variable} in the environment",
                                      f"the {self.name} credential in ${variable}"))  # fmt: skip
        return value

    def _get(self, url: str, headers: dict) -> object | None:
        """The JSON answer of a GET; None for 404 (no data for that hour); an ImpactError for anything else."""
        status, body = self.transport(url, headers)
        shown = url.split("?")[0]
        if status == 404:
            return None
        if status in (401, 403):
            raise ImpactError(Problem(self._where(), f"{shown} refused the credentials (HTTP {status})",
                                      f"a valid {self.name} key with access to this zone"))  # fmt: skip
        if status != 200:
            raise ImpactError(Problem(self._where(), f"{shown} answered HTTP {status}", "HTTP 200"))
        if len(body) > MAX_BODY:
            raise ImpactError(Problem(self._where(), f"{shown} answered more than {MAX_BODY:,} bytes",
                                      "one hour's reading"))  # fmt: skip
        try:
            return json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise ImpactError(Problem(self._where(), f"{shown} answered something that is not JSON",
                                      "the provider's documented JSON")) from None  # fmt: skip

    def _value(self, raw, what: str) -> float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw) or raw < 0:
            raise ImpactError(Problem(self._where(), f"{what} is {shorten(repr(raw))}, not a non-negative number",
                                      "a carbon intensity the provider documents"))  # fmt: skip
        return float(raw)


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


class ElectricityMaps(_Base):
    name = "electricitymaps"
    host = "https://api.electricitymaps.com"
    env = "ELECTRICITYMAPS_API_KEY"

    def intensity(self, zone: str, hour: int) -> Reading | None:
        from urllib.parse import urlencode

        url = f"{self.host}/v3/carbon-intensity/past?" + urlencode({"zone": zone, "datetime": _iso(hour)})
        answer = self._get(url, {"auth-token": self._key(self.env), "Accept": "application/json"})
        if answer is None:
            return None
        if not isinstance(answer, dict) or "carbonIntensity" not in answer:
            raise ImpactError(Problem(self._where(), f"the answer for {zone} at {_iso(hour)} has no carbonIntensity",
                                      '{"zone": ..., "carbonIntensity": ..., "datetime": ...}'))  # fmt: skip
        if answer["carbonIntensity"] is None:
            return None
        return Reading(self._value(answer["carbonIntensity"], "carbonIntensity"), url, _now())


class WattTime(_Base):
    name = "watttime"
    host = "https://api.watttime.org"
    signal = "co2_aoer"  # the average operating emissions rate: an average, as the location-based method wants

    def __init__(self, transport: Transport | None = None, environ=None):
        super().__init__(transport, environ)
        self.token: str | None = None

    def _login(self) -> str:
        import base64

        if self.token is None:
            pair = f"{self._key('WATTTIME_USER')}:{self._key('WATTTIME_PASSWORD')}".encode()
            answer = self._get(f"{self.host}/login", {"Authorization": "Basic " + base64.b64encode(pair).decode()})
            token = answer.get("token") if isinstance(answer, dict) else None
            if not isinstance(token, str) or not token:
                raise ImpactError(Problem(self._where(), f"{self.host}/login gave no token", '{"token": "..."}'))
            self.token = token
        return self.token

    def intensity(self, zone: str, hour: int) -> Reading | None:
        from urllib.parse import urlencode

        query = {"region": zone, "start": _iso(hour), "end": _iso(hour + HOUR), "signal_type": self.signal}
        url = f"{self.host}/v3/historical?" + urlencode(query)
        answer = self._get(url, {"Authorization": f"Bearer {self._login()}"})
        if answer is None:
            return None
        data = answer.get("data") if isinstance(answer, dict) else None
        units = (answer.get("meta") or {}).get("units") if isinstance(answer, dict) else None
        if not isinstance(data, list) or units != "lbs_co2_per_mwh":
            raise ImpactError(Problem(self._where(), f"the answer for {zone} at {_iso(hour)} is not data points in "
                                      f"lbs_co2_per_mwh (units {shorten(repr(units))})",
                                      '{"data": [{"point_time": ..., "value": ...}], "meta": {"units": '
                                      '"lbs_co2_per_mwh"}}'))  # fmt: skip
        values = [self._value(p.get("value") if isinstance(p, dict) else p, "a point's value") for p in data]
        if not values:
            return None
        return Reading(sum(values) / len(values) * G_PER_LB / 1000, url, _now())


PROVIDERS = {"electricitymaps": ElectricityMaps, "watttime": WattTime}


@dataclass
class LiveProfile(Hourly):
    """Hourly intensities read from a provider, cached in memory for the run and on disk (engine.cache)."""

    provider: Provider = None
    zones: dict[str, str] = field(default_factory=dict)  # region id -> the provider's zone
    fallback: bool = False
    fetched: int = 0  # readings asked of the provider in this run
    cached: int = 0  # readings found in the cache folder
    skipped: set = field(default_factory=set)  # regions of rows without a zone of this provider
    memory: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"--grid-live {self.provider.name}"

    @classmethod
    def create(cls, tree, name, fallback: bool = False, transport: Transport | None = None,
               environ=None) -> LiveProfile:  # fmt: skip
        """The profile of provider `name` (electricitymaps, watttime) or of a Provider object."""
        from .errors import suggest

        if not isinstance(name, str):  # a Provider object (the Python API, tests with a fake transport)
            return cls(provider=name, zones=zones_of(tree, name.name), fallback=fallback)
        if name not in PROVIDERS:
            raise ImpactError(Problem(Location(None, path=f"--grid-live {name}"), f"unknown provider {name!r}",
                                      "one of " + ", ".join(PROVIDERS), suggest(name, PROVIDERS)))  # fmt: skip
        return cls(provider=PROVIDERS[name](transport, environ), zones=zones_of(tree, name), fallback=fallback)

    def covers(self, location) -> bool:
        if location in self.zones:
            return True
        self.skipped.add(location)
        return False

    def value(self, location, hour: int) -> float | None:
        zone = self.zones[location]
        if (zone, hour) not in self.memory:
            self.memory[(zone, hour)] = self._reading(zone, hour)
        reading = self.memory[(zone, hour)]
        return reading.value if reading is not None else None

    def source(self, location) -> str:
        return f"{self.provider.name} (zone {self.zones.get(location, '?')})"

    def _reading(self, zone: str, hour: int) -> Reading | None:
        from . import cache

        name = hashlib.sha256(f"intensity\0{self.provider.name}\0{zone}\0{hour}".encode()).hexdigest()
        stored = cache.read_signed(name)
        if _valid(stored, self.provider.name, zone, hour):
            self.cached += 1
            return Reading(float(stored["value"]), stored["source"], stored["fetched"])
        self.fetched += 1
        reading = self.provider.intensity(zone, hour)
        if reading is not None:
            cache.write_signed(name, {"provider": self.provider.name, "zone": zone, "hour": hour,
                                      "value": reading.value, "unit": "gCO2e/kWh", "source": reading.source,
                                      "fetched": reading.fetched})  # fmt: skip
        return reading


def _valid(stored, provider: str, zone: str, hour: int) -> bool:
    """A cached reading is used only when it is the one asked for and its value a non-negative number (it was
    written by this module: its HMAC verified; this guards a future change of shape)."""
    if not isinstance(stored, dict):
        return False
    if (stored.get("provider"), stored.get("zone"), stored.get("hour")) != (provider, zone, hour):
        return False
    value = stored.get("value")
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
    return ok and isinstance(stored.get("source"), str) and isinstance(stored.get("fetched"), str)


def zones_of(tree, provider: str) -> dict[str, str]:
    """region id -> the provider's zone: the entry's grid_zones, else (Electricity Maps) a country's code."""
    out = {}
    for region, entry in tree.catalog("regions").items():
        zone = (entry.data.get("grid_zones") or {}).get(provider)
        if zone is None and provider == "electricitymaps" and entry.data.get("scope") == "country":
            zone = entry.data.get("country")
        if zone:
            out[region] = str(zone)
    return out
