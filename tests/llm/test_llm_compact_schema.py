"""The embedded model's tighter decoding schema: only upper bounds shrink, never below a minimum."""

from __future__ import annotations

import inspect

from pydantic import BaseModel

from lesson_author.lesson import schemas as build_schemas
from lesson_author.llm import schema_token_budget
from lesson_author.llm.compact_schema import compact_schema
from lesson_author.pipeline import schemas as plan_schemas


def _bounds(node, found):
    if isinstance(node, dict):
        for low, high in (("minLength", "maxLength"), ("minItems", "maxItems")):
            if high in node:
                found.append((node.get(low, 0), node[high]))
        for value in node.values():
            _bounds(value, found)
    elif isinstance(node, list):
        for value in node:
            _bounds(value, found)
    return found


def _models():
    for module in (plan_schemas, build_schemas):
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseModel) and value.__module__ == module.__name__:
                yield value


def test_compaction_caps_every_bound_but_keeps_minimums_on_the_real_schemas() -> None:
    shrunk = 0
    for model in _models():
        full = model.model_json_schema()
        small = compact_schema(full, max_chars=320, max_items=4)
        for low, high in _bounds(small, []):
            assert low <= high, model.__name__
            assert high <= max(low, 320), model.__name__
        full_budget, small_budget = schema_token_budget(full), schema_token_budget(small)
        assert small_budget <= full_budget, model.__name__
        shrunk += small_budget < full_budget
    assert shrunk >= 5  # the big replies (design, sections, reviews) get much smaller


def test_compaction_leaves_the_input_and_enums_alone_and_zero_disables() -> None:
    schema = {
        "type": "object",
        "properties": {
            "kind": {"type": "string", "enum": ["a" * 500], "maxLength": 500},
            "items": {"type": "array", "minItems": 6, "maxItems": 9, "items": {"type": "string"}},
            "text": {"type": "string", "minLength": 400, "maxLength": 900},
        },
    }
    small = compact_schema(schema, max_chars=100, max_items=4)
    assert schema["properties"]["text"]["maxLength"] == 900
    assert small["properties"]["kind"]["maxLength"] == 500
    assert small["properties"]["items"]["maxItems"] == 6
    assert small["properties"]["text"]["maxLength"] == 400
    assert compact_schema(schema, max_chars=0, max_items=0) == schema


def test_fields_the_seeds_show_short_get_their_own_cap() -> None:
    """A section heading or a title is capped below the general cap; a field whose minimum is
    above its cap keeps the minimum; FIELD_CAPS={} turns them off."""
    full = build_schemas.SectionDraft.model_json_schema()
    small = compact_schema(full, max_chars=320, max_items=4)
    assert full["properties"]["heading"]["maxLength"] == 120
    assert small["properties"]["heading"]["maxLength"] == 70
    block = small["$defs"]["BlockDraft"]["properties"]
    assert block["title"]["maxLength"] == 60 and block["body"]["maxLength"] == 320
    assert block["left_items"]["items"]["maxLength"] == 120  # not a capped name
    plain = compact_schema(full, max_chars=320, max_items=4, field_caps={})
    assert plain["properties"]["heading"]["maxLength"] == 120
    floor = {
        "type": "object",
        "properties": {"title": {"type": "string", "minLength": 90, "maxLength": 200}},
    }
    assert compact_schema(floor, max_chars=320, max_items=4)["properties"]["title"] == {
        "type": "string",
        "minLength": 90,
        "maxLength": 90,
    }
    assert schema_token_budget(small) < schema_token_budget(plain)
