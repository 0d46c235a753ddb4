"""FalkorDB values -> Neo4j HTTP API row/meta values."""

from __future__ import annotations

from typing import Any


def to_row(value: Any) -> tuple[Any, Any]:
    """(row value, meta) of one result value, in Neo4j's HTTP shapes."""
    kind = type(value).__name__
    if kind == "Node":
        return dict(value.properties), {"id": value.id, "elementId": f"4:standin:{value.id}",
                                        "type": "node", "deleted": False}
    if kind == "Edge":
        return dict(value.properties), {"id": value.id, "elementId": f"5:standin:{value.id}",
                                        "type": "relationship", "deleted": False}
    if kind == "Path":
        rows, metas = [], []
        for part in _path_parts(value):
            r, m = to_row(part)
            rows.append(r)
            metas.append(m)
        return rows, metas
    if isinstance(value, list):
        pairs = [to_row(v) for v in value]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    if isinstance(value, dict):
        return {k: to_row(v)[0] for k, v in value.items()}, None
    return value, None


def _path_parts(path: Any) -> list[Any]:
    nodes, edges = list(path.nodes()), list(path.edges())
    parts: list[Any] = []
    for i, node in enumerate(nodes):
        parts.append(node)
        if i < len(edges):
            parts.append(edges[i])
    return parts


def error_code(message: str) -> str:
    """Neo4j's status code for a FalkorDB error message."""
    low = message.lower()
    if "missing parameters" in low or "parameter" in low and "missing" in low:
        return "Neo.ClientError.Statement.ParameterMissing"
    if any(s in low for s in ("invalid input", "syntax", "unknown function", "errctx", "unexpected")):
        return "Neo.ClientError.Statement.SyntaxError"
    if "type mismatch" in low:
        return "Neo.ClientError.Statement.TypeError"
    return "Neo.ClientError.Statement.SemanticError"
