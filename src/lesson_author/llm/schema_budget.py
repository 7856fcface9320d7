"""How long can a reply to a schema be? Bounds derived from maxLength / maxItems / enums.

Constrained decoding (llama.cpp grammars) enforces `maxLength` and `maxItems`, so a
schema whose every free-text string and every array is bounded has a longest
possible JSON reply. `schema_token_budget` computes that length; it counts one
token per character of output, which is an upper bound for ASCII text (a token
is never shorter than one byte), so a budget never cuts a valid reply short.
`unbounded_fields` lists what keeps a schema from having a bound, so tests can
assert that every schema the pipeline sends is bounded.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

# longest JSON text of the fixed-size scalars, as llama.cpp's grammar allows them
_SCALAR_CHARS = {"integer": 20, "number": 40, "boolean": 5, "null": 4}
_BOUNDED_STRING_FORMATS = {"date", "date-time", "time", "uuid", "duration"}
_FORMAT_CHARS = 48
# slack for the optional space after each value and the end-of-sequence token
_SLACK_TOKENS = 16


class _Unbounded(Exception):
    pass


def _as_json_schema(schema: type[BaseModel] | dict[str, Any]) -> dict[str, Any]:
    if isinstance(schema, dict):
        return schema
    return schema.model_json_schema()


class _Walker:
    def __init__(self, root: dict[str, Any]) -> None:
        self.defs: dict[str, Any] = {}
        for key in ("$defs", "definitions"):
            for name, sub in (root.get(key) or {}).items():
                self.defs[f"#/{key}/{name}"] = sub
        self.unbounded: list[str] = []
        self._resolving: list[str] = []

    def _flag(self, path: str) -> None:
        self.unbounded.append(path or "(root)")

    def size(self, node: dict[str, Any] | bool, path: str) -> int | None:
        """Longest JSON text for `node` in characters, or None (and a flag) if unbounded."""
        if node is True or node == {}:
            self._flag(path)
            return None
        if node is False:
            return 0
        assert isinstance(node, dict)
        ref = node.get("$ref")
        if ref is not None:
            if ref in self._resolving or ref not in self.defs:
                self._flag(path)  # recursive or unknown: no bound
                return None
            self._resolving.append(ref)
            try:
                return self.size(self.defs[ref], path)
            finally:
                self._resolving.pop()
        if "const" in node:
            return len(json.dumps(node["const"]))
        if "enum" in node:
            return max((len(json.dumps(v)) for v in node["enum"]), default=0)
        for key in ("anyOf", "oneOf"):
            if key in node:
                return self._largest([self.size(sub, path) for sub in node[key]])
        if "allOf" in node:
            return self._largest([self.size(sub, path) for sub in node["allOf"]])
        kind = node.get("type")
        if isinstance(kind, list):
            return self._largest([self.size({**node, "type": k}, path) for k in kind])
        if kind == "string":
            return self._string(node, path)
        if kind in _SCALAR_CHARS:
            return _SCALAR_CHARS[kind]
        if kind == "array" or "items" in node or "prefixItems" in node:
            return self._array(node, path)
        if kind == "object" or "properties" in node:
            return self._object(node, path)
        self._flag(path)
        return None

    @staticmethod
    def _largest(sizes: list[int | None]) -> int | None:
        if any(s is None for s in sizes):
            return None
        return max((s for s in sizes if s is not None), default=0)

    def _string(self, node: dict[str, Any], path: str) -> int | None:
        if "maxLength" in node:
            return int(node["maxLength"]) + 2
        if node.get("format") in _BOUNDED_STRING_FORMATS:
            return _FORMAT_CHARS
        self._flag(path)
        return None

    def _array(self, node: dict[str, Any], path: str) -> int | None:
        prefix = node.get("prefixItems")
        items = node.get("items")
        if isinstance(prefix, list) and items in (None, False):
            sizes = [self.size(sub, f"{path}[{i}]") for i, sub in enumerate(prefix)]
            total = self._largest(sizes)
            return None if total is None else 2 + sum(s or 0 for s in sizes) + 2 * len(sizes)
        item_size = self.size(items if items is not None else {}, f"{path}[]")
        if "maxItems" not in node:
            self._flag(f"{path}[]" if item_size is not None else path)
            return None
        if item_size is None:
            return None
        return 2 + int(node["maxItems"]) * (item_size + 2)

    def _object(self, node: dict[str, Any], path: str) -> int | None:
        total = 2
        bounded = True
        for name, sub in (node.get("properties") or {}).items():
            child = f"{path}.{name}" if path else name
            size = self.size(sub, child)
            if size is None:
                bounded = False
            else:
                total += len(json.dumps(name)) + 3 + size + 2
        extra = node.get("additionalProperties")
        if extra not in (None, False) or ("properties" not in node and extra is None):
            self._flag(f"{path}{{}}")
            bounded = False
        return total if bounded else None


def unbounded_fields(schema: type[BaseModel] | dict[str, Any]) -> list[str]:
    """Paths (`sections[].body`, `notes`, `(root)`) whose reply length has no bound.

    `x` names a string, or an array without maxItems; `x[]` the items of array x;
    `x{}` free-form keys of object x.

    A string is bounded by maxLength, an enum/const, or a fixed-size format (date,
    uuid ...); an array by maxItems; an object by having only declared properties.
    """
    root = _as_json_schema(schema)
    walker = _Walker(root)
    walker.size(root, "")
    return sorted(set(walker.unbounded))


def schema_max_chars(schema: type[BaseModel] | dict[str, Any]) -> int | None:
    """Longest compact JSON reply the schema allows, in characters; None if unbounded."""
    root = _as_json_schema(schema)
    return _Walker(root).size(root, "")


def schema_token_budget(schema: type[BaseModel] | dict[str, Any]) -> int | None:
    """max_tokens for a reply constrained to `schema`; None if the schema is unbounded."""
    chars = schema_max_chars(schema)
    return None if chars is None else chars + _SLACK_TOKENS
