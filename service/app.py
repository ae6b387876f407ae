"""The HTTP API of `impact serve`: a Starlette application over the engine's public API.

`create_app(tree, limits)` loads nothing itself: the caller opens the tree once, and the app warms it (every
catalog, methodology and optimization read and validated) before it answers. Each request is evaluated from
its body alone; the only state shared between requests is that tree, read-only once warm, and the engine is
entered under one lock (a run takes microseconds to milliseconds; the lock keeps the lazily filled caches
of the tree safe without asking every engine room to be thread-safe). Bad input of any kind is answered 400
(413 for a body too large, 404 for an unknown catalog, id or route) with the project's error document
(`bodies.problems_json`); a bug is answered 500 with a one-line problem, its traceback going to the server's
log only.
"""

from __future__ import annotations

import json
import logging
import threading
from importlib import resources

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from impact import __version__
from impact.engine import ImpactError, Location, Problem, report, run

from . import batch as batch_requests
from .bodies import Limits, Refused, parse_json, problems_json, read_body, refuse
from .openapi import document as openapi_document

log = logging.getLogger("impact.service")


class JSONResponse(Response):
    """JSON as the CLI writes it, less the indentation, and never NaN or Infinity (invalid JSON)."""

    media_type = "application/json"

    def render(self, content) -> bytes:
        return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("utf-8")


class Service:
    """The loaded tree, the limits, and the lock every evaluation takes."""

    def __init__(self, tree, limits: Limits):
        self.tree, self.limits = tree, limits
        self.lock = threading.Lock()
        tree.catalogs(), tree.methodologies(), tree.optimizations()  # read and validate everything once
        self._openapi = None

    async def call(self, fn, *args):
        def locked():
            with self.lock:
                return fn(*args)

        return await run_in_threadpool(locked)

    # ---- endpoints
    async def run(self, request: Request):
        body = await read_body(request, self.limits)
        scenario = parse_json(body, self.limits)
        if not isinstance(scenario, dict):
            refuse(400, "$", "the body is not a JSON object", "a scenario: {kind: scenario, schema_version: 1, ...}")
        q = request.query_params
        samples = _count(q, "samples", self.limits.samples)
        seed = _count(q, "seed", 2**32 - 1, low=0)
        check_points(scenario, self.limits.sweep_points)
        methods = q.getlist("methodology") or None
        explain = _flag(q, "explain")

        def work():
            runs = run(scenario, tree=self.tree, methodologies=methods, samples=samples, seed=seed,
                       optimizations=q.getlist("optimization"))  # fmt: skip
            check_totals(runs)
            return report.document(runs, explain)

        try:
            return JSONResponse(await self.call(work))
        except ImpactError as exc:
            return JSONResponse(problems_json(exc.problems, body), status_code=400)

    async def batch(self, request: Request):
        body = await read_body(request, self.limits)
        ask = batch_requests.parse(request, body, self.limits, self.tree)
        try:
            return JSONResponse(await self.call(batch_requests.evaluate, ask, self.tree))
        except ImpactError as exc:
            return JSONResponse(batch_requests.problems(exc, ask, body), status_code=400)

    async def catalog(self, request: Request):
        kind = request.path_params["kind"]
        table = self._table(kind)
        return JSONResponse({"catalog": kind, "entries": {i: e.data for i, e in table.items()}})

    async def entry(self, request: Request):
        kind, entry_id = request.path_params["kind"], request.path_params["id"]
        self._table(kind)
        try:
            e = self.tree.entry(kind, entry_id, Location(None, path=f"$.catalog.{kind}.{entry_id}"))
        except ImpactError as exc:
            return JSONResponse(problems_json(exc.problems), status_code=404)
        return JSONResponse({"catalog": kind, "id": e.id, "file": e.file, "line": e.loc().line, "data": e.data})

    def _table(self, kind: str):
        catalogs = self.tree.catalogs()
        if kind not in catalogs:
            from impact.engine.errors import suggest

            raise Refused(404, Problem(Location(None, path=f"$.catalog.{kind}"), f"unknown catalog '{kind}'",
                                       "one of " + ", ".join(sorted(catalogs)), suggest(kind, catalogs)))  # fmt: skip
        return catalogs[kind]

    async def methodologies(self, request: Request):
        methods = [{"name": m.name, "version": m.version, "title": m.title, "description": m.description,
                    "default": bool(m.default), "file": m.file, "headline": dict(m.headline)}
                   for m in sorted(self.tree.methodologies().values(), key=lambda m: m.name)]  # fmt: skip
        opts = [{"name": o.name, "version": o.version, "description": o.description, "applies_to": list(o.applies_to),
                 "file": o.file} for o in sorted(self.tree.optimizations().values(), key=lambda o: o.name)]  # fmt: skip
        return JSONResponse({"methodologies": methods, "optimizations": opts})

    async def healthz(self, request: Request):
        return JSONResponse({"status": "ok", "version": __version__, "methodologies": sorted(self.tree.methodologies()),
                             "catalogs": sorted(self.tree.catalogs())})  # fmt: skip

    async def openapi(self, request: Request):
        if self._openapi is None:
            self._openapi = openapi_document(self.tree, self.limits)
        return JSONResponse(self._openapi)

    async def index(self, request: Request):
        page = resources.files("impact.service").joinpath("static/index.html").read_bytes()
        return Response(page, media_type="text/html; charset=utf-8")


def check_totals(runs) -> None:
    """Refuse totals that overflow (a `requests:` of 1e308): JSON has no infinity, and no total is one."""
    import numpy as np

    for r in runs:
        with np.errstate(over="ignore"):
            totals = r.totals()
        for name, total in totals.items():
            if not np.all(np.isfinite(total.value)):
                where = Location("<mapping>", path="$.requests")
                raise ImpactError(Problem(where, f"the total of {r.methodology} {name} over {r.requests:g} requests "
                                          "is not a finite number", "fewer requests"))  # fmt: skip


def check_points(scenario: dict, most: int) -> None:
    """Refuse a sweep of more than `most` points before anything is evaluated (400)."""
    sweep = scenario.get("sweep")
    if not isinstance(sweep, dict):
        return  # absent, or the schema will say what is wrong
    n = 1
    for part in ("grid", "zip"):
        block = sweep.get(part)
        if isinstance(block, dict):
            lengths = [len(v) for v in block.values() if isinstance(v, list)]
            if lengths:
                n *= _product(lengths) if part == "grid" else max(lengths)
    if n > most:
        refuse(400, "$.sweep", f"the sweep has {n:,} points, more than the limit of {most:,}",
               f"at most {most:,} points", "run several smaller sweeps")  # fmt: skip


def _product(values) -> int:
    n = 1
    for v in values:
        n *= v
    return n


def _flag(query, name: str) -> bool:
    raw = query.get(name)
    if raw is None:
        return False
    if raw.lower() in ("", "1", "true", "yes"):
        return True
    if raw.lower() in ("0", "false", "no"):
        return False
    refuse(400, f"?{name}", f"{raw!r} is not a flag", "1 or 0 (true or false)")


def _count(query, name: str, most: int, low: int = 1) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    if not raw.strip().isdigit() or int(raw) < low:
        refuse(400, f"?{name}", f"{raw!r} is not a whole number >= {low}", f"a whole number from {low} to {most:,}")
    if int(raw) > most:
        refuse(400, f"?{name}", f"{int(raw):,} is more than the limit of {most:,}", f"at most {most:,}")
    return int(raw)


async def _refused(request, exc: Refused):
    return JSONResponse(problems_json(exc.problems), status_code=exc.status)


async def _http_error(request, exc: HTTPException):
    where = Location(None, path=request.url.path)
    message = {404: "no such endpoint", 405: f"method {request.method} is not allowed here"}.get(
        exc.status_code, str(exc.detail)
    )
    doc = problems_json([Problem(where, message, "one of the endpoints of GET /openapi.json")])
    return JSONResponse(doc, status_code=exc.status_code, headers=getattr(exc, "headers", None))


async def _bug(request, exc: Exception):
    log.exception("internal error answering %s %s", request.method, request.url.path)
    where = Location(None, path=request.url.path)
    doc = problems_json([Problem(where, "internal error in impact (a bug; the server's log has the details)")])
    return JSONResponse(doc, status_code=500)


def create_app(tree, limits: Limits | None = None) -> Starlette:
    """The ASGI application serving `tree` (an engine Tree, opened once by the caller)."""
    service = Service(tree, limits or Limits())
    static = StaticFiles(packages=[("impact.service", "static")])
    routes = [
        Route("/", service.index, methods=["GET"]),
        Route("/healthz", service.healthz, methods=["GET"]),
        Route("/openapi.json", service.openapi, methods=["GET"]),
        Route("/v1/run", service.run, methods=["POST"]),
        Route("/v1/batch", service.batch, methods=["POST"]),
        Route("/v1/methodologies", service.methodologies, methods=["GET"]),
        Route("/v1/catalog/{kind}", service.catalog, methods=["GET"]),
        Route("/v1/catalog/{kind}/{id:path}", service.entry, methods=["GET"]),
        Mount("/static", app=static, name="static"),
    ]
    handlers = {Refused: _refused, HTTPException: _http_error, Exception: _bug}
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.service = service
    return app
