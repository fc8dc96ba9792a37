"""Forum posts rendered safe: render_post (mentions and references, then render_markdown: markdown-it, then nh3)
against hostile Markdown and HTML. Every output is parsed, not searched: only allowed tags and attributes, links
only to http, https or mailto with a safe rel, nothing of the hostile input inside an attribute."""
from __future__ import annotations

import pytest

from tests.test_markdown import HOSTILE, assert_safe, elements

FORUM_HOSTILE = {
    # script and event handlers
    "script in a mention": '@[<script>alert(1)</script>]',
    "mention attribute breakout": '@"><script>alert(1)</script>',
    "mention bracket breakout": '@[Otto Outsider"><script>alert(1)</script>]',
    "event handler after mention": "@[Otto Outsider]<img src=x onerror=alert(1)>",
    "svg in reference": "[[case:<svg/onload=alert(1)>]]",
    "details ontoggle": "<details open ontoggle=alert(1)>",
    "body onload": "<body onload=alert(1)>",
    "marquee onstart": "<marquee onstart=alert(1)>x</marquee>",
    "video source onerror": "<video><source onerror=alert(1)></video>",
    "uppercase script": "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "split script tag": "<scr<script>ipt>alert(1)</scr</script>ipt>",
    # javascript: and data: links
    "javascript in reference key": "[[case:javascript:alert(1)]]",
    "javascript in authority reference": "[[authority:javascript:alert(1)]]",
    "reference inside javascript link": "[x](javascript:alert('[[case:A]]'))",
    "javascript link with entity colon": "[x](javascript&colon;alert(1))",
    "javascript link with tab": "[x](java\tscript:alert(1))",
    "javascript with leading spaces": "[x](   javascript:alert(1))",
    "data svg link": "[x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "data link in reference definition": "[a][r]\n\n[r]: data:text/html,<script>alert(1)</script>",
    "autolink data": "<data:text/html,<script>alert(1)</script>>",
    # CSS injection
    "style attribute in link text": '[<span style="background:url(javascript:alert(1))">x</span>](https://e.org)',
    "style tag with import": "<style>@import url(https://evil.example/x.css)</style>",
    "expression in style": '<div style="width: expression(alert(1))">x</div>',
    "link stylesheet": '<link rel="stylesheet" href="https://evil.example/x.css">',
    "class injection": '<p class="position-fixed top-0 w-100 h-100">cover the page</p>',
    # nested and encoded tricks
    "nested quote with html": "> > <script>alert(1)</script>\n> > [x](javascript:alert(1))",
    "list with html": "- <iframe src=javascript:alert(1)>\n- two",
    "code fence closing html": "```\n</code></pre><script>alert(1)</script>\n```",
    "reference in link title": '[x](https://example.org "[[case:A]]")',
    "mention in link title": '[x](https://example.org "@[Otto Outsider]")',
    "mention inside link text": "[@[Otto Outsider]](javascript:alert(1))",
    "reference inside link url": "[x](https://example.org/[[case:A]])",
    "double encoded script": "%253Cscript%253Ealert(1)%253C/script%253E",
    "html entities script": "&lt;script&gt;alert(1)&lt;/script&gt;",
    "unicode escaped javascript": "[x](\\u006aavascript:alert(1))",
    "null byte in scheme": "[x](java\x00script:alert(1))",
    "noscript trick": '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "textarea breakout": "</textarea><script>alert(1)</script>",
    "quote prefill breakout": "> **x** wrote:\n></textarea><script>alert(1)</script>",
    "template injection": "{{ config.SECRET_KEY }} {% for x in range(3) %}x{% endfor %}",
}

ALL = {**HOSTILE, **FORUM_HOSTILE}
NEEDLES = ("javascript:", "vbscript:", "data:", "onerror", "onload", "ontoggle", "onstart", "expression(", "style")


@pytest.fixture
def rendering(app, member_factory):
    member_factory(name="Otto Outsider", email="otto@justiz.example.at")
    member_factory(name='Evil"><script>alert(1)</script>', email="evil@justiz.example.at")
    member_factory(name="Eve](javascript:alert(1))", email="eve@justiz.example.at")
    with app.test_request_context():
        yield


def test_the_corpus_has_at_least_fifty_hostile_inputs():
    assert len(ALL) >= 50


@pytest.mark.parametrize("text", ALL.values(), ids=ALL.keys())
def test_hostile_forum_posts_render_safe(rendering, text):
    from network.forum.render import render_post

    html = str(render_post(text))
    assert_safe(html)
    lowered = html.lower()
    for needle in ("<script", "<img", "<iframe", "<style", "<svg", "<link", "<body", "<details", "<textarea"):
        assert needle not in lowered, (needle, html)
    for _tag, attrs in elements(html):
        for value in attrs.values():
            assert not any(needle in (value or "").lower() for needle in NEEDLES), (attrs, html)
    assert "{{" not in html or "{{ config" in html  # shown as text, never evaluated


@pytest.mark.parametrize(("name", "linked"), [('Evil"><script>alert(1)</script>', 1),
                                              ("Eve](javascript:alert(1))", 0)])  # a "]" ends a mention
def test_hostile_member_names_in_mentions_stay_text_inside_a_safe_link(rendering, name, linked):
    from network.forum.render import render_post

    html = str(render_post(f"Hello @[{name}]"))
    assert_safe(html)
    links = [attrs for tag, attrs in elements(html) if tag == "a"]
    assert len(links) == linked
    assert all(link["href"].startswith("http://localhost/forum/search?author=") for link in links)
    assert "<script" not in html.lower()


def test_mentions_and_references_become_links_only_outside_code(rendering):
    from network.forum.render import render_post

    html = str(render_post("@[Otto Outsider] [[case:CASE-1]] [[authority:AUT-MOJ]] `[[case:CASE-2]]`\n\n"
                           "```\n@[Otto Outsider]\n```"))
    hrefs = [attrs["href"] for tag, attrs in elements(html) if tag == "a"]
    assert hrefs[1:] == ["http://localhost/cases/CASE-1", "http://localhost/directory/AUT-MOJ"]
    assert "author=" in hrefs[0]
    assert "<code>[[case:CASE-2]]</code>" in html and "@[Otto Outsider]\n</code>" in html


def test_unknown_or_unvetted_names_are_not_linked(rendering, member_factory):
    from network.forum.render import render_post

    member_factory(name="Paula Pending", email="paula@justiz.example.at", status="pending", enrolled=False)
    html = str(render_post("@[Paula Pending] and @[Nobody]"))
    assert "<a" not in html and "@[Paula Pending]" in html


def test_the_quote_helper_escapes_the_author_name():
    from network.forum.render import quote

    quoted = quote("Eve](javascript:x)", "line one\nline two")
    assert quoted.startswith("> **Eve\\]\\(javascript:x\\)** wrote:")
    assert "> line one\n> line two" in quoted
