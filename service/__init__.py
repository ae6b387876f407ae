"""`impact serve`: the engine behind an HTTP API (Starlette on uvicorn) and a calculator page.

`create_app(tree, limits)` builds the ASGI application (`service.app`); `serve(...)` opens the tree once and
runs it with uvicorn, bound to 127.0.0.1 unless told otherwise. Starlette and uvicorn come with the `serve`
extra (`pip install "impact-llm[serve]"`) and are imported only here, on use. The service reaches the engine
through its public API only (`open_tree`, `run`, `report.document`, the batch API).
"""

from __future__ import annotations


def create_app(tree, limits=None):
    """The ASGI application serving `tree` (see service.app)."""
    from .app import create_app as create

    return create(tree, limits)


def serve(host: str = "127.0.0.1", port: int = 8000, root=None, limits=None, log_level: str = "info") -> None:
    """Open the tree at `root` (else $IMPACT_ROOT, else the shipped one) and serve it until interrupted."""
    import uvicorn

    from impact.engine import open_tree

    app = create_app(open_tree(root), limits)
    uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False)
