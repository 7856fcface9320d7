"""A built lesson (MDX: markdown + JSX-style components) as safe, readable HTML.

This is a viewer, not an MDX compiler: it never runs the lesson's code and never emits
anything it did not build itself.

- Markdown is parsed by markdown-it-py (CommonMark + tables + strikethrough) with raw HTML
  off, so text from the lesson is always escaped; MDX has no indented code, so neither has
  this view.  Two rules are added for MDX: a block rule for a component or HTML element that
  starts a line (``<InsightBlock title="...">`` ... ``</InsightBlock>``, read with the one JSX
  scanner, :mod:`lesson_author.text.jsx`) and inline rules for tags and ``{expressions}`` in
  running text; ``import``/``export`` lines and ``{/* comments */}`` are dropped.
- What a block *is* comes from the typed lesson (:func:`lesson_author.lesson.mdx.lesson_block`,
  the reading ``read_mdx`` does): asides, cards, checks, code blocks.  A component's children
  are rendered from its source, so nested markup in a hand-edited lesson still shows.
- Every piece of HTML comes from the jinja macros in ``templates/mdx_blocks.html.j2``
  (autoescaped) or from markdown-it-py's renderer; tags and class names come from this
  module's fixed tables, link targets pass a scheme allow-list.

Images, SVG, iframes, scripts and styles are never loaded or copied: they become a short
placeholder, so the report stays self-contained and inert.  An unknown component (usually an
interactive widget) becomes a labelled card showing its text props.  Anything malformed
degrades to escaped text; the converter does not raise.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markupsafe import Markup

from lesson_author.lesson.lesson_doc import Aside, Check, CodeBlock
from lesson_author.lesson.mdx import fenced_code, lesson_block
from lesson_author.text.jsx import JSExpr, Tag, balanced, find_close, parse_tag, prop_value

__all__ = ["inline_to_html", "mdx_to_html", "render_component"]

# ---------------------------------------------------------------- component tables

#: callout components -> (css kind, label shown above the block)
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
_TITLE_KEYS = ("title", "heading", "label")
_LAYOUT = {"Row": "row", "Row.Content": "row-content", "Row.Aside": "row-aside"}

#: lowercase HTML re-emitted as itself (attributes dropped) -> its content: blocks or one line
HTML_BLOCK = {
    **dict.fromkeys(
        [
            "div",
            "section",
            "article",
            "blockquote",
            "ul",
            "ol",
            "li",
            "figure",
            "table",
            "thead",
            "tbody",
            "tr",
            "details",
            "dl",
        ],
        "block",
    ),
    **dict.fromkeys(
        ["figcaption", "p", "h1", "h2", "h3", "h4", "h5", "h6", "th", "td", "summary", "dt", "dd"],
        "inline",
    ),
    "pre": "pre",
}
#: lowercase inline HTML kept (``b``/``i`` as strong/em) or unwrapped (``span``, ``u``, ``small``)
HTML_INLINE = {"strong": "strong", "em": "em", "b": "strong", "i": "em", "code": "code"}
HTML_INLINE |= {t: t for t in ("sub", "sup", "mark", "s", "del", "kbd")}
HTML_INLINE |= {"span": "", "u": "", "small": "", "a": "a"}
HTML_VOID = {"br", "hr", "wbr"}
INLINE_COMPONENTS = {"InlineMath", "Term", "Kbd", "Highlight"}
#: never copied into the report, shown as a placeholder (None: dropped without a trace)
INERT: dict[str, str | None] = {
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
    return _blocks(_strip_front_matter(text))


def inline_to_html(text: str) -> str:
    """One line of markdown/JSX inline content as safe HTML (used for table cells, titles)."""
    return _markdown().renderInline(text)


def render_component(name: str, attrs: dict[str, Any], inner: str | None) -> str:
    """One component or HTML element (``inner``: its children's source, None when it has
    none) as safe HTML."""
    lower = name.lower()
    body = _blocks(_inner_text(inner)) if inner else Markup()
    title = _label(attrs, *_TITLE_KEYS)
    typed = lesson_block(name, attrs, inner or "") if name in _TYPED else None
    if name in CALLOUTS:
        kind, label = CALLOUTS[name]
        if isinstance(typed, Aside):
            kind, label, title = typed.kind, CALLOUTS[typed.tag][1], typed.title or title
        props = _props(attrs, skip={*_TITLE_KEYS, "color", "variant"})
        return _T().callout(kind, label, title, props, body)
    if name == "GradientCard":
        # a card holding a <details> reveal is a check, as read_mdx counts it
        label = "Check" if isinstance(typed, Check) else ""
        props = _props(attrs, skip={"title", "heading", "color", "variant"})
        return _T().card(attrs.get("color"), label, _label(attrs, "title", "heading"), props, body)
    if name == "ComparisonRow":
        return _T().comparison(_columns(attrs), body)
    if isinstance(typed, CodeBlock):
        fenced = typed.language if typed.language != "text" else ""  # the model's default
        language = _label(attrs, "language", "lang") or fenced
        caption = " · ".join(
            x for x in (_label(attrs, "filename", "title", "caption"), language) if x
        )
        return _T().code(_code_text(typed.code), caption)
    if name in ("BlockMath", "Math"):
        return _T().math(_label(attrs, "math", "tex", "children") or _children_code(inner or ""))
    if name == "NotebookBlock":
        exercises = attrs.get("exercises")
        exercises = (
            [e for e in exercises if isinstance(e, dict | str)]
            if isinstance(exercises, list)
            else []
        )
        return _T().notebook(_label(attrs, "notebook", "href", "path"), exercises, body)
    if name == "ReferencesBlock":
        refs = attrs.get("references", attrs.get("items"))
        refs = [r for r in refs if isinstance(r, dict | str)] if isinstance(refs, list) else []
        return _T().references(refs, body)
    if name == "SectionHeader":
        return _T().section_header(title, _label(attrs, "subtitle"), body)
    if name in _LAYOUT:
        return _T().box(_LAYOUT[name], body)
    if lower in INERT:
        what = INERT[lower]
        alt = _label(attrs, "alt", "title", "aria-label")
        return _T().placeholder(f"{what}: {alt}" if alt else what) if what else ""
    if lower in HTML_BLOCK and not name[0].isupper():
        content = HTML_BLOCK[lower]
        if content == "pre":
            return _T().code(_children_code(inner or ""), "")
        if content == "inline":
            body = Markup(inline_to_html(" ".join((inner or "").split())))
        return _T().element(lower, body)
    if lower in HTML_VOID:
        return Markup("<hr>") if lower == "hr" else ""
    return _T().widget(name, _props(attrs, skip=set()), body)


# ---------------------------------------------------------------- helpers

_TYPED = {"GradientCard", "CodeBlock", "InsightBlock", "WarningBlock", "TipBlock", "ConceptBlock"}


def _strip_front_matter(text: str) -> str:
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            nl = text.find("\n", end + 4)
            return text[nl + 1 :] if nl != -1 else ""
    return text


_TABLE_CODE = re.compile(r"(`+)(.+?)\1")


def _blocks(text: str) -> Markup:
    """Markdown/JSX block content -> HTML.  A ``|`` inside a code span of a table row stays in
    its cell (GFM would split the cell there; lessons write ``a|b`` in code as they mean it)."""
    lines = [
        _TABLE_CODE.sub(lambda m: m.group(0).replace("|", "\\|"), line)
        if line.lstrip().startswith("|")
        else line
        for line in text.split("\n")
    ]
    return Markup(_markdown().render("\n".join(lines)).strip("\n"))


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


def _code_text(code: str) -> str:
    return textwrap.dedent(code).strip("\n")


def _children_code(inner: str) -> str:
    """Code given as a component's children: ``{`...`}``, a fence, or plain text."""
    text = inner.strip()
    if text.startswith("{") and text.endswith("}"):
        value = prop_value(text[1:-1])
        if isinstance(value, str) and not isinstance(value, JSExpr):
            return _code_text(value)
    fenced = fenced_code(inner)
    return _code_text(fenced[1] if fenced else inner)


def _props(attrs: dict[str, Any], skip: set[str]) -> Markup:
    """The text-bearing props of a card (``items``, ``description`` ...), shown under its title."""
    shown = [
        (key, value)
        for key, value in attrs.items()
        if key not in skip
        and key not in ("className", "class", "id", "key", "style")
        and value is not True
        and not (isinstance(value, int | float) and not isinstance(value, bool))
    ]
    return _T().props(shown)


def _columns(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    columns = []
    for key in ("left", "right", "middle", "third"):
        side = attrs.get(key)
        if side is None:
            continue
        if isinstance(side, dict):
            rest = {k: v for k, v in side.items() if k not in ("title", "color", "items")}
            title = side.get("title") if isinstance(side.get("title"), str) else ""
            columns.append(
                {
                    "title": title,
                    "color": side.get("color"),
                    "items": side.get("items", []),
                    "rest": rest,
                }
            )
        else:
            columns.append({"title": "", "color": "", "items": side, "rest": {}})
    return columns


def safe_href(href: Any) -> str:
    """``href`` when it is a web, mail, anchor or relative link; "" otherwise."""
    href = href.strip() if isinstance(href, str) else ""
    ok = (
        href.lower().startswith(SAFE_SCHEMES)
        or href.startswith("#")
        or (":" not in href.split("/")[0] and not href.startswith("//"))
    )
    return href if ok else ""


def _head_key(value: dict[str, Any]) -> str | None:
    return next(
        (k for k in ("title", "headline", "label", "name") if isinstance(value.get(k), str)), None
    )


@lru_cache(maxsize=1)
def _T() -> Any:
    env = Environment(
        loader=PackageLoader("lesson_author.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        inline=lambda text: Markup(inline_to_html(text)),
        slug=_slug_class,
        safe_href=safe_href,
        head_key=_head_key,
    )
    env.tests["expr"] = lambda value: isinstance(value, JSExpr)
    return env.get_template("mdx_blocks.html.j2").module


# ---------------------------------------------------------------- markdown-it: MDX rules

_TAG_START = re.compile(r"<(/?)([A-Za-z][\w.:-]*)")


def _is_block_tag(name: str) -> bool:
    lower = name.lower()
    return (
        (name[0].isupper() and name not in INLINE_COMPONENTS)
        or lower in HTML_BLOCK
        or lower in INERT
    )


def _jsx_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """A component or HTML element starting a line, with everything up to its closing tag."""
    pos = state.bMarks[start] + state.tShift[start]
    m = _TAG_START.match(state.src, pos)
    if not m or m.group(1) or not _is_block_tag(m.group(2)):
        return False
    tag = parse_tag(state.src, pos)
    if tag is None:
        return False
    inner, after = None, tag.end
    if not tag.self_closing and tag.name.lower() not in HTML_VOID:
        found = find_close(state.src, tag.name, tag.end)
        if found and found[1] <= state.eMarks[end - 1]:
            inner, after = state.src[tag.end : found[0]], found[1]
    if silent:
        return True
    line = start
    while line < end - 1 and state.eMarks[line] < after:
        line += 1
    token = state.push("jsx_block", "", 0)
    token.meta = {"tag": tag, "inner": inner, "tail": state.src[after : state.eMarks[line]]}
    token.map = [start, line + 1]
    state.line = line + 1
    return True


_ESM = re.compile(
    r"import\s+(?:['\"]|\{\s*$|[\w*{$][^\n]*\bfrom\b)"
    r"|export\s+(?:const|let|var|function|async|class|default|\{|\*)"
)


def _esm(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """An ``import``/``export`` statement (MDX module syntax): dropped, braces followed."""
    pos = state.bMarks[start] + state.tShift[start]
    if state.tShift[start] or not _ESM.match(state.src, pos, state.eMarks[start]):
        return False
    if silent:
        return True
    line, depth = start, 0
    while True:
        text = state.src[state.bMarks[line] : state.eMarks[line]]
        depth += text.count("{") - text.count("}")
        line += 1
        if depth <= 0 or line >= end:
            break
    state.line = line
    return True


def _jsx_inline(state: StateInline, silent: bool) -> bool:
    """A tag in running text: kept (inline HTML, without attributes), shown as a placeholder
    (images ...), as a span (a component) or dropped (a stray closing tag, a comment)."""
    src, pos = state.src, state.pos
    if src[pos] != "<":
        return False
    if src.startswith("<!--", pos):
        close = src.find("-->", pos)
        if close == -1:
            return False
        state.pos = close + 3
        return True
    m = _TAG_START.match(src, pos)
    if not m:
        return False
    name, lower = m.group(2), m.group(2).lower()
    if m.group(1):  # a stray closing tag: drop it
        close = src.find(">", pos)
        if close == -1 or not (lower in HTML_INLINE or lower in HTML_BLOCK):
            return False
        state.pos = close + 1
        return True
    tag = parse_tag(src, pos)
    if tag is None:
        return False
    inner, after = None, tag.end
    if not tag.self_closing and lower not in HTML_VOID:
        found = find_close(src, name, tag.end)
        if found:
            inner, after = src[tag.end : found[0]], found[1]
    known = (
        lower in HTML_VOID
        or name in INLINE_COMPONENTS
        or (lower in HTML_INLINE and not name[0].isupper())
        or lower in INERT
    )
    if not known and inner is None and (name[0].isupper() or lower in HTML_BLOCK):
        return False  # "<Not>" in running text without a closing tag is just text
    if not known and not (name[0].isupper() or lower in HTML_BLOCK):
        return False
    if lower in HTML_INLINE and inner is None and not tag.self_closing:
        after = tag.end  # an unclosed inline tag: drop the tag, keep the text
    if not silent:
        token = state.push("jsx_inline", "", 0)
        token.meta = {"tag": tag, "inner": inner}
    state.pos = after
    return True


def _jsx_expression(state: StateInline, silent: bool) -> bool:
    """``{expression}`` in running text: a string literal shows as its text, a comment not at
    all, anything else as code."""
    if state.src[state.pos] != "{":
        return False
    after = balanced(state.src, state.pos)
    if after is None:
        return False
    source = state.src[state.pos + 1 : after - 1]
    if not silent and not re.fullmatch(r"\s*/\*.*\*/\s*", source, flags=re.DOTALL):
        value = prop_value(source)
        if isinstance(value, JSExpr):
            token = state.push("code_inline", "code", 0)
            token.content = "{" + value + "}"
        elif isinstance(value, str):
            state.push("text", "", 0).content = value
    state.pos = after
    return True


_TASK = re.compile(r"\[([ xX])\]\s+")


def _tidy(state: StateCore) -> None:
    """Task-list boxes (``- [x] done``), and no empty paragraphs (left by comments)."""
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type != "inline" or not token.children or i < 2:
            continue
        first = token.children[0]
        if tokens[i - 2].type == "list_item_open" and first.type == "text":
            m = _TASK.match(first.content)
            if m:
                first.content = first.content[m.end() :]
                box = Token("task_box", "", 0, meta={"done": m.group(1) != " "})
                token.children.insert(0, box)
    keep: list[Token] = []
    i = 0
    while i < len(tokens):
        if (
            tokens[i].type == "paragraph_open"
            and i + 2 < len(tokens)
            and not tokens[i + 1].hidden
            and all(
                c.type == "softbreak" or (c.type == "text" and not c.content.strip())
                for c in tokens[i + 1].children or []
            )
        ):
            i += 3
            continue
        keep.append(tokens[i])
        i += 1
    state.tokens = keep


class _Renderer(RendererHTML):
    """markdown-it's HTML renderer for a fragment: no newlines between tags, headings two levels
    down (the page owns h1/h2), code as figures, links checked, images as placeholders."""

    def renderToken(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        if token.type in ("ordered_list_open", "th_open", "td_open"):
            # no start="3" or style="text-align:..." attributes: an alignment becomes a class
            align = re.search(r"text-align:(\w+)", str(token.attrGet("style") or ""))
            keep = token.attrs
            token.attrs = (
                {"class": f"align-{align.group(1)}"} if align and align.group(1) != "left" else {}
            )
            try:
                html = super().renderToken(tokens, idx, options, env)
            finally:
                token.attrs = keep
        else:
            html = super().renderToken(tokens, idx, options, env)
        return html.strip("\n")

    def heading_open(self, tokens, idx, options, env) -> str:
        return f'<h{_level(tokens[idx])} class="lesson-h">'

    def heading_close(self, tokens, idx, options, env) -> str:
        return f"</h{_level(tokens[idx])}>"

    def table_open(self, tokens, idx, options, env) -> str:
        return '<div class="table-wrap"><table class="md-table">'

    def table_close(self, tokens, idx, options, env) -> str:
        return "</table></div>"

    def hr(self, tokens, idx, options, env) -> str:
        return "<hr>"

    def hardbreak(self, tokens, idx, options, env) -> str:
        return "<br>"

    def fence(self, tokens, idx, options, env) -> str:
        token = tokens[idx]
        language = token.info.split()[0] if token.info.strip() else ""
        return str(_T().code(_code_text(token.content), language))

    def image(self, tokens, idx, options, env) -> str:
        alt = self.renderInlineAsText(tokens[idx].children or [], options, env).strip()
        return str(_T().placeholder(f"image: {alt}" if alt else "image", block=False))

    def link_open(self, tokens, idx, options, env) -> str:
        href = safe_href(tokens[idx].attrGet("href"))
        env.setdefault("links", []).append(bool(href))
        return str(_T().link_open(href)) if href else ""

    def link_close(self, tokens, idx, options, env) -> str:
        return "</a>" if env.get("links", [False]).pop() else ""

    def task_box(self, tokens, idx, options, env) -> str:
        return str(_T().task_box(tokens[idx].meta["done"]))

    def jsx_block(self, tokens, idx, options, env) -> str:
        meta = tokens[idx].meta
        tag: Tag = meta["tag"]
        html = str(render_component(tag.name, tag.attrs, meta["inner"]))
        # whatever follows the closing tag on its line continues as ordinary content
        return html + (str(_blocks(meta["tail"])) if meta["tail"].strip() else "")

    def jsx_inline(self, tokens, idx, options, env) -> str:
        meta = tokens[idx].meta
        tag: Tag = meta["tag"]
        inner: str | None = meta["inner"]
        name, lower = tag.name, tag.name.lower()
        if lower in HTML_VOID:
            return "<br>" if lower == "br" else ""
        if name in INLINE_COMPONENTS:
            text = _label(tag.attrs, "math", "tex", "text", "children") or (inner or "")
            if "Math" in name:
                return str(_T().math(text, block=False))
            return str(_T().element("span", Markup(inline_to_html(text))))
        if lower in INERT:
            what = INERT[lower]
            return str(_T().placeholder(what, block=False)) if what else ""
        if lower in HTML_INLINE and not name[0].isupper():
            content = Markup(inline_to_html(inner or ""))
            if lower == "a":
                return str(_T().link(safe_href(tag.attrs.get("href")), content))
            out = HTML_INLINE[lower]
            return str(_T().element(out, content)) if out and inner is not None else content
        # a block-ish element inside running text: its text, in a span
        content = inline_to_html(" ".join(inner.split())) if inner else ""
        if not inner:
            props = _label(tag.attrs, "title", "text", "label")
            content = inline_to_html(props) if props else ""
        css = "inline-comp" if name[0].isupper() else f"inline-{lower}"
        return str(_T().span(css, Markup(content)))


def _level(token: Token) -> int:
    return min(6, int(token.tag[1]) + 2)


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}, renderer_cls=_Renderer)
    md.enable(["table", "strikethrough"]).disable("code")  # MDX has no indented code
    alt = ["paragraph", "reference", "blockquote", "list"]
    md.block.ruler.before("html_block", "mdx_esm", _esm)  # starts a block, never inside one
    md.block.ruler.before("html_block", "jsx_block", _jsx_block, {"alt": alt})
    md.inline.ruler.after("autolink", "jsx_inline", _jsx_inline)
    md.inline.ruler.after("autolink", "jsx_expression", _jsx_expression)
    md.core.ruler.push("mdx_tidy", _tidy)
    return md
