"""The built lesson as HTML: readable (blocks as cards) and inert (everything escaped, nothing fetched)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from lesson_author.report.mdx_view import inline_to_html, mdx_to_html

# tags the converter may emit; anything else in its output is a leak from the input
ALLOWED_TAGS = {
    "p",
    "h3",
    "h4",
    "h5",
    "h6",
    "em",
    "strong",
    "code",
    "pre",
    "a",
    "ul",
    "ol",
    "li",
    "span",
    "div",
    "aside",
    "figure",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "blockquote",
    "hr",
    "details",
    "summary",
    "br",
    "sub",
    "sup",
    "mark",
    "s",
    "del",
    "kbd",
    "section",
    "article",
    "dl",
    "dt",
    "dd",
    "figcaption",
    "h1",
    "h2",
}
ALLOWED_ATTRS = {"class", "href", "rel"}


class TagAudit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def audit(html: str) -> TagAudit:
    parser = TagAudit()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS, f"unexpected <{tag}> in output"
        for name, value in attrs:
            assert name in ALLOWED_ATTRS, f"unexpected attribute {name} on <{tag}>"
            if name == "href":
                assert not (value or "").lower().startswith(("javascript:", "data:", "vbscript:"))
    return parser


def text_of(html: str) -> str:
    return " ".join("".join(audit(html).text).split())


# ---------------------------------------------------------------- the build's own output


def test_every_block_of_a_built_lesson_becomes_a_styled_card(lesson_mdx: str):
    html = mdx_to_html(lesson_mdx)
    audit(html)
    for css in (
        "callout-objective",
        "callout-constraint",
        "callout-insight",
        "callout-warning",
        "callout-tip",
        "callout-notebook",
        "callout-summary",
        "callout-references",
        "callout-next",
        "gradient-cyan",
        "gradient-orange",
        'class="compare"',
        'class="code"',
        'class="lesson-details"',
    ):
        assert css in html, css
    # front matter and JSX comments are not shown
    assert "notebook: " not in html
    assert "outline 1" not in html


def test_built_lesson_text_reads_as_prose(lesson_mdx: str):
    html = mdx_to_html(lesson_mdx)
    text = text_of(html)
    assert "Simplicity, <Not> Novelty" in text  # an attribute title with '<', shown literally
    assert "6B < 32B" in text  # inside a code span
    assert "Separate Q/K/V per modality" in text  # ComparisonRow items
    assert "h = tokens + attn(norm(tokens), cond)" in text  # CodeBlock children
    assert '<h4 class="lesson-h">One Stream for Every Token</h4>' in html
    assert "<summary>Answer</summary>" in html
    assert '<a href="https://arxiv.org/abs/2511.22699" rel="noopener noreferrer">' in html


def test_round_trips_what_the_build_renderer_writes():
    mdx = pytest.importorskip("lesson_author.lesson.mdx")
    doc = pytest.importorskip("lesson_author.lesson.lesson_doc")
    lesson = doc.BuiltLesson(
        slug="demo",
        title="Demo <Lesson>",
        objective="Say why {braces} and <tags> in prose stay text.",
        sections=[
            doc.BuiltSection(
                number=1,
                heading="Costs & Benefits",
                prose="A *short* paragraph with `x < y`.",
                blocks=[doc.Aside(kind="insight", title='Quote "me" <b>', body="Body **bold**.")],
            )
        ],
    )
    html = mdx_to_html(mdx.render_mdx(lesson))
    text = text_of(html)
    assert "Demo <Lesson>" in text
    assert "Say why {braces} and <tags> in prose stay text." in text
    assert 'Quote "me" <b>' in text
    assert "callout-insight" in html
    assert "<strong>bold</strong>" in html


# ---------------------------------------------------------------- markdown


def test_markdown_basics():
    html = mdx_to_html(
        "# Title\n\nPara *em* and **strong** and `code`.\n\n"
        "1. one\n2. two\n   - nested\n\n"
        "- [x] done\n- [ ] todo\n\n"
        "> quoted\n\n---\n\n"
        "| a | b |\n|:--|--:|\n| `x|y` | 2 |\n"
    )
    audit(html)
    assert '<h3 class="lesson-h">Title</h3>' in html
    assert "<em>em</em>" in html and "<strong>strong</strong>" in html
    assert "<ol><li>one</li><li>two<ul><li>nested</li></ul></li></ol>" in html
    assert "☑" in html and "☐" in html
    assert "<blockquote><p>quoted</p></blockquote>" in html
    assert "<hr>" in html
    assert "<td><code>x|y</code></td>" in html
    assert 'class="align-right"' in html


def test_fenced_code_is_escaped_verbatim():
    html = mdx_to_html("```html\n<script>alert(1)</script>\n  indented & kept\n```\n")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "  indented &amp; kept" in html
    assert "<script" not in html


def test_entities_and_jsx_string_expressions():
    html = inline_to_html("a &mdash; b {'•'} c {\" \"} d {someVar}")
    assert "a — b • c   d" in html
    assert "<code>{someVar}</code>" in html


# ---------------------------------------------------------------- safety


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "text <script>alert(1)</script> more",
        '<img src="https://example.com/x.png" onerror="alert(1)" />',
        "![diagram](https://example.com/x.png)",
        '<iframe src="https://example.com"></iframe>',
        '<svg onload="alert(1)"><circle r="4"/></svg>',
        "<style>body { background: url(https://example.com/x) }</style>",
        '<div onclick="alert(1)" style="color:red">hi</div>',
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        '<InsightBlock title="x&quot; onmouseover=&quot;alert(1)">body</InsightBlock>',
        '<GradientCard color="x onmouseover=alert(1)">c</GradientCard>',
        "<Widget prop={<script>alert(1)</script>} />",
        '<span title="a">ok</span><unknownlowercase onclick="x">y</unknownlowercase>',
        "<details><summary>s <img src=x onerror=alert(1)></summary>t</details>",
    ],
)
def test_hostile_input_is_inert(source: str):
    html = mdx_to_html(source)
    audit(html)
    lowered = html.lower()
    assert "<script" not in lowered
    assert "src=" not in lowered
    assert "style=" not in lowered
    assert "url(" not in lowered or "&" in lowered  # only as escaped text, never as CSS


def test_images_and_widgets_become_placeholders():
    html = mdx_to_html(
        '<img src="a.png" alt="the pipeline" />\n\n<FilterSwapExplorer initial={3} />\n'
    )
    assert "[image: the pipeline not shown in this report]" in html
    assert "FilterSwapExplorer" in html and "Interactive component" in html


def test_unclosed_and_malformed_markup_degrades_to_text():
    html = mdx_to_html(
        '<InsightBlock title="open">\n\nnever closed\n\n<Broken attr="x\n\n{ unbalanced\n'
    )
    audit(html)
    assert "never closed" in text_of(html)


def test_converter_never_raises_on_truncated_input(lesson_mdx: str):
    for cut in range(0, len(lesson_mdx), 97):
        audit(mdx_to_html(lesson_mdx[:cut]))


def test_inline_html_is_reemitted_without_attributes():
    html = inline_to_html('<strong class="x">bold</strong> <em onclick="y">it</em> <br/> <b>b</b>')
    assert html == "<strong>bold</strong> <em>it</em> <br> <strong>b</strong>"


def test_relative_and_anchor_links_are_kept():
    html = inline_to_html("[a](#section) [b](../notebooks/z.ipynb) [c](https://x.org/a_(b))")
    assert '<a href="#section"' in html
    assert '<a href="../notebooks/z.ipynb"' in html
    assert '<a href="https://x.org/a_(b)"' in html
    assert re.search(r">c</a>$", html)


def test_a_card_is_labelled_a_check_exactly_when_the_lesson_reads_it_as_one():
    mdx = pytest.importorskip("lesson_author.lesson.mdx")
    source = (
        '<GradientCard title="Q" color="cyan">\n\nWhy?\n\n'
        "<details>\n<summary>Answer</summary>\n\nBecause.\n\n</details>\n\n</GradientCard>\n\n"
        '<GradientCard title="Aside" color="orange">\n\nJust a card.\n\n</GradientCard>\n'
    )
    assert len(mdx.read_mdx("## S\n\n" + source).checks()) == 1
    html = mdx_to_html(source)
    audit(html)
    assert html.count('<div class="card-kind">Check</div>') == 1
    assert html.index("Check") < html.index("Why?") < html.index("Just a card.")


def test_nested_components_keep_their_inline_markup():
    html = mdx_to_html(
        "<Row>\n  <Row.Content>\n    Text with <strong>html</strong>{/* note */} and **md**.\n"
        '  </Row.Content>\n  <Row.Aside>\n    <TipBlock title="T">\n      `code`\n'
        "    </TipBlock>\n  </Row.Aside>\n</Row>\n"
    )
    audit(html)
    assert '<div class="row"><div class="row-content"><p>Text with <strong>html</strong>' in html
    assert "note" not in html and "<strong>md</strong>" in html
    assert '<div class="row-aside"><aside class="card callout callout-tip">' in html
    assert "<code>code</code>" in html


def test_module_syntax_is_dropped_but_prose_about_importing_stays():
    html = mdx_to_html(
        'import { A } from "./a"\nimport {\n  B,\n} from "b"\nexport const meta = {\n  x: 1,\n}\n\n'
        "import the data first, then\nexport it to a file.\n"
    )
    assert html == "<p>import the data first, then\nexport it to a file.</p>"


def test_a_jsx_comment_with_quotes_in_it_is_not_shown():
    html = mdx_to_html("## Heading\n{/* outline 3: The Author's Own Title */}\n\nProse.\n")
    assert html == '<h4 class="lesson-h">Heading</h4><p>Prose.</p>'
