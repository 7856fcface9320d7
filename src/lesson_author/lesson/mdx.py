"""Built lesson <-> MDX text.

:func:`render_mdx` writes Markdown with the course's block components as
JSX-style tags (``<InsightBlock title="...">...</InsightBlock>``, checks as a
``<details><summary>Answer</summary>...</details>`` reveal inside a card).
:func:`read_mdx` reads such a file back, tolerant enough for a file an author
edited by hand: sections are split at ``## `` headings, blocks are found by
their tags, attribute values may be ``"strings"``, ``{"JSON"}`` or JS object
literals with unquoted keys and single quotes, and everything it does not
recognise stays in the section's prose.

Text is escaped for MDX (``{``, ``}``, ``<`` and the backslash before them)
outside code spans and fenced code; :func:`read_mdx` undoes exactly that, so
``read_mdx(render_mdx(lesson))`` gives back the lesson's content.
"""

from __future__ import annotations

import json
import re
import textwrap
from functools import lru_cache
from typing import Any

import jinja2
from markdown_it import MarkdownIt

from lesson_author.lesson.lesson_doc import (
    ASIDE_TAGS,
    Aside,
    Block,
    BuiltExercise,
    BuiltLesson,
    BuiltSection,
    Check,
    CodeBlock,
    ComparisonRow,
    ComparisonSide,
    GradientCard,
    Reference,
    notebook_filename,
    section_role,
)
from lesson_author.text.jsx import JSExpr, find_close, js_literal, parse_tag

# ---------------------------------------------------------------- escaping

_SPECIAL = "{}<"
_CODE = re.compile(r"(?ms)^(```|~~~).*?^\1[ \t]*$|(`+)(?:(?!\2).)+?\2")


def _split_code(text: str) -> list[tuple[bool, str]]:
    """(is_code, piece) pieces: fenced blocks and inline code spans are code."""
    pieces: list[tuple[bool, str]] = []
    pos = 0
    for m in _CODE.finditer(text):
        if m.start() > pos:
            pieces.append((False, text[pos : m.start()]))
        pieces.append((True, m.group(0)))
        pos = m.end()
    if pos < len(text):
        pieces.append((False, text[pos:]))
    return pieces


def _escape_plain(text: str) -> str:
    out = []
    for i, ch in enumerate(text):
        if ch in _SPECIAL:
            out.append("\\" + ch)
        elif ch == "\\" and i + 1 < len(text) and text[i + 1] in _SPECIAL + "\\":
            out.append("\\\\")
        else:
            out.append(ch)
    return "".join(out)


def _unescape_plain(text: str) -> str:
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in _SPECIAL + "\\":
            out.append(text[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def escape_mdx(text: str) -> str:
    """``text`` safe as MDX body text: ``{ } <`` escaped outside code."""
    return "".join(p if code else _escape_plain(p) for code, p in _split_code(text.strip()))


def unescape_mdx(text: str) -> str:
    return "".join(p if code else _unescape_plain(p) for code, p in _split_code(text))


def _attr(name: str, value: Any) -> str:
    text = str(value)
    if re.search(r'["{}\n\\]', text):
        return f"{name}={{{_js(text)}}}"
    return f'{name}="{text}"'


def _js(value: Any) -> str:
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    return json.dumps(value, ensure_ascii=False)


def _fence(code: str, language: str) -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", code)), default=2)
    ticks = "`" * max(3, longest + 1)
    lang = re.sub(r"[^\w+#.-]", "", language or "")
    return f"{ticks}{lang}\n{code.strip(chr(10))}\n{ticks}"


def _comment(text: str) -> str:
    return " ".join(text.replace("*/", "* /").split())


def _side(side: ComparisonSide) -> dict[str, Any]:
    data: dict[str, Any] = {"title": side.title}
    if side.color:
        data["color"] = side.color
    data["items"] = side.items
    return data


def _refs(refs: list[Reference]) -> list[dict[str, str]]:
    return [{k: v for k, v in r.model_dump().items() if v or k == "title"} for r in refs]


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lesson_author.lesson", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(
        mdx=escape_mdx, attr=_attr, js=_js, fence=_fence, comment=_comment, side=_side, refs=_refs
    )
    return env


# ---------------------------------------------------------------- frame sections


_FRAME_SECTIONS = [
    ("practice", "Practice"),
    ("summary", "Summary"),
    ("references", "References"),
    ("next", "Next Step"),
]
_ROLE_RANK = {"practice": 1, "summary": 2, "references": 3, "next": 4}


def with_frame_sections(lesson: BuiltLesson) -> BuiltLesson:
    """The lesson with a section for the practice notebook, summary, references and next step
    appended when it has that content but no outline section of that role."""
    roles = {s.role for s in lesson.sections}
    has = {
        "practice": bool(lesson.notebook and lesson.notebook.exercises),
        "summary": bool(lesson.summary),
        "references": bool(lesson.references),
        "next": bool(lesson.next_step),
    }
    sections = list(lesson.sections)
    for role, title in _FRAME_SECTIONS:
        if not has[role] or role in roles:
            continue
        rank = _ROLE_RANK[role]
        at = next(
            (i for i, s in enumerate(sections) if _ROLE_RANK.get(s.role, 0) > rank), len(sections)
        )
        sections.insert(at, BuiltSection(outline_title=title, heading=title))
    if len(sections) == len(lesson.sections):
        return lesson
    return lesson.model_copy(update={"sections": sections})


def render_mdx(lesson: BuiltLesson) -> str:
    """The lesson as MDX text (``build/<slug>.mdx``)."""
    full = with_frame_sections(lesson)
    exercises = [
        {"level": e.level, "title": e.title, "task": e.task}
        for e in (lesson.notebook.exercises if lesson.notebook else [])
    ]
    text = (
        _environment()
        .get_template("lesson.mdx.j2")
        .render(
            lesson=full,
            sections=full.sections,
            notebook=notebook_filename(lesson.slug),
            exercises=exercises,
        )
    )
    return text.rstrip("\n") + "\n"


# ---------------------------------------------------------------- reading back


_KNOWN_TAGS = {
    "ComparisonRow",
    "GradientCard",
    "CodeBlock",
    "ObjectiveBlock",
    "ConstraintBlock",
    "SummaryBlock",
    "ReferencesBlock",
    "NextStepBlock",
    "NotebookBlock",
    "details",
    *ASIDE_TAGS.values(),
}
_TAG_OPEN = re.compile(r"<([A-Za-z][A-Za-z0-9]*)\b")
_OUTLINE_COMMENT = re.compile(r"^\{/\*\s*outline\s+(-|\d+)\s*:\s*(.*?)\s*\*/\}\s*$")
_FRONTMATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)


class _Element:
    def __init__(self, tag: str, attrs: dict[str, Any], inner: str) -> None:
        self.tag, self.attrs, self.inner = tag, attrs, inner


def _elements(text: str) -> list[str | _Element]:
    """Split MDX body text into plain-text pieces and known top-level elements."""
    pieces: list[str | _Element] = []
    pos = 0
    plain_start = 0
    code_spans = [(m.start(), m.end()) for m in _CODE.finditer(text)]
    while True:
        m = _TAG_OPEN.search(text, pos)
        if m is None:
            break
        if (
            m.group(1) not in _KNOWN_TAGS
            or (m.start() > 0 and text[m.start() - 1] == "\\")
            or any(a <= m.start() < b for a, b in code_spans)
        ):
            pos = m.end()
            continue
        # quoted values are kept as written, so read_mdx(render_mdx(x)) gives back x
        tag = parse_tag(text, m.start(), entities=False)
        if tag is None or tag.name != m.group(1):
            pos = m.end()
            continue
        if tag.self_closing:
            inner, end = "", tag.end
        else:
            close_start, end = find_close(text, tag.name, tag.end) or (len(text), len(text))
            inner = text[tag.end : close_start]
        attrs = {k: str(v) if isinstance(v, JSExpr) else v for k, v in tag.attrs.items()}
        pieces.append(text[plain_start : m.start()])
        pieces.append(_Element(tag.name, attrs, inner))
        pos = plain_start = end
    pieces.append(text[plain_start:])
    return pieces


def _clean(text: str) -> str:
    return unescape_mdx(text.strip())


def _str(value: Any) -> str:
    return "" if value is None or value is True else str(value)


def fenced_code(text: str) -> tuple[str, str] | None:
    """(language, code) of the first fenced code block in ``text`` (markdown-it-py finds it,
    the text dedented first as it sits inside a component); None when there is none."""
    for token in _markdown().parse(textwrap.dedent(text)):
        if token.type == "fence":
            return token.info.strip().split(" ")[0], token.content.removesuffix("\n")
    return None


def _code_of(inner: str) -> tuple[str, str]:
    """(language, code) of the first fenced block in ``inner``; the text itself when none."""
    return fenced_code(inner) or ("", inner.strip("\n"))


def _side_from(value: Any) -> ComparisonSide:
    if not isinstance(value, dict):
        return ComparisonSide(title=_str(value))
    items = value.get("items") or []
    return ComparisonSide(
        title=_str(value.get("title")),
        items=[_str(x) for x in items] if isinstance(items, list) else [_str(items)],
        color=_str(value.get("color")),
    )


def _block(el: _Element) -> Block | None:
    if el.tag == "ComparisonRow":
        return ComparisonRow(
            left=_side_from(el.attrs.get("left")), right=_side_from(el.attrs.get("right"))
        )
    if el.tag == "CodeBlock":
        fenced_lang, code = _code_of(el.inner)
        attr_code = el.attrs.get("code")
        if isinstance(attr_code, str) and not el.inner.strip():
            code = attr_code.strip("`")
        return CodeBlock(
            language=_str(el.attrs.get("language")) or fenced_lang or "text",
            code=code,
            filename=_str(el.attrs.get("filename")),
        )
    if el.tag == "GradientCard":
        details = [p for p in _elements(el.inner) if isinstance(p, _Element) and p.tag == "details"]
        if details:
            question = "".join(p for p in _elements(el.inner) if isinstance(p, str))
            answer = re.sub(r"(?s)<summary\b.*?</summary>", "", details[0].inner, count=1)
            title = _str(el.attrs.get("title"))
            return Check(
                question=_clean(question),
                answer=_clean(answer),
                predict_and_verify="predict" in title.lower() or not title,
            )
        return GradientCard(
            title=_str(el.attrs.get("title")),
            body=_clean(el.inner),
            color=_str(el.attrs.get("color")),
        )
    for kind, tag in ASIDE_TAGS.items():
        if el.tag == tag:
            return Aside(kind=kind, title=_str(el.attrs.get("title")), body=_clean(el.inner))  # type: ignore[arg-type]
    return None


def lesson_block(tag: str, attrs: dict[str, Any], inner: str) -> Block | None:
    """The typed block a ``<tag attrs>inner</tag>`` element is, as :func:`read_mdx` reads it
    (None when it is not one of the lesson's blocks)."""
    return _block(_Element(tag, attrs, inner))


def _str_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [
            _str(v) if not isinstance(v, dict) else _str(v.get("text") or v.get("title"))
            for v in value
        ]
    return [_str(value)] if value else []


class _Frame:
    def __init__(self) -> None:
        self.objective = ""
        self.constraints: list[str] = []
        self.summary: list[str] = []
        self.references: list[Reference] = []
        self.next_step = ""
        self.exercises: list[BuiltExercise] = []


def _read_body(text: str, frame: _Frame) -> tuple[str, list[Block]]:
    """A section body's prose and blocks; frame blocks go to ``frame``."""
    prose: list[str] = []
    blocks: list[Block] = []
    for piece in _elements(text):
        if isinstance(piece, str):
            if piece.strip():
                prose.append(piece.strip())
            continue
        if piece.tag == "ObjectiveBlock":
            frame.objective = _clean(piece.inner)
        elif piece.tag == "ConstraintBlock":
            frame.constraints = _str_list(piece.attrs.get("items"))
        elif piece.tag == "SummaryBlock":
            frame.summary = _str_list(piece.attrs.get("items"))
        elif piece.tag == "ReferencesBlock":
            refs = piece.attrs.get("references") or piece.attrs.get("items") or []
            frame.references = [
                Reference(
                    title=_str(r.get("title")), url=_str(r.get("url")), note=_str(r.get("note"))
                )
                if isinstance(r, dict)
                else Reference(title=_str(r))
                for r in (refs if isinstance(refs, list) else [])
            ]
        elif piece.tag == "NextStepBlock":
            frame.next_step = _clean(piece.inner)
        elif piece.tag == "NotebookBlock":
            found = piece.attrs.get("exercises")
            for e in found if isinstance(found, list) else []:
                if isinstance(e, dict):
                    frame.exercises.append(
                        BuiltExercise(
                            level=_str(e.get("level")),
                            title=_str(e.get("title")),
                            task=_str(e.get("task")),
                        )
                    )
        else:
            block = _block(piece)
            if block is not None:
                blocks.append(block)
            elif piece.inner.strip():
                prose.append(_clean(piece.inner))
    return _clean("\n\n".join(prose)), blocks


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # MDX has no indented code blocks: an indented line inside a component is still text
    return MarkdownIt("commonmark").disable("code")


def _atx_headings(text: str, level: int) -> list[int]:
    """Line numbers of the top-level ``#``-style headings of ``level`` (none inside code)."""
    return [
        t.map[0]
        for t in _markdown().parse(text)
        if t.type == "heading_open" and t.level == 0 and t.markup == "#" * level and t.map
    ]


def _split_sections(body: str) -> tuple[str, list[tuple[str, str]]]:
    """(text before the first ``## ``, [(heading, text)]), ignoring headings inside code."""
    lines = body.split("\n")
    starts = _atx_headings(body, 2)
    sections = [
        (re.sub(r"^\s*##\s*|\s+#+\s*$", "", lines[a]).strip(), "\n".join(lines[a + 1 : b]))
        for a, b in zip(starts, [*starts[1:], len(lines)][: len(starts)], strict=True)
    ]
    return "\n".join(lines[: starts[0] if starts else len(lines)]), sections


def read_mdx(text: str, *, slug: str = "") -> BuiltLesson:
    """A built lesson from MDX text; never raises on unexpected structure."""
    text = text.replace("\r\n", "\n")
    front: dict[str, Any] = {}
    m = _FRONTMATTER.match(text)
    if m:
        for line in m.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep:
                value = value.strip()
                parsed = js_literal(value) if value[:1] in "\"'[{" else value
                front[key.strip()] = parsed if parsed is not None else value
        text = text[m.end() :]
    head, raw_sections = _split_sections(text)
    frame = _Frame()
    title = _str(front.get("title"))
    h1 = _atx_headings(head, 1)
    if h1:
        head_lines = head.split("\n")
        if not title:
            title = _clean(re.sub(r"^\s*#\s*|\s+#+\s*$", "", head_lines[h1[0]]))
        head = "\n".join(head_lines[: h1[0]] + head_lines[h1[0] + 1 :])
    _read_body(head, frame)

    sections: list[BuiltSection] = []
    for heading, body in raw_sections:
        number: int | None = None
        outline_title = ""
        kept = []
        for line in body.split("\n"):
            cm = _OUTLINE_COMMENT.match(line.strip())
            if cm and not outline_title and number is None:
                number = None if cm.group(1) == "-" else int(cm.group(1))
                outline_title = cm.group(2)
                continue
            kept.append(line)
        prose, blocks = _read_body("\n".join(kept), frame)
        sections.append(
            BuiltSection(
                number=number,
                outline_title=outline_title,
                heading=_clean(heading),
                prose=prose,
                blocks=blocks,
            )
        )
    notebook = None
    return BuiltLesson(
        slug=_str(front.get("slug")) or slug,
        title=title,
        objective=frame.objective,
        constraints=frame.constraints,
        sections=sections,
        summary=frame.summary,
        references=frame.references,
        next_step=frame.next_step,
        notebook=notebook,
    )


def visible_text(lesson: BuiltLesson) -> list[tuple[str, str]]:
    """(where, text) pairs of everything a student reads, for style checks."""
    found: list[tuple[str, str]] = [("Header", lesson.title), ("Objective", lesson.objective)]
    found += [("Scope", c) for c in lesson.constraints]
    for section in lesson.sections:
        where = section.label
        found.append((where, section.heading))
        found.append((where, section.prose))
        for block in section.blocks:
            kind = type(block).__name__ if not isinstance(block, Aside) else block.tag
            if isinstance(block, ComparisonRow):
                for side in (block.left, block.right):
                    found += [(f"{where} {kind}", t) for t in (side.title, *side.items)]
            elif isinstance(block, GradientCard | Aside):
                found += [(f"{where} {kind}", block.title), (f"{where} {kind}", block.body)]
            elif isinstance(block, CodeBlock):
                found.append((f"{where} CodeBlock", block.code))
            elif isinstance(block, Check):
                found += [(f"{where} check", block.question), (f"{where} check", block.answer)]
    found += [("Summary", s) for s in lesson.summary]
    found += [("References", f"{r.title} {r.note}") for r in lesson.references]
    found.append(("Next Step", lesson.next_step))
    return [(w, t) for w, t in found if t]


__all__ = [
    "escape_mdx",
    "fenced_code",
    "js_literal",
    "lesson_block",
    "read_mdx",
    "render_mdx",
    "section_role",
    "unescape_mdx",
    "visible_text",
    "with_frame_sections",
]
