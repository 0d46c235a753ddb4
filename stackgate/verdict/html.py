"""The report's HTML building blocks: one table (cells escaped unless marked `Raw`) and one self-contained page."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence


class Raw(str):
    """A cell that is already HTML (a link, a coloured status): table() leaves it as it is."""


def cell(value: object) -> str:
    """A table cell's HTML: Raw as it is, anything else escaped."""
    return value if isinstance(value, Raw) else html.escape(str(value))


def table(head: Sequence[str], rows: Iterable[Sequence[object]], title: str = "", note: str = "",
          style: str = "border-collapse:collapse", cls: str = "", cellpadding: int = 4) -> str:
    """A bordered table under an optional <h2> title and note; '' when there are no rows."""
    rows = list(rows)
    if not rows:
        return ""
    body = "".join("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in r) + "</tr>" for r in rows)
    klass = f" class='{cls}'" if cls else ""
    return ((f"<h2>{html.escape(title)}</h2>" if title else "") + (f"<p>{html.escape(note)}</p>" if note else "")
            + f"<table{klass} border='1' cellpadding='{cellpadding}' style='{style}'><tr>"
            + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>" + body + "</table>")


def bullets(items: dict[str, object]) -> str:
    """A <ul> of 'key: value' lines (escaped)."""
    return "<ul>" + "".join(f"<li>{html.escape(k)}: {html.escape(str(v))}</li>" for k, v in items.items()) + "</ul>"


def page(title: str, body: str) -> str:
    """A self-contained HTML page."""
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body style='font-family:sans-serif'>{body}</body></html>")
