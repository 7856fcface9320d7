"""Tighter bounds for a small embedded model's constrained decoding.

A 135M-parameter model writes weak prose and tends to run every string to its
``maxLength``; the time of a run is its generated tokens. The embedded provider
therefore decodes under a copy of the schema whose long strings and long lists
are capped (``local_max_chars``, ``local_max_items`` in ``[tool.author]``).
Only upper bounds shrink, never below a field's own minimum, so every reply
under the compact schema is still valid for the full pydantic model. Enums,
patterns and numbers are left alone. Zero disables a cap.

Some fields are short by nature: the seed documents' titles are under 30 characters, their
headings and new-concept names under 80, a misconception under 100. ``FIELD_CAPS`` caps
those fields by name; a looping model then stops there instead of at the general cap.
"""

from __future__ import annotations

import copy
from typing import Any

# property name -> longest string the embedded model may write there (seed documents: titles
# p90 28 / max 29 characters, headings p90 51 / max 79, new-concept names max 68, earlier
# concepts max 54, misconceptions max 92)
FIELD_CAPS: dict[str, int] = {
    "title": 60,
    "heading": 70,
    "left_title": 40,
    "right_title": 40,
    "name": 70,
    "analogy": 60,
    "topic": 70,
    "misconception": 100,
}


def compact_schema(
    schema: dict[str, Any],
    *,
    max_chars: int,
    max_items: int,
    field_caps: dict[str, int] | None = None,
) -> dict[str, Any]:
    """A copy of the JSON schema `schema` with `maxLength` <= max_chars and `maxItems` <= max_items,
    and each property named in `field_caps` (default FIELD_CAPS; {} for none) capped to its
    value, never below the field's minLength. max_chars = 0 disables every string cap."""
    result = copy.deepcopy(schema)
    caps = FIELD_CAPS if field_caps is None else field_caps
    _shrink(result, max_chars, max_items, caps if max_chars > 0 else {}, None)
    return result


def _cap(node: dict[str, Any], limit: int) -> None:
    if isinstance(node.get("maxLength"), int) and "enum" not in node:
        floor = int(node.get("minLength", 0))
        node["maxLength"] = max(floor, min(node["maxLength"], limit))


def _shrink(
    node: Any, max_chars: int, max_items: int, caps: dict[str, int], name: str | None
) -> None:
    if isinstance(node, list):
        for item in node:
            _shrink(item, max_chars, max_items, caps, name)
        return
    if not isinstance(node, dict):
        return
    if max_chars > 0:
        _cap(node, max_chars)
    if name in caps:
        _cap(node, caps[name])
    if max_items > 0 and isinstance(node.get("maxItems"), int):
        floor = int(node.get("minItems", 0))
        node["maxItems"] = max(floor, min(node["maxItems"], max_items))
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            for prop, sub in value.items():
                _shrink(sub, max_chars, max_items, caps, prop)
        elif key in ("items", "anyOf", "oneOf", "allOf", "prefixItems"):
            _shrink(value, max_chars, max_items, caps, name)  # a list's items: the same field
        else:
            _shrink(value, max_chars, max_items, caps, None)
