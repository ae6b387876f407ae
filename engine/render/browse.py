"""The terminal for browsing: the derivation tree of `impact explain` and the tables of `impact catalog`.

Like `terminal`, each function returns rich renderables for the CLI to print; user text is escaped.
"""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table
from rich.tree import Tree as RichTree


def explain(found: dict) -> list:
    """The derivation tree of a result (engine.explain.explain) as a rich tree."""
    root = RichTree(_explain_label(found))
    _explain_children(root, found)
    return [root]


def _explain_label(node) -> str:
    value = f"{node['value']:.6g} {node['unit']}".rstrip()
    if node["kind"] != "formula":
        return f"[bold]{escape(node['name'])}[/bold] = {escape(value)}  [dim]{escape(node['source'])}[/dim]"
    if node.get("repeated"):
        return f"[bold]{escape(node['name'])}[/bold] = {escape(value)}  [dim](derived above)[/dim]"
    return (f"[bold]{escape(node['name'])}[/bold] = {escape(node['expr'])} = {escape(node['substituted'])} = "
            f"{escape(value)}  [dim]{escape(node['where'])}[/dim]")  # fmt: skip


def _explain_children(branch, node) -> None:
    for child in node.get("reads", []):
        _explain_children(branch.add(_explain_label(child)), child)


def catalog_list(kind: str, entries: dict) -> list:
    table = Table(title=f"{kind} ({len(entries)})", title_justify="left")
    table.add_column("id", style="bold")
    table.add_column("name")
    table.add_column("file")
    for eid, entry in entries.items():
        table.add_row(escape(eid), escape(str(entry.data.get("name", ""))), f"{entry.file}:{entry.loc().line}")
    return [table]


def catalog_entry(kind: str, entry_id: str, entry, units: dict) -> list:
    table = Table(title=f"{kind} {entry_id} ({entry.file}:{entry.loc().line})", title_justify="left")
    for column in ("field", "value", "unit", "source"):
        table.add_column(column, overflow="fold")
    for field, value in entry.data.items():
        if field in ("source", "field_sources", "notes"):
            continue
        cite = entry.cite(field) if field in (entry.data.get("field_sources") or {}) else ""
        table.add_row(escape(field), escape(str(value)), escape(units.get(field, "")), escape(cite))
    out = [table, f"source: {escape(entry.data['source'])}"]
    if entry.data.get("notes"):
        out.append(f"notes: {escape(entry.data['notes'])}")
    return out
