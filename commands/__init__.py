"""The `impact` subcommands, a module per group of commands; `impact.cli` gathers them under `main`.

Commands parse options, call the engine's public API and hand the rows to `engine.render`; they compute and
draw nothing themselves. `common` holds the options, the error wrapper and the printing every command shares.
"""
