"""Markdown rendering (network/core/markdown.py): what authors may write comes out as safe HTML.

Every hostile input is checked by parsing the output, not by searching strings: only allowed tags, only allowed
attributes, links only to http, https or mailto, every link with rel="noopener noreferrer nofollow"."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from markupsafe import Markup

from network.core.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, LINK_REL, render_markdown


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_comment(self, data):
        self.comments.append(data)


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    assert not parser.comments, parser.comments
    return parser.elements


def assert_safe(html: str) -> None:
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attrs.items():
            if tag == "a" and name == "rel":
                assert value == LINK_REL, html
                continue
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()), (tag, name, html)
            if name == "href":
                assert (value or "").split(":", 1)[0].lower() in ("http", "https", "mailto"), html
        if tag == "a":
            assert attrs.get("rel") == LINK_REL, html


HOSTILE = {
    "script tag": "<script>alert(1)</script>",
    "script inside emphasis": "**<script>alert(1)</script>**",
    "img onerror": '<img src="x" onerror="alert(1)">',
    "svg onload": "<svg onload=alert(1)>",
    "iframe": '<iframe src="https://evil.example/"></iframe>',
    "object": '<object data="https://evil.example/x.swf"></object>',
    "style element": "<style>body { display: none }</style>",
    "style attribute on raw html": '<p style="position:fixed;top:0">cover</p>',
    "raw anchor with javascript": '<a href="javascript:alert(1)">click</a>',
    "form and input": '<form action="https://evil.example/"><input name="password"></form>',
    "javascript link": "[click](javascript:alert(1))",
    "upper-case javascript link": "[click](JAVASCRIPT:alert(1))",
    "entity-encoded javascript link": "[click](jav&#x09;ascript:alert(1))",
    "javascript reference link": "[click][1]\n\n[1]: javascript:alert(1)",
    "javascript autolink": "<javascript:alert(1)>",
    "vbscript link": "[click](vbscript:msgbox(1))",
    "data html link": "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "data image": "![x](data:image/png;base64,iVBORw0KGgo=)",
    "remote image (tracking pixel)": "![x](https://tracker.example/pixel.gif)",
    "file link": "[passwd](file:///etc/passwd)",
    "relative link": "[sign out](/sign-out)",
    "protocol-relative link": "[x](//evil.example/)",
    "title attribute breakout": '[x](https://example.org "a\\" onmouseover=\\"alert(1)")',
    "event handler in link text": "[<b onmouseover=alert(1)>x</b>](https://example.org)",
    "html comment": "<!-- <script>alert(1)</script> -->",
    "mathml href": '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    "base tag": '<base href="https://evil.example/">',
    "nested markdown link with javascript in code": "`<script>` and [x](javascript:void(0))",
    "table with inline style alignment": "| a | b |\n|--:|:--|\n| <script>1</script> | 2 |",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_markdown_renders_safe(text):
    html = str(render_markdown(text))
    assert_safe(html)
    lowered = html.lower()
    for needle in ("<script", "javascript:", "vbscript:", "data:", "onerror=", "onload=", "<img", "<iframe"):
        if needle.startswith("<"):
            assert needle not in lowered, (needle, html)
        else:
            # Text that was written may remain as escaped text, never inside an attribute.
            for _tag, attrs in elements(html):
                assert not any(needle in (value or "").lower() for value in attrs.values()), (needle, html)


def test_raw_html_is_shown_as_text():
    html = str(render_markdown("<b>bold</b> & <i>it</i>"))
    assert html == "<p>&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;it&lt;/i&gt;</p>\n"


def test_everyday_markdown_keeps_its_structure():
    html = str(render_markdown("## Requirements\n\n1. **Dual criminality**\n2. A *certified* translation\n\n"
                               "> Urgent requests by e-mail.\n\n`art. 18 (14)`\n\n---"))
    tags = [tag for tag, _attrs in elements(html)]
    assert tags == ["h2", "ol", "li", "strong", "li", "em", "blockquote", "p", "p", "code", "hr"]


def test_links_keep_http_https_and_mailto_with_a_safe_rel():
    html = str(render_markdown("[law](https://laws.example.org/a?b=1&c=2) [old](http://example.org) "
                               "[write](mailto:central@justice.example.org) <https://auto.example.org>"))
    links = [attrs for tag, attrs in elements(html) if tag == "a"]
    assert [a["href"] for a in links] == ["https://laws.example.org/a?b=1&c=2", "http://example.org",
                                          "mailto:central@justice.example.org", "https://auto.example.org"]
    assert all(a["rel"] == "noopener noreferrer nofollow" for a in links)


def test_a_refused_link_keeps_its_text_but_loses_its_address():
    html = str(render_markdown("[relative](/cases) and [data](data:text/plain,hi)"))
    links = [attrs for tag, attrs in elements(html) if tag == "a"]
    assert all("href" not in attrs for attrs in links)
    assert "relative" in html


def test_ordered_lists_keep_their_start_number():
    assert '<ol start="3">' in str(render_markdown("3. third\n4. fourth"))


def test_tables_are_rendered_without_style_attributes():
    html = str(render_markdown("| a | b |\n|--:|---|\n| 1 | 2 |"))
    assert "<table>" in html and "style" not in html


def test_empty_input_gives_empty_markup():
    assert render_markdown(None) == Markup("")
    assert render_markdown("   \n") == Markup("")
    assert isinstance(render_markdown("x"), Markup)


def test_very_long_input_is_cut_not_rendered_whole():
    html = str(render_markdown("word " * 50_000))
    assert len(html) < 110_000


def test_the_jinja_filter_is_registered(app):
    template = app.jinja_env.from_string("{{ text|markdown }}")
    assert template.render(text="*hi* <script>x</script>") == "<p><em>hi</em> &lt;script&gt;x&lt;/script&gt;</p>\n"
