"""`impact serve`: the HTTP API and the calculator page over one methodology tree (the `serve` extra)."""

from __future__ import annotations

import click

from ..engine import ImpactError, Location, Problem
from .common import reports_errors, root_option


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback unless told).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="TCP port.")
@click.option("--max-body-bytes", type=click.IntRange(min=1), default=16 * 2**20, show_default=True,
              help="Largest request body accepted; larger ones get 413.")  # fmt: skip
@click.option("--max-rows", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="Most requests in one POST /v1/batch.")  # fmt: skip
@click.option("--max-points", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Most points of a sweep in one POST /v1/run.")  # fmt: skip
@click.option("--max-samples", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Most draws of ?samples= in one POST /v1/run.")  # fmt: skip
@root_option
@reports_errors
def serve_command(host, port, max_body_bytes, max_rows, max_points, max_samples, root):
    """Serve the HTTP API and the calculator page (http://HOST:PORT/) over one methodology tree, loaded
    once at start-up. Needs the serve extra: pip install "impact-llm[serve]"."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise ImpactError(Problem(Location(None, path="impact serve"), f"cannot import {exc.name}",
                                  'the serve extra: pip install "impact-llm[serve]"')) from None  # fmt: skip
    from ..service import serve
    from ..service.bodies import Limits

    limits = Limits(body_bytes=max_body_bytes, batch_rows=max_rows, sweep_points=max_points, samples=max_samples)
    serve(host, port, root, limits)
