"""The one scanner for the JSX-style tags in MDX lessons (``<InsightBlock title="...">``).

Used by :mod:`lesson_author.lesson.mdx` (reading a built lesson back) and by the
report's MDX view.  It reads what authors and the build write:

- an opening tag with attributes: ``name="string"``, ``name='string'``,
  ``name={expression}`` (a JS literal when it is one), bare ``name`` (true),
  and ``{...spread}`` (skipped); :func:`parse_tag`;
- the matching closing tag, nesting aware: :func:`find_close`;
- JS literals as authors write them (unquoted keys, single quotes, trailing
  commas, ``true``/``false``/``null``): :func:`js_literal`.

Nothing here raises on odd input: a malformed tag is ``None``, not an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from typing import Any

__all__ = [
    "JSExpr",
    "Tag",
    "balanced",
    "find_close",
    "js_literal",
    "parse_tag",
    "prop_value",
    "skip_string",
]

TAG_NAME = re.compile(r"[A-Za-z][\w.:-]*")
ATTR_NAME = re.compile(r"[A-Za-z_:][\w:.-]*")
_BARE_VALUE = re.compile(r"[^\s>]+")


@dataclass
class Tag:
    """An opening tag: ``s[start:end]`` is ``<name attrs...>`` or ``<name ... />``."""

    name: str
    attrs: dict[str, Any] = field(default_factory=dict)
    self_closing: bool = False
    start: int = 0
    end: int = 0  # index just after '>'


def skip_string(s: str, i: int) -> int | None:
    """Index just past the string literal starting at ``s[i]``; None when unterminated."""
    quote = s[i]
    i += 1
    while i < len(s):
        if s[i] == "\\":
            i += 2
            continue
        if s[i] == quote:
            return i + 1
        i += 1
    return None


def balanced(s: str, i: int) -> int | None:
    """Index just past the ``}`` matching ``s[i] == '{'`` (string literals and comments
    skipped); None when the braces never balance."""
    depth = 0
    while i < len(s):
        c = s[i]
        if s.startswith("/*", i):  # {/* an author's note, quotes and all */}
            close = s.find("*/", i + 2)
            if close == -1:
                return None
            i = close + 2
            continue
        if c in "\"'`":
            after = skip_string(s, i)
            if after is None:
                return None
            i = after
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def parse_tag(s: str, pos: int, *, entities: bool = True) -> Tag | None:
    """The opening tag starting at ``s[pos] == '<'``, or None when it is not a complete one.

    ``entities``: decode HTML entities in quoted values (``&quot;`` -> ``"``), as JSX does.
    """
    m = TAG_NAME.match(s, pos + 1)
    if not m or s[pos] != "<":
        return None
    tag = Tag(name=m.group(0), start=pos)
    i, n = m.end(), len(s)
    while i < n:
        while i < n and s[i].isspace():
            i += 1
        if s.startswith("/>", i):
            tag.self_closing, tag.end = True, i + 2
            return tag
        if s.startswith(">", i):
            tag.end = i + 1
            return tag
        if s.startswith("{", i):  # spread: {...props}
            after = balanced(s, i)
            if after is None:
                return None
            i = after
            continue
        am = ATTR_NAME.match(s, i)
        if not am:
            return None
        key, i = am.group(0), am.end()
        while i < n and s[i] in " \t":
            i += 1
        if not s.startswith("=", i):
            tag.attrs[key] = True
            continue
        i += 1
        while i < n and s[i].isspace():
            i += 1
        if i >= n:
            return None
        if s[i] in "\"'":
            end = s.find(s[i], i + 1)
            if end == -1:
                return None
            raw = s[i + 1 : end]
            tag.attrs[key] = unescape(raw) if entities else raw
            i = end + 1
        elif s[i] == "{":
            after = balanced(s, i)
            if after is None:
                return None
            tag.attrs[key] = prop_value(s[i + 1 : after - 1])
            i = after
        else:
            vm = _BARE_VALUE.match(s, i)
            if not vm:
                return None
            tag.attrs[key] = vm.group(0)
            i = vm.end()
    return None


def find_close(s: str, name: str, start: int) -> tuple[int, int] | None:
    """(start of ``</name>``, index after it) closing a ``<name>`` opened before ``start``;
    nested ``<name>`` tags are counted; None when it is never closed."""
    depth = 1
    pattern = re.compile(r"<(/?)" + re.escape(name) + r"(?=[\s/>])")
    i = start
    while True:
        m = pattern.search(s, i)
        if not m:
            return None
        if m.group(1):
            close = s.find(">", m.end())
            if close == -1:
                return None
            depth -= 1
            if depth == 0:
                return m.start(), close + 1
            i = close + 1
            continue
        tag = parse_tag(s, m.start())
        if tag is None:
            i = m.end()
            continue
        if not tag.self_closing:
            depth += 1
        i = tag.end


# ---------------------------------------------------------------- JS literal values


class JSExpr(str):
    """A prop expression that is not a literal (``{someVariable}``), kept as its source."""


_ESCAPES = {"n": "\n", "t": "\t", "r": "", "b": "\b", "f": "\f", "/": "/", "0": "\0"}
_NUMBER_OR_WORD = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|(?:true|false|null|undefined)\b")
_WORDS = {"true": True, "false": False, "null": None, "undefined": None}
_KEY = re.compile(r"[A-Za-z_$][\w$]*")


class _Reader:
    """A tolerant reader for the literal values lessons pass as props."""

    def __init__(self, src: str):
        self.s, self.i = src, 0

    def ws(self) -> None:
        while self.i < len(self.s) and (self.s[self.i].isspace() or self.s[self.i] == ","):
            self.i += 1

    def value(self) -> Any:
        self.ws()
        if self.i >= len(self.s):
            raise ValueError("end of input")
        c = self.s[self.i]
        if c in "\"'`":
            return self.string()
        if c == "{":
            return self.obj()
        if c == "[":
            return self.arr()
        m = _NUMBER_OR_WORD.match(self.s, self.i)
        if not m:
            raise ValueError(f"not a literal at {self.i}")
        self.i = m.end()
        word = m.group(0)
        if word in _WORDS:
            return _WORDS[word]
        return int(word) if re.fullmatch(r"-?\d+", word) else float(word)

    def string(self) -> str:
        quote = self.s[self.i]
        self.i += 1
        out: list[str] = []
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == "\\" and self.i + 1 < len(self.s):
                nxt = self.s[self.i + 1]
                hexa = self.s[self.i + 2 : self.i + 6]
                if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", hexa):
                    out.append(chr(int(hexa, 16)))
                    self.i += 6
                    continue
                out.append(_ESCAPES.get(nxt, nxt))
                self.i += 2
                continue
            if c == quote:
                self.i += 1
                return "".join(out)
            out.append(c)
            self.i += 1
        raise ValueError("unterminated string")

    def obj(self) -> dict[str, Any]:
        self.i += 1
        out: dict[str, Any] = {}
        while True:
            self.ws()
            if self.i >= len(self.s):
                raise ValueError("unterminated object")
            if self.s[self.i] == "}":
                self.i += 1
                return out
            if self.s[self.i] in "\"'`":
                key = self.string()
            else:
                m = _KEY.match(self.s, self.i)
                if not m:
                    raise ValueError("bad key")
                key, self.i = m.group(0), m.end()
            self.ws()
            if self.s.startswith(":", self.i):
                self.i += 1
                out[key] = self.value()
            else:
                out[key] = True

    def arr(self) -> list[Any]:
        self.i += 1
        out: list[Any] = []
        while True:
            self.ws()
            if self.i >= len(self.s):
                raise ValueError("unterminated array")
            if self.s[self.i] == "]":
                self.i += 1
                return out
            out.append(self.value())


_NOT_LITERAL = object()


def _literal(text: str) -> Any:
    reader = _Reader(text.strip())
    try:
        value = reader.value()
    except ValueError:
        return _NOT_LITERAL
    reader.ws()
    return value if reader.i == len(reader.s) else _NOT_LITERAL


def js_literal(text: str) -> Any:
    """The value of a JS literal as an author may write it (JSON, or unquoted keys, single
    quotes, trailing commas); None when ``text`` is not one."""
    value = _literal(text)
    return None if value is _NOT_LITERAL else value


_STRING_LITERAL = re.compile(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|`(?:\\.|[^`\\])*`")


def prop_value(src: str) -> Any:
    """The value of a ``{...}`` prop: the literal when it is one, else the string literals in it
    (one string, or a list of them), else the expression as a :class:`JSExpr`."""
    value = _literal(src)
    if value is not _NOT_LITERAL:
        return value
    found = [v for v in (_literal(m.group(0)) for m in _STRING_LITERAL.finditer(src))]
    found = [v for v in found if isinstance(v, str)]
    if found:
        return found if len(found) > 1 else found[0]
    return JSExpr(src.strip())
