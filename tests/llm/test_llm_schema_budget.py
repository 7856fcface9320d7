"""Token budgets from schemas, and the check that a schema has no unbounded text."""

from __future__ import annotations

import json
from typing import Literal

from llm_test_models import Review
from pydantic import BaseModel, Field

from lesson_author.llm import schema_token_budget, unbounded_fields
from lesson_author.llm.schema_budget import schema_max_chars


class Loose(BaseModel):
    title: str = Field(max_length=20)
    body: str
    tags: list[str] = Field(max_length=5)
    steps: list[str]
    extra: dict[str, int]
    note: str | None = None


class Node(BaseModel):
    name: str = Field(max_length=10)
    children: list[Node] = Field(max_length=2)


class Bounded(BaseModel):
    kind: Literal["a", "bb"]
    score: int
    ratio: float
    ok: bool
    note: str | None = Field(default=None, max_length=30)
    pair: tuple[int, bool]


def test_bounded_nested_schema_has_a_budget() -> None:
    assert unbounded_fields(Review) == []
    budget = schema_token_budget(Review)
    assert budget is not None
    # the longest reply the schema admits fits in it
    longest = {
        "summary": "x" * 120,
        "findings": [{"severity": "IMPROVEMENT", "title": "y" * 60}] * 3,
    }
    assert len(json.dumps(longest)) <= budget
    assert len(json.dumps(longest, separators=(",", ":"))) <= schema_max_chars(Review)  # type: ignore[operator]
    assert budget < 600  # and it is not absurdly loose


def test_unbounded_fields_are_named_by_path() -> None:
    # "steps": the list has no maxItems; "steps[]": its items are unbounded strings
    assert unbounded_fields(Loose) == ["body", "extra{}", "note", "steps", "steps[]", "tags[]"]
    assert schema_token_budget(Loose) is None


def test_recursive_schema_is_unbounded() -> None:
    assert unbounded_fields(Node) == ["children[]"]


def test_scalars_enums_optionals_and_tuples_are_bounded() -> None:
    assert unbounded_fields(Bounded) == []
    assert schema_token_budget(Bounded) is not None


def test_plain_json_schema_dicts_work_too() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 5}}}
    assert unbounded_fields(schema) == []
    # the compact text plus the optional spaces llama.cpp's grammar allows
    assert schema_max_chars(schema) == len('{ "a" : "12345" }')
    assert unbounded_fields({"type": "object"}) == ["{}"]
