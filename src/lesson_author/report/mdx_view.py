"""A built lesson (MDX: markdown + JSX-style components) as safe, readable HTML.

This is a viewer, not an MDX compiler: it never runs the lesson's code and
never emits anything it did not build itself.  Every piece of lesson text goes
through :func:`html.escape`; tags in the output come only from this module, with
attributes chosen here (class names from a fixed table, link targets checked
against a scheme allow-list).  What it understands:

- markdown: ATX headings, paragraphs, emphasis, code spans, fenced code,
  lists (nested, task items), tables, block quotes, rules, links;
- the course's block components, shown as cards and asides:
  ``InsightBlock``, ``WarningBlock``, ``TipBlock``, ``ConstraintBlock``,
  ``ConceptBlock``, ``SummaryBlock``, ``NextStepBlock``, ``GradientCard``,
  ``ComparisonRow``, ``CodeBlock``, ``SectionHeader``, ``Row`` /
  ``Row.Content`` / ``Row.Aside``, ``InlineMath`` / ``BlockMath``;
- plain HTML the lesson writes in JSX (``details``/``summary``, ``div``,
  ``ul``/``li``, ``strong`` ...), re-emitted without attributes;
- anything else that looks like a component becomes a labelled card showing
  its text attributes (an interactive widget cannot run in a static report).

Images, SVG, iframes, scripts and styles are never loaded or copied: they
become a short placeholder, so the report stays self-contained and inert.
Anything malformed degrades to escaped text; the converter does not raise.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from html import escape, unescape
from typing import Any, ClassVar

__all__ = ["inline_to_html", "mdx_to_html"]

# ---------------------------------------------------------------- component table

#: callout components -> (css kind, label shown when the block has no title)
CALLOUTS: dict[str, tuple[str, str]] = {
    "InsightBlock": ("insight", "Insight"),
    "WarningBlock": ("warning", "Warning"),
    "TipBlock": ("tip", "Tip"),
    "ConstraintBlock": ("constraint", "Constraints"),
    "ConceptBlock": ("concept", "Concept"),
    "SummaryBlock": ("summary", "Summary"),
    "NextStepBlock": ("next", "Next step"),
    "ModuleCompleteBlock": ("next", "Module complete"),
    "TryThisBlock": ("tip", "Try this"),
    "DefinitionBlock": ("concept", "Definition"),
    "ObjectiveBlock": ("objective", "Objective"),
}

#: lowercase HTML re-emitted as itself (attributes dropped); value: content model
HTML_BLOCK = {
    "div": "block",
    "section": "block",
    "article": "block",
    "blockquote": "block",
    "ul": "block",
    "ol": "block",
    "li": "block",
    "figure": "block",
    "figcaption": "inline",
    "p": "inline",
    "h1": "inline",
    "h2": "inline",
    "h3": "inline",
    "h4": "inline",
    "h5": "inline",
    "h6": "inline",
    "table": "block",
    "thead": "block",
    "tbody": "block",
    "tr": "block",
    "th": "inline",
    "td": "inline",
    "details": "block",
    "summary": "inline",
    "dl": "block",
    "dt": "inline",
    "dd": "inline",
    "pre": "pre",
}
HTML_INLINE = {
    "strong",
    "em",
    "b",
    "i",
    "code",
    "sub",
    "sup",
    "span",
    "u",
    "mark",
    "small",
    "s",
    "del",
    "kbd",
    "a",
}
HTML_VOID = {"br", "hr", "wbr"}
#: never copied into the report: shown as a placeholder
INERT = {
    "svg": "diagram (SVG)",
    "img": "image",
    "iframe": "embedded page",
    "video": "video",
    "audio": "audio",
    "canvas": "canvas",
    "script": None,
    "style": None,
    "object": "embedded object",
    "embed": "embedded object",
    "picture": "image",
    "math": "formula",
}

SAFE_SCHEMES = ("http://", "https://", "mailto:")

# ---------------------------------------------------------------- public API


def mdx_to_html(text: str) -> str:
    """The lesson as an HTML fragment (safe to insert into a page as-is)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4)
    text = _strip_front_matter(text)
    text = _outside_fences(text, _strip_module_syntax)
    return _blocks(text)


def inline_to_html(text: str) -> str:
    """One line of markdown/JSX inline content as safe HTML (used for table cells, titles)."""
    return _Inline(text).render()


# ---------------------------------------------------------------- preprocessing

FENCE = re.compile(r"^[ ]*(`{3,}|~{3,})")


def _strip_front_matter(text: str) -> str:
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            nl = text.find("\n", end + 4)
            return text[nl + 1 :] if nl != -1 else ""
    return text


def _outside_fences(text: str, fn) -> str:
    """Apply ``fn`` to the text outside fenced code blocks."""
    out: list[str] = []
    chunk: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        m = FENCE.match(line)
        if fence is None and m:
            out.append(fn("\n".join(chunk)))
            chunk = []
            fence = m.group(1)[0] * len(m.group(1))
            out.append(line)
        elif fence is not None:
            out.append(line)
            if line.strip().startswith(fence) and line.strip().strip(fence[0]) == "":
                fence = None
        else:
            chunk.append(line)
    out.append(fn("\n".join(chunk)))
    return "\n".join(part for part in out)


def _strip_module_syntax(text: str) -> str:
    """Drop JSX/HTML comments and top-level ``import``/``export`` statements."""
    text = re.sub(r"\{\s*/\*.*?\*/\s*\}", "", text, flags=re.DOTALL)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    lines = text.split("\n")
    kept: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if re.match(r"(import|export)\s", line):
            depth = line.count("{") - line.count("}")
            while depth > 0 and i + 1 < len(lines):
                i += 1
                depth += lines[i].count("{") - lines[i].count("}")
            i += 1
            continue
        kept.append(line)
        i += 1
    return "\n".join(kept)


# ---------------------------------------------------------------- tags and JS values


@dataclass
class Tag:
    name: str
    attrs: dict[str, Any] = field(default_factory=dict)
    self_closing: bool = False
    start: int = 0
    end: int = 0  # index just after '>'


TAG_NAME = re.compile(r"[A-Za-z][\w.:-]*")
ATTR_NAME = re.compile(r"[A-Za-z_:][\w:.-]*")


def _parse_tag(s: str, pos: int) -> Tag | None:
    """The opening tag starting at ``s[pos] == '<'``, or None when it is not one."""
    m = TAG_NAME.match(s, pos + 1)
    if not m:
        return None
    tag = Tag(name=m.group(0), start=pos)
    i = m.end()
    n = len(s)
    while i < n:
        while i < n and s[i].isspace():
            i += 1
        if s.startswith("/>", i):
            tag.self_closing, tag.end = True, i + 2
            return tag
        if i < n and s[i] == ">":
            tag.end = i + 1
            return tag
        if i < n and s[i] == "{":  # spread: {...props}
            j = _balanced(s, i)
            if j is None:
                return None
            i = j
            continue
        am = ATTR_NAME.match(s, i)
        if not am:
            return None
        key = am.group(0)
        i = am.end()
        while i < n and s[i] in " \t":
            i += 1
        if i < n and s[i] == "=":
            i += 1
            while i < n and s[i].isspace():
                i += 1
            if i >= n:
                return None
            if s[i] in "\"'":
                j = s.find(s[i], i + 1)
                if j == -1:
                    return None
                tag.attrs[key] = unescape(s[i + 1 : j])
                i = j + 1
            elif s[i] == "{":
                j = _balanced(s, i)
                if j is None:
                    return None
                tag.attrs[key] = js_value(s[i + 1 : j - 1])
                i = j
            else:
                vm = re.match(r"[^\s>]+", s[i:])
                if not vm:
                    return None
                tag.attrs[key] = vm.group(0)
                i += vm.end()
        else:
            tag.attrs[key] = True
    return None


def _balanced(s: str, i: int) -> int | None:
    """Index after the ``}`` matching ``s[i] == '{'``; string literals are skipped."""
    depth = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c in "\"'`":
            i = _skip_string(s, i)
            if i is None:
                return None
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _skip_string(s: str, i: int) -> int | None:
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


class _JS:
    """A tolerant reader for the literal values lessons pass as props."""

    ESCAPES: ClassVar[dict[str, str]] = {
        "n": "\n",
        "t": "\t",
        "r": "",
        "\\": "\\",
        "'": "'",
        '"': '"',
        "`": "`",
        "$": "$",
    }

    def __init__(self, src: str):
        self.s = src
        self.i = 0

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
        m = re.compile(r"-?\d+(\.\d+)?|true|false|null|undefined").match(self.s, self.i)
        if m:
            self.i = m.end()
            word = m.group(0)
            return {"true": True, "false": False, "null": None, "undefined": None}.get(
                word,
                float(word) if "." in word else int(word) if word.lstrip("-").isdigit() else word,
            )
        raise ValueError(f"not a literal at {self.i}")

    def string(self) -> str:
        quote = self.s[self.i]
        self.i += 1
        out: list[str] = []
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == "\\" and self.i + 1 < len(self.s):
                nxt = self.s[self.i + 1]
                out.append(self.ESCAPES.get(nxt, "\\" + nxt))
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
                m = re.compile(r"[A-Za-z_$][\w$]*").match(self.s, self.i)
                if not m:
                    raise ValueError("bad key")
                key = m.group(0)
                self.i = m.end()
            self.ws()
            if self.i < len(self.s) and self.s[self.i] == ":":
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


def js_value(src: str) -> Any:
    """The value of a ``{...}`` prop: a literal when it is one, else its string literals."""
    reader = _JS(src.strip())
    try:
        value = reader.value()
        reader.ws()
        if reader.i == len(reader.s):
            return value
    except ValueError:
        pass
    strings = [
        m.group(0)
        for m in re.finditer(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|`(?:\\.|[^`\\])*`", src)
    ]
    found = []
    for lit in strings:
        try:
            found.append(_JS(lit).string())
        except ValueError:
            continue
    if found:
        return found if len(found) > 1 else found[0]
    return _Expr(src.strip())


class _Expr(str):
    """A prop expression that is not a literal (``{someVariable}``); shown as code."""


def _find_close(s: str, name: str, start: int) -> tuple[int, int] | None:
    """(start of ``</name>``, index after it) matching an open ``<name>`` before ``start``."""
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
        else:
            tag = _parse_tag(s, m.start())
            if tag is None:
                i = m.end()
                continue
            if not tag.self_closing:
                depth += 1
            i = tag.end


# ---------------------------------------------------------------- block level

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
LIST_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+(.*)$")
TABLE_SEP = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
BLOCK_TAG_START = re.compile(r"^\s*<([A-Za-z][\w.:-]*)")


def _blocks(text: str) -> str:
    """Markdown/JSX block content -> HTML."""
    out: list[str] = []
    para: list[str] = []
    lines = text.split("\n")
    i = 0

    def flush() -> None:
        if para:
            joined = " ".join(p.strip() for p in para).strip()
            if joined:
                out.append(f"<p>{inline_to_html(joined)}</p>")
            para.clear()

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            flush()
            i += 1
            continue
        fence = FENCE.match(line)
        if fence:
            flush()
            i = _fenced(lines, i, out)
            continue
        tag_m = BLOCK_TAG_START.match(line)
        if tag_m and _is_block_tag(tag_m.group(1)):
            consumed = _block_tag(lines, i, out, flush)
            if consumed is not None:
                i = consumed
                continue
        heading = HEADING.match(stripped)
        if heading:
            flush()
            level = min(6, len(heading.group(1)) + 2)
            out.append(f'<h{level} class="lesson-h">{inline_to_html(heading.group(2))}</h{level}>')
            i += 1
            continue
        if RULE.match(stripped) and not para:
            out.append("<hr>")
            i += 1
            continue
        if stripped.startswith("|") and i + 1 < len(lines) and TABLE_SEP.match(lines[i + 1]):
            flush()
            i = _table(lines, i, out)
            continue
        if stripped.startswith(">"):
            flush()
            quoted = []
            while i < len(lines) and lines[i].strip().startswith(">"):
                quoted.append(re.sub(r"^\s*> ?", "", lines[i]))
                i += 1
            out.append(f"<blockquote>{_blocks(chr(10).join(quoted))}</blockquote>")
            continue
        if LIST_ITEM.match(line):
            flush()
            i = _list(lines, i, out)
            continue
        if re.fullmatch(r"\{\s*(['\"`])\s*\1\s*\}", stripped):  # {" "} spacer lines
            i += 1
            continue
        para.append(line)
        i += 1
    flush()
    return "\n".join(out)


def _is_block_tag(name: str) -> bool:
    return (
        name[0].isupper()
        and name not in INLINE_COMPONENTS
        or name.lower() in HTML_BLOCK
        or name.lower() in INERT
    )


INLINE_COMPONENTS = {"InlineMath", "Term", "Kbd", "Highlight"}


def _fenced(lines: list[str], i: int, out: list[str]) -> int:
    m = FENCE.match(lines[i])
    assert m
    indent = len(lines[i]) - len(lines[i].lstrip(" "))
    marker = m.group(1)
    info = lines[i].strip()[len(marker) :].strip()
    body: list[str] = []
    i += 1
    while i < len(lines):
        s = lines[i].strip()
        if s.startswith(marker[0] * len(marker)) and s.strip(marker[0]) == "":
            i += 1
            break
        body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i].lstrip())
        i += 1
    lang = info.split()[0] if info else ""
    out.append(_code_html("\n".join(body), lang, ""))
    return i


def _code_html(code: str, language: str, caption: str) -> str:
    code = textwrap.dedent(code).strip("\n")
    head = ""
    label = " · ".join(x for x in (caption, language) if x)
    if label:
        head = f'<div class="code-caption">{escape(label)}</div>'
    return f'<figure class="code">{head}<pre><code>{escape(code)}</code></pre></figure>'


def _table(lines: list[str], i: int, out: list[str]) -> int:
    header = _cells(lines[i])
    aligns = [
        "right"
        if c.strip().endswith(":") and not c.strip().startswith(":")
        else "center"
        if c.strip().startswith(":") and c.strip().endswith(":")
        else ""
        for c in _cells(lines[i + 1])
    ]
    i += 2
    rows: list[list[str]] = []
    while i < len(lines) and lines[i].strip().startswith("|"):
        rows.append(_cells(lines[i]))
        i += 1

    def td(tag: str, cell: str, col: int) -> str:
        align = aligns[col] if col < len(aligns) and aligns[col] else ""
        style = f' class="align-{align}"' if align else ""
        return f"<{tag}{style}>{inline_to_html(cell)}</{tag}>"

    html = ['<div class="table-wrap"><table class="md-table"><thead><tr>']
    html += [td("th", c, n) for n, c in enumerate(header)]
    html.append("</tr></thead><tbody>")
    for row in rows:
        html.append("<tr>" + "".join(td("td", c, n) for n, c in enumerate(row)) + "</tr>")
    html.append("</tbody></table></div>")
    out.append("".join(html))
    return i


def _cells(line: str) -> list[str]:
    s = line.strip()
    s = s.removeprefix("|")
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    cells, cur, in_code = [], [], False
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s) and s[i + 1] == "|":
            cur.append("|")
            i += 2
            continue
        if c == "`":
            in_code = not in_code
        if c == "|" and not in_code:
            cells.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    cells.append("".join(cur).strip())
    return cells


def _list(lines: list[str], i: int, out: list[str]) -> int:
    """A list block (any nesting) starting at ``lines[i]``."""
    items: list[tuple[int, bool, list[str]]] = []  # (indent, ordered, text lines)
    while i < len(lines):
        line = lines[i]
        m = LIST_ITEM.match(line)
        if m and not FENCE.match(line):
            items.append((len(m.group(1)), m.group(2)[0].isdigit(), [m.group(3)]))
            i += 1
            continue
        if not line.strip():
            # a blank line ends the list unless an indented item or continuation follows
            j = i + 1
            if j < len(lines) and lines[j].startswith(" ") and lines[j].strip() and items:
                i = j
                continue
            break
        if items and (line.startswith(" ") or not _starts_block(line)):
            items[-1][2].append(line.strip())
            i += 1
            continue
        break
    out.append(_list_html(items, 0, len(items))[0])
    return i


def _starts_block(line: str) -> bool:
    s = line.strip()
    return bool(
        HEADING.match(s)
        or FENCE.match(line)
        or s.startswith(("|", ">"))
        or (BLOCK_TAG_START.match(line) and _is_block_tag(BLOCK_TAG_START.match(line).group(1)))
    )


def _list_html(items: list[tuple[int, bool, list[str]]], start: int, stop: int) -> tuple[str, int]:
    base = items[start][0]
    ordered = items[start][1]
    tag = "ol" if ordered else "ul"
    parts = [f"<{tag}>"]
    k = start
    while k < stop and items[k][0] >= base:
        _, _, text_lines = items[k]  # an item deeper than base without a parent is a sibling
        text = " ".join(text_lines)
        task = re.match(r"\[([ xX])\]\s+(.*)", text)
        if task:
            box = "☑" if task.group(1).lower() == "x" else "☐"
            body = f'<span class="task">{box}</span> {inline_to_html(task.group(2))}'
        else:
            body = inline_to_html(text)
        k += 1
        sub = ""
        if k < stop and items[k][0] > base:
            sub, k = _list_html(items, k, stop)
        parts.append(f"<li>{body}{sub}</li>")
    parts.append(f"</{tag}>")
    return "".join(parts), k


# ---------------------------------------------------------------- block tags / components


def _block_tag(lines: list[str], i: int, out: list[str], flush) -> int | None:
    """Render the tag starting on ``lines[i]``; the next line index, or None when not a tag."""
    rest = "\n".join(lines[i:])
    lead = len(rest) - len(rest.lstrip())
    tag = _parse_tag(rest, lead)
    if tag is None:
        return None
    inner: str | None = None
    after = tag.end
    if not tag.self_closing and tag.name.lower() not in HTML_VOID:
        found = _find_close(rest, tag.name, tag.end)
        if found is not None:
            inner = rest[tag.end : found[0]]
            after = found[1]
    flush()
    out.append(render_component(tag.name, tag.attrs, inner))
    # whatever follows the tag on its last line continues as ordinary content
    consumed_text = rest[:after]
    line_count = consumed_text.count("\n")
    tail = rest[after:].split("\n", 1)[0]
    next_i = i + line_count + 1
    if tail.strip():
        lines[i + line_count] = tail
        return i + line_count
    return next_i


def _inner_text(inner: str) -> str:
    """Component children as block source: first line kept, the rest dedented."""
    if "\n" not in inner:
        return inner.strip()
    first, rest = inner.split("\n", 1)
    return (first.strip() + "\n" + textwrap.dedent(rest)).strip("\n")


def _label(attrs: dict[str, Any], *keys: str) -> str:
    for key in keys:
        value = attrs.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _slug_class(value: Any) -> str:
    text = value if isinstance(value, str) else ""
    return re.sub(r"[^a-z0-9-]", "", text.lower())[:20]


def render_component(name: str, attrs: dict[str, Any], inner: str | None) -> str:
    """One component or HTML element as safe HTML."""
    lower = name.lower()
    body = _blocks(_inner_text(inner)) if inner is not None else ""
    if name in CALLOUTS:
        kind, default = CALLOUTS[name]
        title = _label(attrs, "title", "heading", "label")
        label = f'<div class="card-kind">{escape(default)}</div>'
        head = f'<div class="card-title">{escape(title)}</div>' if title else ""
        extra = _attr_content(attrs, skip={"title", "heading", "label", "color", "variant"})
        return f'<aside class="card callout callout-{kind}">{label}{head}{extra}{body}</aside>'
    if name == "GradientCard":
        title = _label(attrs, "title", "heading")
        color = _slug_class(attrs.get("color"))
        head = f'<div class="card-title">{escape(title)}</div>' if title else ""
        extra = _attr_content(attrs, skip={"title", "heading", "color", "variant"})
        return f'<div class="card gradient gradient-{color or "default"}">{head}{extra}{body}</div>'
    if name == "ComparisonRow":
        return _comparison(attrs, body)
    if name == "CodeBlock":
        code = attrs.get("code")
        if not isinstance(code, str):
            code = _code_children(inner or "")
        caption = _label(attrs, "filename", "title", "caption")
        return _code_html(code, _label(attrs, "language", "lang"), caption)
    if name in ("BlockMath", "Math"):
        return f'<div class="math">{escape(_label(attrs, "math", "tex", "children") or _code_children(inner or ""))}</div>'
    if name == "NotebookBlock":
        return _notebook(attrs, body)
    if name == "ReferencesBlock":
        return _references(attrs, body)
    if name == "SectionHeader":
        title = _label(attrs, "title")
        subtitle = _label(attrs, "subtitle")
        sub = f'<p class="section-subtitle">{escape(subtitle)}</p>' if subtitle else ""
        return f'<div class="section-header"><h3>{escape(title)}</h3>{sub}</div>{body}'
    if name == "Row":
        return f'<div class="row">{body}</div>'
    if name == "Row.Content":
        return f'<div class="row-content">{body}</div>'
    if name == "Row.Aside":
        return f'<div class="row-aside">{body}</div>'
    if lower in INERT:
        what = INERT[lower]
        if what is None:
            return ""
        alt = _label(attrs, "alt", "title", "aria-label")
        shown = f"{what}: {alt}" if alt else what
        return f'<div class="placeholder">[{escape(shown)} not shown in this report]</div>'
    if lower in HTML_BLOCK and not name[0].isupper():
        model = HTML_BLOCK[lower]
        if model == "pre":
            return f'<figure class="code"><pre><code>{escape(_code_children(inner or ""))}</code></pre></figure>'
        if model == "inline":
            content = inline_to_html(" ".join((inner or "").split()))
        else:
            content = body
        if lower == "details":
            return f'<details class="lesson-details">{content}</details>'
        return f"<{lower}>{content}</{lower}>"
    if lower in HTML_VOID:
        return "<hr>" if lower == "hr" else ""
    # an unknown component (usually an interactive widget)
    extra = _attr_content(attrs, skip=set())
    return (
        f'<div class="card widget"><div class="card-kind">{escape(name)}</div>'
        f'<p class="widget-note">Interactive component; it runs only in the course site.</p>'
        f"{extra}{body}</div>"
    )


def _notebook(attrs: dict[str, Any], body: str) -> str:
    notebook = _label(attrs, "notebook", "href", "path")
    head = f'<div class="card-title"><code>{escape(notebook)}</code></div>' if notebook else ""
    items = []
    exercises = attrs.get("exercises")
    for ex in exercises if isinstance(exercises, list) else []:
        if isinstance(ex, dict):
            level = ex.get("level") if isinstance(ex.get("level"), str) else ""
            title = ex.get("title") if isinstance(ex.get("title"), str) else ""
            task = ex.get("task") if isinstance(ex.get("task"), str) else ""
            tag = f'<span class="level">{escape(level)}</span> ' if level else ""
            items.append(
                f"<li>{tag}<strong>{escape(title)}</strong>{': ' + inline_to_html(task) if task else ''}</li>"
            )
        elif isinstance(ex, str):
            items.append(f"<li>{inline_to_html(ex)}</li>")
    listing = f'<ol class="exercises">{"".join(items)}</ol>' if items else ""
    return (
        f'<aside class="card callout callout-notebook"><div class="card-kind">Practice notebook</div>'
        f"{head}{listing}{body}</aside>"
    )


def _references(attrs: dict[str, Any], body: str) -> str:
    refs = attrs.get("references", attrs.get("items"))
    items = []
    for ref in refs if isinstance(refs, list) else []:
        if isinstance(ref, dict):
            title = escape(ref.get("title") if isinstance(ref.get("title"), str) else "")
            url = ref.get("url") if isinstance(ref.get("url"), str) else ""
            note = ref.get("note") if isinstance(ref.get("note"), str) else ""
            shown = _link(url, title) if url else title
            items.append(f"<li>{shown}{' · ' + inline_to_html(note) if note else ''}</li>")
        elif isinstance(ref, str):
            items.append(f"<li>{inline_to_html(ref)}</li>")
    listing = f"<ul>{''.join(items)}</ul>" if items else ""
    return f'<aside class="card callout callout-references"><div class="card-kind">References</div>{listing}{body}</aside>'


def _code_children(inner: str) -> str:
    text = inner.strip()
    if text.startswith("{") and text.endswith("}"):
        value = js_value(text[1:-1])
        if isinstance(value, str) and not isinstance(value, _Expr):
            return value
    m = re.fullmatch(r"\s*(`{3,})[^\n]*\n(.*)\n\s*\1\s*", inner, flags=re.DOTALL)
    if m:
        return m.group(2)
    return textwrap.dedent(inner.strip("\n"))


def _comparison(attrs: dict[str, Any], body: str) -> str:
    cols = []
    for key in ("left", "right", "middle", "third"):
        side = attrs.get(key)
        if side is None:
            continue
        if isinstance(side, dict):
            title = side.get("title") if isinstance(side.get("title"), str) else ""
            color = _slug_class(side.get("color"))
            items = side.get("items", [])
            rest = {k: v for k, v in side.items() if k not in ("title", "color", "items")}
        else:
            title, color, items, rest = "", "", side, {}
        head = f"<h4>{escape(title)}</h4>" if title else ""
        cols.append(
            f'<div class="compare-col compare-{color or "default"}">{head}'
            f"{_value_html(items)}{_value_html(rest) if rest else ''}</div>"
        )
    return f'<div class="compare">{"".join(cols)}</div>{body}'


def _attr_content(attrs: dict[str, Any], skip: set[str]) -> str:
    """Text-bearing props (``items``, ``description`` ...) shown under a card's title."""
    shown = []
    for key, value in attrs.items():
        if key in skip or key in ("className", "class", "id", "key", "style") or value is True:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            continue
        html = _value_html(value)
        if html:
            shown.append(f'<div class="prop prop-{_slug_class(key)}">{html}</div>')
    return "".join(shown)


def _value_html(value: Any) -> str:
    if value is None or value is True or value is False:
        return ""
    if isinstance(value, _Expr):
        return f"<code>{escape(value)}</code>"
    if isinstance(value, str):
        return inline_to_html(value)
    if isinstance(value, (int, float)):
        return escape(str(value))
    if isinstance(value, list):
        items = [_value_html(v) for v in value]
        return "<ul>" + "".join(f"<li>{x}</li>" for x in items if x) + "</ul>"
    if isinstance(value, dict):
        head_key = next(
            (k for k in ("title", "headline", "label", "name") if isinstance(value.get(k), str)),
            None,
        )
        parts = []
        if head_key:
            parts.append(f"<strong>{escape(value[head_key])}</strong>")
        for k, v in value.items():
            if k == head_key or k in ("color", "icon", "className"):
                continue
            inner = _value_html(v)
            if inner:
                parts.append(f" {inner}")
        return "".join(parts)
    return escape(str(value))


# ---------------------------------------------------------------- inline level


LINK = re.compile(
    r"\[((?:[^\[\]]|\[[^\]]*\])+)\]"  # [label], one level of nested brackets
    r"\(\s*<?((?:[^()\s<>]|\([^()\s]*\))*)>?(?:\s+\"[^\"]*\")?\s*\)"  # (href "title")
)


class _Inline:
    """A small left-to-right scanner for inline markdown and JSX."""

    def __init__(self, text: str):
        self.s = text
        self.out: list[str] = []
        self.buf: list[str] = []

    def render(self) -> str:
        s = self.s
        i = 0
        n = len(s)
        while i < n:
            c = s[i]
            if c == "\\" and i + 1 < n and s[i + 1] in "\\`*_{}[]()#+-.!|<>~":
                self.buf.append(s[i + 1])
                i += 2
                continue
            if c == "`":
                m = re.compile(r"(`+)(.+?)\1").match(s, i)
                if m:
                    self.emit(
                        f"<code>{escape(m.group(2).strip() if m.group(2).strip() else m.group(2))}</code>"
                    )
                    i = m.end()
                    continue
            if c == "!" and s.startswith("![", i):
                m = re.compile(r"!\[([^\]]*)\]\(([^)]*)\)").match(s, i)
                if m:
                    alt = m.group(1).strip()
                    label = f"image: {alt}" if alt else "image"
                    self.emit(f'<span class="placeholder">[{escape(label)}]</span>')
                    i = m.end()
                    continue
            if c == "[":
                m = LINK.match(s, i)
                if m:
                    self.emit(_link(m.group(2), _Inline(m.group(1)).render()))
                    i = m.end()
                    continue
            if c == "{":
                j = _balanced(s, i)
                if j is not None:
                    value = js_value(s[i + 1 : j - 1])
                    if isinstance(value, _Expr):
                        self.emit(f"<code>{escape('{' + value + '}')}</code>")
                    elif isinstance(value, str):
                        self.buf.append(value)
                    i = j
                    continue
            if c == "<":
                j = self.tag(i)
                if j is not None:
                    i = j
                    continue
            if c in "*_":
                j = self.emphasis(i)
                if j is not None:
                    i = j
                    continue
            if c == "&":
                m = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);").match(s, i)
                if m:
                    self.buf.append(unescape(m.group(0)))
                    i = m.end()
                    continue
            self.buf.append(c)
            i += 1
        self.flush()
        return "".join(self.out)

    def flush(self) -> None:
        if self.buf:
            self.out.append(escape("".join(self.buf), quote=False))
            self.buf = []

    def emit(self, html: str) -> None:
        self.flush()
        self.out.append(html)

    def emphasis(self, i: int) -> int | None:
        s = self.s
        for marker, tag in (("**", "strong"), ("__", "strong"), ("*", "em"), ("_", "em")):
            if not s.startswith(marker, i):
                continue
            if marker[0] == "_" and i > 0 and (s[i - 1].isalnum()):
                return None
            start = i + len(marker)
            if start >= len(s) or s[start].isspace():
                continue
            end = start
            while True:
                end = s.find(marker, end + 1)
                if end == -1:
                    break
                if s[end - 1].isspace():
                    continue
                if marker == "*" and s.startswith("**", end) and not s.startswith("***", end):
                    # "*a **b** c*": skip the inner strong marker
                    end += 1
                    continue
                after = end + len(marker)
                if marker[0] == "_" and after < len(s) and s[after].isalnum():
                    continue
                self.emit(f"<{tag}>{_Inline(s[start:end]).render()}</{tag}>")
                return after
        return None

    def tag(self, i: int) -> int | None:
        s = self.s
        m = re.compile(r"</?([A-Za-z][\w.]*)").match(s, i)
        if not m:
            return None
        name = m.group(1)
        lower = name.lower()
        if s.startswith("</", i):
            close = s.find(">", i)
            if close != -1 and (lower in HTML_INLINE or lower in HTML_BLOCK):
                return close + 1  # a stray closing tag: drop it
            return None
        tag = _parse_tag(s, i)
        if tag is None:
            return None
        if lower in HTML_VOID:
            self.emit("<br>" if lower == "br" else "")
            return tag.end
        if name in INLINE_COMPONENTS or name in ("InlineMath",):
            text = _label(tag.attrs, "math", "tex", "text", "children")
            end = tag.end
            if not tag.self_closing:
                found = _find_close(s, name, tag.end)
                if found:
                    text = text or s[tag.end : found[0]]
                    end = found[1]
            self.emit(
                f'<code class="math">{escape(text)}</code>'
                if "Math" in name
                else f"<span>{_Inline(text).render()}</span>"
            )
            return end
        if lower in HTML_INLINE and not name[0].isupper():
            if tag.self_closing:
                return tag.end
            found = _find_close(s, name, tag.end)
            if not found:
                return tag.end  # an unclosed inline tag: drop the tag, keep the text
            inner = _Inline(s[tag.end : found[0]]).render()
            if lower == "a":
                self.emit(_link(str(tag.attrs.get("href", "")), inner))
            elif lower in ("span", "u", "small"):
                self.emit(inner)
            elif lower == "b":
                self.emit(f"<strong>{inner}</strong>")
            elif lower == "i":
                self.emit(f"<em>{inner}</em>")
            else:
                self.emit(f"<{lower}>{inner}</{lower}>")
            return found[1]
        if name[0].isupper() or lower in INERT or lower in HTML_BLOCK:
            # a block-ish element inside running text: render it inline as best we can
            end = tag.end
            inner = ""
            if not tag.self_closing:
                found = _find_close(s, name, tag.end)
                if found:
                    inner, end = s[tag.end : found[0]], found[1]
                elif lower not in INERT:
                    return None  # "<Not>" in running text without a closing tag is just text
            if lower in INERT:
                what = INERT[lower]
                if what:
                    self.emit(f'<span class="placeholder">[{escape(what)}]</span>')
                return end
            text = _Inline(" ".join(inner.split())).render() if inner else ""
            props = _value_html(_label(tag.attrs, "title", "text", "label")) if not inner else ""
            self.emit(
                f'<span class="inline-{"comp" if name[0].isupper() else lower}">{props}{text}</span>'
            )
            return end
        return None


def _link(href: str, label_html: str) -> str:
    href = href.strip()
    safe = (
        href.lower().startswith(SAFE_SCHEMES)
        or href.startswith("#")
        or (href and ":" not in href.split("/")[0] and not href.startswith("//"))
    )
    if not safe or not href:
        return label_html
    return f'<a href="{escape(href, quote=True)}" rel="noopener noreferrer">{label_html}</a>'
