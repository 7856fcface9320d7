"""Tighter bounds for a small embedded model's constrained decoding.

A 135M-parameter model writes weak prose and tends to run every string to its
``maxLength``; the time of a run is its generated tokens. The embedded provider
therefore decodes under a copy of the schema whose long strings and long lists
are capped (``local_max_chars``, ``local_max_items`` in ``[tool.author]``).
Only upper bounds shrink, never below a field's own minimum, so every reply
under the compact schema is still valid for the full pydantic model. Enums,
patterns and numbers are left alone. Zero disables a cap.
"""

from __future__ import annotations

import copy
from typing import Any


def compact_schema(schema: dict[str, Any], *, max_chars: int, max_items: int) -> dict[str, Any]:
    """A copy of the JSON schema `schema` with `maxLength` <= max_chars and `maxItems` <= max_items."""
    result = copy.deepcopy(schema)
    _shrink(result, max_chars, max_items)
    return result


def _shrink(node: Any, max_chars: int, max_items: int) -> None:
    if isinstance(node, list):
        for item in node:
            _shrink(item, max_chars, max_items)
        return
    if not isinstance(node, dict):
        return
    if max_chars > 0 and isinstance(node.get("maxLength"), int) and "enum" not in node:
        floor = int(node.get("minLength", 0))
        node["maxLength"] = max(floor, min(node["maxLength"], max_chars))
    if max_items > 0 and isinstance(node.get("maxItems"), int):
        floor = int(node.get("minItems", 0))
        node["maxItems"] = max(floor, min(node["maxItems"], max_items))
    for value in node.values():
        _shrink(value, max_chars, max_items)
