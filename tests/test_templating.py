"""Issue 14: the application's templates (network/core/templating.py) render exactly as Jinja's own, without walking
their globals' ChainMap at every render and every `{% from ... import ... %}`."""
from __future__ import annotations

import re
from collections import ChainMap

import pytest
from jinja2 import DictLoader, Environment, Template, select_autoescape

from network.core.templating import NetworkTemplate, merged_globals

SOURCES = {
    "macros.html": '{% macro shout(text) %}<b>{{ text|upper }}</b>{{ suffix }}{% endmacro %}'
                   '{% macro greet() %}{{ greeting }} {{ who|default("nobody") }}{% endmacro %}',
    "layout.html": "<title>{% block title %}{{ site }}{% endblock %}</title><main>{% block content %}{% endblock %}"
                   "</main>",
    "part.html": "[{{ who }} {{ site }}]",
    "page.html": '{% extends "layout.html" %}{% from "macros.html" import shout, greet %}'
                 '{% from "macros.html" import greet as greet_here with context %}{% import "macros.html" as m %}'
                 '{% block content %}{{ shout(who) }}|{{ greet() }}|{{ greet_here() }}|{{ m.shout("<&>") }}|'
                 '{% include "part.html" %}|{{ extra|default("no extra") }}{% endblock %}',
}


def environments() -> tuple[Environment, Environment]:
    """Jinja's own and ours, otherwise the same."""
    made = []
    for template_class in (Template, NetworkTemplate):
        environment = Environment(loader=DictLoader(SOURCES), autoescape=select_autoescape(["html"]))
        environment.template_class = template_class
        environment.globals.update(site="Network <1>", greeting="Hello", suffix="!")
        made.append(environment)
    return made[0], made[1]


def renderings(environment: Environment) -> list[str]:
    page = environment.get_template("page.html")
    first = page.render(who="<Ana>")
    again = page.render(who="Bo")
    environment.globals["site"] = "Changed"  # a global changed after loading is seen, as in Jinja (and the imported
    environment.globals["suffix"] = "?"  # macros' module, made at the first import, keeps what it was made with)
    changed = page.render(who="Cy")
    # A template with globals of its own: the imported module is made with them (Jinja's "new globals" branch).
    own = environment.get_template("page.html", globals={"greeting": "Hi", "extra": "<x>"})
    return [first, again, changed, own.render(who="Di"), environment.from_string("{{ site }}").render()]


def test_pages_render_exactly_as_with_jinja_s_templates():
    jinja, ours = environments()
    assert type(ours.get_template("page.html")) is NetworkTemplate
    expected = renderings(jinja)
    assert renderings(ours) == expected
    assert "&lt;Ana&gt;" in expected[0] and "<b>&lt;&amp;&gt;</b>" in expected[0]  # autoescaped as before
    assert "<title>Changed</title>" in expected[2] and "&lt;x&gt;" in expected[3]


def test_merged_globals_are_the_chainmap_as_a_dict():
    first, second = {"a": 1, "b": 2}, {"b": 3, "c": 4, "a": 5}
    chained = ChainMap(first, second)
    merged = merged_globals(chained)
    assert merged == dict(chained) and list(merged) == list(dict(chained))
    plain = {"x": 1}
    assert merged_globals(plain) is plain


@pytest.fixture
def chainmap_walks(monkeypatch):
    """How many times a ChainMap is iterated or asked for a key (what Jinja did on every render and import)."""
    walks = []
    iterate, contains = ChainMap.__iter__, ChainMap.__contains__

    def counted_iter(self):
        walks.append("iter")
        return iterate(self)

    def counted_contains(self, key):
        walks.append("contains")
        return contains(self, key)

    monkeypatch.setattr(ChainMap, "__iter__", counted_iter)
    monkeypatch.setattr(ChainMap, "__contains__", counted_contains)
    return walks


def test_a_render_and_an_import_walk_no_chainmap(app, chainmap_walks):
    """The application's templates are NetworkTemplate: an import takes the macros' module kept from the first
    render, and neither the render nor the import iterates the globals' ChainMap."""
    template = app.jinja_env.from_string('{% from "macros.html" import icon %}{{ icon("bell") }}')
    with app.test_request_context("/"):
        first = template.render()
        module = app.jinja_env.get_template("macros.html")._module
        chainmap_walks.clear()
        assert template.render() == first
    assert chainmap_walks == []
    assert module is not None and app.jinja_env.get_template("macros.html")._module is module


def test_a_signed_in_page_is_the_same_with_jinja_s_templates(app, auth, member):
    """The home page and the catalogue of a signed-in member, byte for byte (but for the CSRF token), rendered by
    NetworkTemplate and by Jinja's Template."""
    from network.core import navigation

    client = auth.client_for(member)
    token = re.compile(r'name="csrf_token" value="[^"]*"')

    def pages() -> list[str]:
        navigation._bars.clear()  # noqa: SLF001 (the bar rendered by these templates, not kept from before)
        app.jinja_env.cache.clear()
        return [token.sub("", client.get(path).get_data(as_text=True)) for path in ("/", "/cases", "/directory/")]

    ours = pages()
    app.jinja_env.template_class = Template
    try:
        theirs = pages()
    finally:
        app.jinja_env.template_class = NetworkTemplate
        app.jinja_env.cache.clear()
    assert ours == theirs
    assert "<header>" in ours[0]


def test_template_urls_follow_the_mount_prefix_and_debug_mode_as_url_for(app):
    """`url_for` in templates (network/core/caching.py) reads the application and the request from Flask's context
    variables: the same URL as Flask's url_for under each prefix the application is mounted at, and in debug mode."""
    from flask import render_template_string, url_for

    from network.core import caching

    source = "{{ url_for('home.index') }}|{{ url_for('forum.topic', topic_id=7) }}"
    caching._urls.clear()  # noqa: SLF001
    for base in ("http://localhost/", "http://localhost/network/", "http://localhost/"):
        with app.test_request_context("/", base_url=base):
            expected = f"{url_for('home.index')}|{url_for('forum.topic', topic_id=7)}"
            assert render_template_string(source) == render_template_string(source) == expected
            assert expected.startswith("/network/") == ("network" in base)
    app.debug = True
    try:
        with app.test_request_context("/"):
            assert render_template_string(source) == "/|/forum/topics/7"
    finally:
        app.debug = False
