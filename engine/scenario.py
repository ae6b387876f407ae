"""A scenario: which model, precision, hardware, location and deployment, for what request.

`load_scenario` validates the YAML (or a mapping, for the Python API) and selects one catalog entry per
entity (model, precision, accelerator, server, region, deployment, calibration), filling what the scenario
leaves out from the deployment's defaults, and records the scenario's own numbers (`request`, `hardware`)
as entries too, so every value a formula later reads has a file and a line. Scenario keys:

- `model`: a models id, an inline model mapping (with its own `source`), or an API model {provider, name}
  whose parameter count is estimated from its price (the conservative upper bound, marked as an estimate);
- `precision` (default fp16, the seed's b = 2), `deployment` (default cloud), `calibration` (default
  `default`);
- `hardware`: an accelerator id, or {accelerator, server, gpus}; from the deployment when absent;
- `location`: a regions id; from the deployment when absent (api), else required;
- `request`: {input_tokens, output_tokens, and optionally cached_input_tokens (the part of the input served
  from a prefix cache, at most input_tokens) and reasoning_tokens (decoded apart from the output), both 0 when
  absent}; `requests`: how many such requests the totals cover;
- `set`: NAME: VALUE overrides of any input or formula (a number, or a quantity such as "700 W");
- `market_gco2e_per_kwh`: the contractual (market-based) intensity of the electricity bought, the same as
  `set: {market_gco2e_per_kwh: ...}` (the methodologies' market-based emissions read it);
- `optimizations`: names of overlays (formulas/optimizations/) applied to the methodologies they cover.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ImpactError, Location, Problem
from .loader import Doc
from .tree import Entry, Tree

DEFAULTS = {"precision": "fp16", "deployment": "cloud", "calibration": "default"}


@dataclass
class Override:
    """A value given for a name with `set:` or `--set`: a number or a quantity string."""

    name: str
    raw: float | str | dict  # a dict: a range or a distribution (engine.uncertainty)
    source: str
    location: Location
    doc: Doc | None = None  # where `raw` was written, to place errors inside a distribution

    def loc(self, key: str | None = None) -> Location:
        if self.doc is None or key is None:
            return self.location
        return self.doc.loc(("set", self.name, key))


@dataclass
class Scenario:
    doc: Doc
    name: str
    entities: dict[str, Entry]
    methodologies: list[tuple[str, Location]]
    requests: float = 1.0
    overrides: dict[str, Override] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # defaults the scenario relied on
    missing: dict[str, Problem] = field(default_factory=dict)  # entity -> why the scenario selects none
    optimizations: list[tuple[str, Location]] = field(default_factory=list)
    entity_notes: dict[str, list[str]] = field(default_factory=dict)  # defaults only the methodologies reading
    # that entity rely on (serving, engine), listed among their assumptions only
    tables: list[str] = field(default_factory=list)  # data tables it read (relative paths), for provenance

    @property
    def file(self) -> str:
        return self.doc.file

    def describe(self) -> dict:
        """What was selected, for reports: entity -> id."""
        return {kind: entry.id for kind, entry in self.entities.items()
                if kind not in ("request", "hardware", "serving")}  # fmt: skip


def load_scenario(source: str | Path | Mapping, tree: Tree) -> Scenario:
    """Load and resolve a scenario from a YAML file path or an already-parsed mapping."""
    if isinstance(source, Mapping):
        doc = Doc("<mapping>", dict(source))
        tree.schemas.validate(doc, "scenario")
    else:
        from .cache import load_validated

        doc = load_validated(Path(source), "scenario", tree.schemas)
    return _resolve(doc, tree)


def vary(base: Scenario, tree: Tree, choices: dict[str, str]) -> Scenario:
    """The base scenario with other choices (model, precision, hardware, server, location, deployment,
    calibration: catalog ids; a model may also be PROVIDER/NAME, an API model of the price table), resolved
    like a scenario written with them. A `hardware` or `server` choice keeps the base's GPU count."""
    data = {**base.doc.data, **{k: v for k, v in choices.items() if k not in ("hardware", "server", "engine")}}
    model = choices.get("model")
    if isinstance(model, str) and "/" in model:  # PROVIDER/NAME (no catalog id has a /): an API model, as in a
        provider, name = model.split("/", 1)  # scenario's {provider, name}, its size estimated from its price
        data["model"] = {"provider": provider, "name": name}
    if "engine" in choices:
        data["serving"] = {**(data.get("serving") or {}), "engine": choices["engine"]}
    hw = {("accelerator" if k == "hardware" else k): v for k, v in choices.items() if k in ("hardware", "server")}
    if hw:
        given = data.get("hardware")
        kept = {"gpus": given["gpus"]} if isinstance(given, dict) and "gpus" in given else {}
        data["hardware"] = {**kept, **hw}
    return _resolve(Doc(base.doc.file, data, base.doc.marks, base.doc.path, base.doc.keys), tree)


def _scenario_entry(doc: Doc, kind: str, data: dict, prefix: tuple) -> Entry:
    return Entry(kind, kind, data, doc, doc.file, prefix)


def _resolve(doc: Doc, tree: Tree) -> Scenario:
    data = doc.data
    notes = []

    def pick(catalog: str, key: str, fallback) -> Entry:
        if key in data:
            return tree.entry(catalog, data[key], doc.loc((key,)))
        notes.append(f"{key}: {fallback[0]} ({fallback[1]})")
        return tree.entry(catalog, fallback[0], doc.loc())

    deployment = pick("deployments", "deployment", (DEFAULTS["deployment"], "default deployment"))
    entities = {"deployment": deployment}
    entities["precision"] = pick("precisions", "precision", (DEFAULTS["precision"], "default: the seed's b = 2"))
    entities["calibration"] = pick("calibrations", "calibration", (DEFAULTS["calibration"], "default calibration"))
    entities["model"] = _model(doc, tree, notes)
    entities.update(_hardware(doc, tree, deployment, notes))
    missing = {}
    region = _region(doc, tree, deployment, notes)
    if isinstance(region, Problem):  # only an error if a formula reads the region
        missing["region"] = region
    else:
        entities["region"] = region
    entities["request"] = _scenario_entry(doc, "request", _request(doc), ("request",))
    entity_notes = {"serving": [], "engine": []}
    entities.update(_serving(doc, tree, deployment, entity_notes))
    if isinstance(entities["engine"], Problem):  # only an error if a formula reads the engine (as the region)
        missing["engine"] = entities.pop("engine")
    methods = data.get("methodology")
    if methods is None:
        methodologies = [(name, doc.loc()) for name, m in sorted(tree.methodologies().items()) if m.default]
    else:
        names = [methods] if isinstance(methods, str) else methods
        methodologies = [
            (n, doc.loc(("methodology",) if isinstance(methods, str) else ("methodology", i)))
            for i, n in enumerate(names)
        ]
    overrides = {
        name: Override(
            name, value, f"{doc.file}:{doc.loc(('set', name)).line}: set.{name}", doc.loc(("set", name)), doc
        )
        for name, value in (data.get("set") or {}).items()
    }
    _top_level_overrides(doc, overrides)
    default_name = Path(doc.file).stem if doc.path else "scenario"
    return Scenario(
        doc,
        data.get("name", default_name),
        entities,
        methodologies,
        _requests(doc),
        overrides,
        notes,
        missing,
        [(name, doc.loc(("optimizations", i))) for i, name in enumerate(data.get("optimizations", []))],
        entity_notes,
        _tables(data),
    )


TOP_LEVEL = ("market_gco2e_per_kwh",)  # scenario keys that are overrides, written beside set: for clarity


def _top_level_overrides(doc: Doc, overrides: dict[str, Override]) -> None:
    for name in TOP_LEVEL:
        if name not in doc.data:
            continue
        where = doc.loc((name,))
        if name in overrides:
            raise ImpactError(Problem(where, f"{name} is given here and in set: (line "
                                      f"{overrides[name].location.line})", "one of them"))  # fmt: skip
        overrides[name] = Override(name, doc.data[name], f"{doc.file}:{where.line}: {name}", where)


def _tables(data: dict) -> list[str]:
    """The data tables resolving the scenario reads: the API prices behind an estimated model size."""
    model = data["model"]
    if isinstance(model, dict) and "provider" in model:
        from .estimate import PRICES

        return [PRICES]
    return []


def _request(doc: Doc) -> dict:
    """The request's token counts, with the optional classes at 0; cached tokens are part of the input."""
    request = {"cached_input_tokens": 0, "reasoning_tokens": 0, **doc.data["request"]}
    cached, total = request["cached_input_tokens"], request["input_tokens"]
    if cached > total:
        raise ImpactError(Problem(doc.loc(("request", "cached_input_tokens")), f"cached_input_tokens = {cached} is "
                                  f"more than input_tokens = {total}", "cached_input_tokens <= input_tokens "
                                  "(the cached tokens are part of the input)"))  # fmt: skip
    return request


def _requests(doc: Doc) -> float:
    """The scenario's `requests`, a finite positive number (engine.numbers; the schema checks YAML's type)."""
    from . import numbers

    if "requests" not in doc.data:
        return 1.0
    where, expected = doc.loc(("requests",)), "a positive, finite number of requests"
    try:
        value = numbers.parse(doc.data["requests"])
    except numbers.NumberProblem as exc:
        raise ImpactError(Problem(where, str(exc), expected)) from None
    if value <= 0:
        raise ImpactError(Problem(where, f"requests = {value:g} is not positive", expected))
    return value


def _model(doc: Doc, tree: Tree, notes: list[str]) -> Entry:
    model = doc.data["model"]
    if isinstance(model, str):
        return tree.entry("models", model, doc.loc(("model",)))
    if "provider" in model:  # an API model: its size estimated from its price
        from .estimate import estimate, offers_for

        where = doc.loc(("model",))
        found = estimate(tree, offers_for(tree, model["provider"], model["name"], "input", where), where=where)
        data = {**model, "total_params_b": found.conservative_b, "active_params_b": found.conservative_b,
                "source": found.describe()}  # fmt: skip
        notes.append(f"model: {model['provider']}/{model['name']} parameters {found.describe()}")
        return Entry("models", model["name"], data, doc, doc.file, ("model",))
    return Entry("models", model.get("name", "inline"), model, doc, doc.file, ("model",))


def _hardware(doc: Doc, tree: Tree, deployment: Entry, notes: list[str]) -> dict[str, Entry]:
    hw = doc.data.get("hardware")
    if isinstance(hw, str):
        hw, prefix = {"accelerator": hw}, ("hardware",)
        key_loc = {"accelerator": doc.loc(prefix)}
    else:
        prefix = ("hardware",)
        key_loc = {k: doc.loc(prefix + (k,)) for k in (hw or {})}
        hw = dict(hw or {})
    if "accelerator" not in hw and "server" not in hw:
        if "accelerator" not in deployment.data:
            raise ImpactError(
                Problem(
                    doc.loc(prefix if "hardware" in doc.data else ()),
                    f"no accelerator: the scenario gives none and deployment '{deployment.id}' has no default",
                    "hardware: <accelerator id> or hardware: {server: <id>}",
                )
            )
        hw["accelerator"] = deployment.data["accelerator"]
        key_loc["accelerator"] = deployment.loc("accelerator")
        notes.append(f"hardware.accelerator: {hw['accelerator']} (from deployment '{deployment.id}')")
    server = accelerator = None
    if "server" in hw:
        server = tree.entry("servers", hw["server"], key_loc["server"])
    if "accelerator" in hw:
        accelerator = tree.entry("accelerators", hw["accelerator"], key_loc["accelerator"])
    if server and accelerator and server.data["accelerator"] != accelerator.id:
        raise ImpactError(
            Problem(
                key_loc["server"],
                f"server '{server.id}' holds '{server.data['accelerator']}', not '{accelerator.id}'",
                "a server whose accelerator matches hardware.accelerator",
            )
        )
    if server is None:
        default = accelerator.data.get("default_server")
        if default is None:
            raise ImpactError(
                Problem(
                    key_loc["accelerator"],
                    f"accelerator '{accelerator.id}' has no default_server",
                    "hardware.server naming the server that hosts it",
                )
            )
        server = tree.entry("servers", default, accelerator.loc("default_server"))
        notes.append(f"hardware.server: {server.id} (default server of '{accelerator.id}')")
    if accelerator is None:
        accelerator = tree.entry("accelerators", server.data["accelerator"], server.loc("accelerator"))
    # the GPU count: given, else the whole server when a server is named, else the deployment's, else none
    if "gpus" in hw:
        gpus = _scenario_entry(doc, "hardware", {"gpus": hw["gpus"]}, prefix)
    elif isinstance(doc.data.get("hardware"), dict) and "server" in doc.data["hardware"]:
        gpus = _gpus_of(server)
        notes.append(f"hardware.gpus: {server.data['gpus']} (all accelerators of server '{server.id}')")
    elif "gpus" in deployment.data:
        gpus = _gpus_of(deployment)
        notes.append(f"hardware.gpus: {deployment.data['gpus']} (from deployment '{deployment.id}')")
    else:
        gpus = _scenario_entry(doc, "hardware", {}, prefix)
    return {"accelerator": accelerator, "server": server, "hardware": gpus}


def _serving(doc: Doc, tree: Tree, deployment: Entry, notes: dict[str, list[str]]) -> dict[str, Entry]:
    """The serving engine and the load (`serving:` {engine, concurrency, request_rate}): from the scenario, else
    the deployment's defaults; neither concurrency nor request_rate means a saturated group (the methodology says
    so among its assumptions)."""
    given = doc.data.get("serving") or {}
    if "concurrency" in given and "request_rate" in given:
        raise ImpactError(Problem(doc.loc(("serving", "request_rate")), "both concurrency and request_rate are given",
                                  "one of them: concurrency (requests decoded together) or request_rate (requests "
                                  "per second; the concurrency follows from Little's law)"))  # fmt: skip
    if "engine" in given:
        engine = tree.entry("engines", given["engine"], doc.loc(("serving", "engine")))
    else:
        default = deployment.data.get("engine", "vllm")
        where = deployment.loc("engine") if "engine" in deployment.data else doc.loc()
        try:  # a tree without this engine (an older tree under impact diff) fails only a methodology reading it
            engine = tree.entry("engines", default, where)
        except ImpactError as exc:
            engine = exc.problems[0]
        source = f"deployment '{deployment.id}'" if "engine" in deployment.data else "the default engine"
        notes["engine"].append(f"serving.engine: {default} ({source})")
    load = {k: given[k] for k in ("concurrency", "request_rate") if k in given}
    if load:
        serving = Entry("serving", "serving", load, doc, doc.file, ("serving",))
    elif "concurrency" in deployment.data:
        data = {"concurrency": deployment.data["concurrency"], "source": deployment.cite("concurrency")}
        serving = Entry("serving", deployment.id, data, deployment.doc, deployment.file, deployment.prefix)
        notes["serving"].append(f"serving.concurrency: {deployment.data['concurrency']:g} (deployment "
                                f"'{deployment.id}')")  # fmt: skip
    else:
        serving = Entry("serving", "serving", {}, doc, doc.file, ("serving",))
    return {"engine": engine, "serving": serving}


def _gpus_of(entry: Entry) -> Entry:
    """The scenario's GPU count taken from a catalog entry (a server or a deployment), keeping its provenance."""
    data = {"gpus": entry.data["gpus"], "source": entry.cite("gpus")}
    return Entry("hardware", entry.id, data, entry.doc, entry.file, entry.prefix)


def _region(doc: Doc, tree: Tree, deployment: Entry, notes: list[str]) -> Entry | Problem:
    if "location" in doc.data:
        return tree.entry("regions", doc.data["location"], doc.loc(("location",)))
    if "location" not in deployment.data:
        return Problem(
            doc.loc(),
            f"no location: the scenario gives none and deployment '{deployment.id}' has no default",
            "location: <region id>, e.g. us, fr, aws-us-east-1",
        )
    notes.append(f"location: {deployment.data['location']} (from deployment '{deployment.id}')")
    return tree.entry("regions", deployment.data["location"], deployment.loc("location"))
