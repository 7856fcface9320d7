"""The one JSX scanner: tags, closing tags and JS literal props as lessons write them."""

from __future__ import annotations

from lesson_author.text.jsx import JSExpr, balanced, find_close, js_literal, parse_tag, prop_value


def test_a_tag_with_every_attribute_form():
    src = (
        "<Card title=\"a > b\" note='single' open {...rest} n={3} "
        "items={['x', \"y\", ]} cfg={{ title: 'T', tags: ['k'] }} bare=word />tail"
    )
    tag = parse_tag(src, 0)
    assert tag is not None and tag.name == "Card" and tag.self_closing
    assert src[tag.end :] == "tail"
    assert tag.attrs == {
        "title": "a > b",
        "note": "single",
        "open": True,
        "n": 3,
        "items": ["x", "y"],
        "cfg": {"title": "T", "tags": ["k"]},
        "bare": "word",
    }


def test_entities_in_quoted_values_are_decoded_only_when_asked():
    src = '<T title="x &amp; &lt;y&gt;">'
    assert parse_tag(src, 0).attrs["title"] == "x & <y>"
    assert parse_tag(src, 0, entities=False).attrs["title"] == "x &amp; &lt;y&gt;"


def test_malformed_tags_are_none_not_errors():
    for src in ['<A title="open', "<A b={ {unbalanced }", "<A =x>", "< A>", "<A b="]:
        assert parse_tag(src, 0) is None, src


def test_braces_balance_past_strings_and_comments():
    src = "{/* the author's note } */} rest"
    assert src[: balanced(src, 0)] == "{/* the author's note } */}"
    assert balanced("{ '}' + \"}\" }x", 0) == len("{ '}' + \"}\" }")
    assert balanced("{ /* never closed }", 0) is None
    assert balanced("{ 'open }", 0) is None


def test_find_close_counts_nesting_and_skips_self_closing():
    src = "<Row>a<Row/><Row>b</Row>c</Row>d"
    start, end = find_close(src, "Row", len("<Row>"))
    assert src[start:end] == "</Row>" and src[end:] == "d"
    assert find_close("<Row>never", "Row", 5) is None
    # a longer name with the same prefix is another tag
    assert find_close("<Row>x</Row.Aside></Row>", "Row", 5) == (18, 24)


def test_js_literal_reads_json_and_what_authors_write():
    assert js_literal('{"a": "\\u00e9\\n", "n": 1e3, "m": -2.5}') == {
        "a": "é\n",
        "n": 1000.0,
        "m": -2.5,
    }
    assert js_literal("[`tpl`, 'q\\'s', null, undefined]") == ["tpl", "q's", None, None]
    assert js_literal("trueish") is None
    assert js_literal("{a: 1} extra") is None


def test_prop_value_keeps_an_expression_that_is_no_literal():
    assert prop_value("someVar") == "someVar" and isinstance(prop_value("someVar"), JSExpr)
    assert prop_value("cond ? 'yes' : 'no'") == ["yes", "no"]
    assert prop_value("t('label')") == "label"
