"""The provider interface, and the validate-and-retry loop every provider shares."""

from __future__ import annotations

import enum
import functools
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypedDict, TypeVar, get_origin, runtime_checkable

from pydantic import BaseModel, ValidationError

from lesson_author.text.degenerate import (
    NO_ANSWER,
    REPEAT,
    Degeneracy,
    find_degenerate,
    repeated_text,
)

from .errors import LLMError, one_line
from .usage import Usage

ModelT = TypeVar("ModelT", bound=BaseModel)

# how much of a rejected reply is echoed back to the model with the error
FEEDBACK_REPLY_CHARS = 4000
MAX_ERRORS_SHOWN = 5


class Message(TypedDict):
    role: str
    content: str


@runtime_checkable
class Provider(Protocol):
    """Anything that turns messages into a validated instance of a pydantic model."""

    name: str
    model: str

    def complete(
        self, messages: list[Message], schema: type[ModelT], *, phase: str
    ) -> tuple[ModelT, Usage]: ...


@dataclass
class RawReply:
    """One model call's text and token counts, before validation."""

    text: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    truncated: bool = False
    # the embedded model's own counters for this call (llama.cpp perf): prompt tokens actually
    # evaluated (a reused prefix is not) and their time, tokens decoded and their time
    prompt_eval_tokens: int = 0
    prompt_eval_s: float = 0.0
    decode_tokens: int = 0
    decode_s: float = 0.0
    generate_s: float = 0.0  # the call's wall time (sampling and the grammar included)


def schema_json(schema: type[BaseModel]) -> dict[str, Any]:
    return schema.model_json_schema()


def _strip_code_fence(text: str) -> str:
    """Some JSON-mode endpoints still wrap the object in a ``` fence; unwrap it."""
    stripped = text.strip()
    if stripped.startswith("```") and stripped.endswith("```") and "\n" in stripped:
        body = stripped[stripped.index("\n") + 1 : -3]
        return body.strip()
    return stripped


def describe_validation_error(error: ValidationError) -> str:
    parts: list[str] = []
    for item in error.errors()[:MAX_ERRORS_SHOWN]:
        location = ".".join(str(p) for p in item.get("loc", ())) or "(root)"
        if item.get("type") == "json_invalid":
            parts.append(f"invalid JSON: {item.get('msg', '')}")
        else:
            parts.append(f"{location}: {item.get('msg', '')}")
    hidden = error.error_count() - len(parts)
    if hidden > 0:
        parts.append(f"and {hidden} more")
    return "; ".join(parts)


def validate_reply(text: str | None, schema: type[ModelT]) -> ModelT | str:
    """The instance, or a one-line description of why the reply is not one."""
    if text is None or not text.strip():
        return "the reply was empty"
    body = _strip_code_fence(text)
    try:
        return schema.model_validate_json(body)
    except ValidationError as exc:
        if not any(item.get("type") == "json_invalid" for item in exc.errors()):
            return describe_validation_error(exc)
        strict_error = describe_validation_error(exc)
    # A raw line break or tab inside a string is invalid JSON, but it is what the model
    # meant (code, multi-line prose): llama.cpp's JSON grammar lets such characters through.
    try:
        data = json.loads(body, strict=False)
    except ValueError:
        return strict_error
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        return describe_validation_error(exc)


# ---------------------------------------------------------------- degenerate text
#
# A reply can be valid for the schema and still be garbage: a 135M model that loops fills a
# string to its maxLength with "1.1.1.1..." or the field's own description. Such a string is
# refused like a schema violation (the model is asked again, told which field and why); what is
# still degenerate after the last attempt is replaced by NO_ANSWER (list items dropped where the
# list may be shorter) and named in Usage.no_answer, so no document presents it as content.

_CODE_NAME = re.compile(r"(?:^|_)(?:code|source|snippet)(?:$|_)")
_CODE_DESCRIPTION = re.compile(r"\b(?:code|python|source)\b", re.IGNORECASE)
#: what a code field gets instead of degenerate code: the marker, as a comment that still parses
NO_ANSWER_CODE = f"# {NO_ANSWER}"


def _location(path: tuple[str | int, ...]) -> str:
    """`sections[2].body`: a field of a reply, list indices included."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


@dataclass(frozen=True)
class DegenerateField:
    """One degenerate string of a validated reply: where it is and why it is refused."""

    path: tuple[str | int, ...]  # attribute names and list indices from the reply's root
    reason: Degeneracy
    code: bool

    @property
    def field(self) -> str:
        """The field, with list indices as [] (`sections[].body`): what usage counts."""
        out = ""
        for part in self.path:
            out += "[]" if isinstance(part, int) else (f".{part}" if out else part)
        return out

    @property
    def location(self) -> str:
        return _location(self.path)

    def __str__(self) -> str:
        return f"{self.location}: degenerate text ({self.reason})"


@functools.lru_cache(maxsize=512)
def _property_names(schema: type[BaseModel]) -> frozenset[str]:
    """Every property name of the schema's JSON schema, nested models included."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, sub in (node.get("properties") or {}).items():
                names.add(str(name))
                walk(sub)
            for key, sub in node.items():
                if key != "properties":
                    walk(sub)
        elif isinstance(node, list):
            for sub in node:
                walk(sub)

    walk(schema.model_json_schema())
    return frozenset(names)


def _is_code(name: str, description: str | None, owner: BaseModel) -> bool:
    """A field holds source code: its name or description says so, or it is the `body` of a
    block whose `language` is set (a code block)."""
    if _CODE_NAME.search(name) or (description and _CODE_DESCRIPTION.search(description)):
        return True
    if name != "body":
        return False
    return bool(getattr(owner, "language", "") or "") or getattr(owner, "kind", None) == "code"


# fields that hold a tag or an address, not text (`language: "text"` is a code block's language)
_NOT_TEXT = frozenset({"language", "url", "slug", "id"})
_TAG_LENGTH = 24  # a string field this short is a tag, not text


def _choice(name: str, info: Any) -> bool:
    """A Literal, an enum, a tag or an address: a value the schema fixes, never free text."""
    annotation = info.annotation
    if name in _NOT_TEXT or get_origin(annotation) is Literal:
        return True
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return True
    if annotation is not str:
        return False
    limits = [getattr(m, "max_length", None) for m in info.metadata]
    return any(isinstance(n, int) and n <= _TAG_LENGTH for n in limits)


def _strings(
    instance: BaseModel, path: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], str, str | None, bool]]:
    """(path, text, field description, is code) for every free-text string of `instance`."""
    for name, info in type(instance).model_fields.items():
        if _choice(name, info):
            continue
        value = getattr(instance, name, None)
        code = _is_code(name, info.description, instance)
        items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            where = (*path, name) if index is None else (*path, name, index)
            if isinstance(item, BaseModel):
                yield from _strings(item, where)
            elif isinstance(item, str) and not isinstance(item, enum.Enum):
                yield where, item, info.description, code


# a code field whose whole value is one markdown fence: the code is inside it
# (a reply cut at the field's length limit has no closing fence)
_FENCED_VALUE = re.compile(r"\A\s*(`{3,})[\w+.-]*[ \t]*\n(?P<code>.*?)(?:\n?\1\s*)?\Z", re.DOTALL)


def unwrap_code_fields(instance: ModelT) -> ModelT:
    """``instance`` with each code field written as a fenced block unwrapped to the code.

    Coder models answer a `solution_code` field with "```python ... ```"; a notebook cell
    holding that does not parse, and a lesson's code block would be fenced twice."""
    for path, text, _, code in list(_strings(instance, ())):
        match = _FENCED_VALUE.match(text) if code else None
        if match is None or "```" in match["code"]:
            continue
        owner: Any = instance
        for part in path[:-1]:
            owner = owner[part] if isinstance(part, int) else getattr(owner, part)
        if isinstance(path[-1], int):
            owner[path[-1]] = match["code"]
        else:
            object.__setattr__(owner, path[-1], match["code"])
    return instance


def degenerate_fields(instance: BaseModel, schema: type[BaseModel]) -> list[DegenerateField]:
    """The degenerate strings of a validated reply (lesson_author.text.degenerate decides):
    each checked with the schema's property names as `keys` and its field's description as
    `echoes`; code fields only for loops and digit runs."""
    keys = _property_names(schema)
    found: list[DegenerateField] = []
    seen: dict[str, str] = {}  # prose already in the reply -> the field it was in
    # prose first, so that code is compared with all of it
    strings = sorted(_strings(instance, ()), key=lambda found: found[3])
    for path, text, description, code in strings:
        if text.strip() in (NO_ANSWER, NO_ANSWER_CODE):
            continue
        echoes = (description,) if description else ()
        reasons = find_degenerate(text, code=code, echoes=echoes, keys=keys)
        if not reasons:  # code is compared with the prose (a solution that is its notes again)
            repeat = repeated_text(text, seen, _location(path), record=not code)
            reasons = [repeat] if repeat else []
        if reasons:
            found.append(DegenerateField(path, reasons[0], code))
    return found


def describe_degenerate(fields: list[DegenerateField]) -> str:
    parts = [str(f) for f in fields[:MAX_ERRORS_SHOWN]]
    if len(fields) > MAX_ERRORS_SHOWN:
        parts.append(f"and {len(fields) - MAX_ERRORS_SHOWN} more")
    return "; ".join(parts) + (
        ". Write real content for each of these fields in plain words; do not repeat "
        "words, numbers or the field's description"
    )


def _min_items(owner: BaseModel, name: str) -> int:
    info = type(owner).model_fields.get(name)
    if info is None:
        return 0
    floor = 0
    for meta in info.metadata:
        floor = max(floor, int(getattr(meta, "min_length", 0) or 0))
    return floor


def replace_degenerate(instance: ModelT, fields: list[DegenerateField]) -> ModelT:
    """A copy of `instance` with each degenerate string replaced by NO_ANSWER (NO_ANSWER_CODE in
    code), or its list item dropped where the list may be shorter than it is.

    The copy is not validated again: NO_ANSWER stands for the answer the model could not give,
    also where a field asks for more characters than the marker has.
    """
    result = instance.model_copy(deep=True)
    drops: dict[tuple[str | int, ...], set[int]] = {}
    for item in fields:
        owner: Any = result
        for part in item.path[:-1]:
            owner = owner[part] if isinstance(part, int) else getattr(owner, part)
        last = item.path[-1]
        # a string in a list of strings, or a string field of an object in a list: drop the
        # list's item when the list may lose it, else write the marker
        list_at = next(
            (i for i in range(len(item.path) - 1, 0, -1) if isinstance(item.path[i], int)), None
        )
        if list_at is not None:
            parent: Any = result
            for part in item.path[: list_at - 1]:
                parent = parent[part] if isinstance(part, int) else getattr(parent, part)
            name = item.path[list_at - 1]
            assert isinstance(name, str)
            key = item.path[:list_at]
            current = len(getattr(parent, name))
            pending = drops.setdefault(key, set())
            index = item.path[list_at]
            assert isinstance(index, int)
            if index in pending or current - len(pending) > _min_items(parent, name):
                pending.add(index)
                continue
        marker = NO_ANSWER_CODE if item.code else NO_ANSWER
        if isinstance(last, int):
            owner[last] = marker
        else:
            object.__setattr__(owner, last, marker)
    for key, indices in sorted(drops.items(), key=lambda kv: len(kv[0]), reverse=True):
        parent = result
        for part in key[:-1]:
            parent = parent[part] if isinstance(part, int) else getattr(parent, part)
        name = key[-1]
        assert isinstance(name, str)
        kept = [v for i, v in enumerate(getattr(parent, name)) if i not in indices]
        object.__setattr__(parent, name, kept)
    return result


def salvage_short_strings(
    text: str | None, schema: type[ModelT]
) -> tuple[ModelT, list[str]] | None:
    """The reply with each string that is too short for its field (empty, or a few characters
    where the schema asks for a sentence) replaced by NO_ANSWER, when that is all that keeps it
    from the schema; with the fields replaced (list indices as ``[]``, as `Usage.no_answer`
    counts them). None when anything else is wrong, or when the marker does not fit a bound.

    A small model that keeps answering ``""`` for one sentence of a long reply would otherwise
    stop the whole run after its last attempt; the document says the field has no answer."""
    if not text or not text.strip():
        return None
    try:
        data = json.loads(_strip_code_fence(text), strict=False)
        schema.model_validate(data)
        return None  # valid: nothing to salvage
    except ValueError as exc:  # ValidationError is a ValueError; so is invalid JSON
        errors = exc.errors() if isinstance(exc, ValidationError) else None
    if not errors or any(e.get("type") != "string_too_short" for e in errors):
        return None
    fields: list[str] = []
    for error in errors:
        if int(error.get("ctx", {}).get("min_length", 0)) > len(NO_ANSWER):
            return None
        loc = error.get("loc", ())
        owner: Any = data
        try:
            for part in loc[:-1]:
                owner = owner[part]
            owner[loc[-1]] = NO_ANSWER
        except (KeyError, IndexError, TypeError):
            return None
        field = ""
        for part in loc:
            field += "[]" if isinstance(part, int) else (f".{part}" if field else str(part))
        fields.append(field)
    try:
        return schema.model_validate(data), fields
    except ValidationError:
        return None


def feedback_messages(reply: str | None, error: str) -> list[Message]:
    shown = (reply or "")[:FEEDBACK_REPLY_CHARS]
    return [
        {"role": "assistant", "content": shown},
        {
            "role": "user",
            "content": (
                "Your reply is not valid for the required JSON schema: "
                f"{error}. Reply again with only the corrected JSON object."
            ),
        },
    ]


def complete_with_validation(
    generate: Callable[[list[Message]], RawReply],
    messages: list[Message],
    schema: type[ModelT],
    *,
    phase: str,
    model: str,
    max_retries: int,
    degenerate_retries: int | None = None,
) -> tuple[ModelT, Usage]:
    """Call `generate` until its reply validates against `schema` and has no degenerate string,
    at most 1 + max_retries times, of which at most `degenerate_retries` (default: all) are
    re-asks for degenerate text alone.

    Each rejected reply goes back to the model with the reason (the validation error, or each
    degenerate field and why). When the attempts are spent and some reply was valid but for
    degenerate strings, the one with the fewest is used with those strings replaced (see
    `replace_degenerate`) and the fields named in `Usage.no_answer`; with no valid reply at
    all an LLMError names the phase, the model and the last error.
    `generate` may raise LLMError itself (transport failures); the usage so far is
    attached to it.
    """
    started = time.perf_counter()
    conversation: list[Message] = [{"role": m["role"], "content": m["content"]} for m in messages]
    usage = Usage(phase=phase, model=model, calls=0)
    last_error = ""
    best: tuple[ModelT, list[DegenerateField]] | None = None
    refused: list[str | None] = []  # replies the schema refused, newest last
    attempts = max(0, max_retries) + 1
    for _ in range(attempts):
        try:
            reply = generate(conversation)
        except LLMError as exc:
            usage.latency_s = time.perf_counter() - started
            exc.usage = usage if usage.calls else exc.usage
            raise
        usage.calls += 1
        usage.prompt_tokens += reply.prompt_tokens
        usage.completion_tokens += reply.completion_tokens
        usage.prompt_eval_tokens += reply.prompt_eval_tokens
        usage.prompt_eval_s += reply.prompt_eval_s
        usage.decode_tokens += reply.decode_tokens
        usage.decode_s += reply.decode_s
        usage.generate_s += reply.generate_s
        result = validate_reply(reply.text, schema)
        if not isinstance(result, str):
            result = unwrap_code_fields(result)
            bad = degenerate_fields(result, schema)
            if not bad:
                usage.latency_s = time.perf_counter() - started
                return result, usage
            usage.degenerate_replies += 1
            if best is None or len(bad) < len(best[1]):
                best = (result, bad)
            if degenerate_retries is not None and usage.degenerate_replies > degenerate_retries:
                break
            if degenerate_retries is not None and all(f.reason.kind == REPEAT for f in bad):
                # a provider with few re-asks (the embedded model): a reply whose only fault is
                # prose repeated from another field keeps the rest; re-asking cost the main job
                # 34 more refused replies and two minutes, and the repeats came back
                best = (result, bad)
                break
            result = describe_degenerate(bad)
        else:
            refused.append(reply.text)
        last_error = result
        if reply.truncated:
            last_error += " (the reply was cut off at the token limit)"
        conversation.extend(feedback_messages(reply.text, last_error))
    usage.latency_s = time.perf_counter() - started
    if best is not None:
        instance, bad = best
        usage.no_answer = [f.field for f in bad]
        return replace_degenerate(instance, bad), usage
    for text in reversed(refused):
        salvaged = salvage_short_strings(text, schema)
        if salvaged is not None:
            # what the salvaged reply says is checked like any other reply's
            instance, short = salvaged
            instance = unwrap_code_fields(instance)
            bad = degenerate_fields(instance, schema)
            usage.no_answer = short + [f.field for f in bad]
            return replace_degenerate(instance, bad) if bad else instance, usage
    raise LLMError(
        f"phase '{phase}', model '{model}': no valid {schema.__name__} after "
        f"{attempts} attempt(s); last validation error: {one_line(last_error, 500)}",
        usage=usage,
    )
