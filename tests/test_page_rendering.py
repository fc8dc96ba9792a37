"""What pages do less of per request (issue 14): templates find the translations once per request, build each URL
once per process, and keep a directory entry's rendered item for as long as the entry is unchanged, and each of
these gives exactly what the work it saves would have given."""
from __future__ import annotations

import pytest

# ---------------------------------------------------------------- translations

def test_a_page_looks_its_translations_up_once_not_once_per_string(app, auth, member, monkeypatch):
    """The directory page translates some 300 strings: Flask-Babel resolved the catalogue for each of them."""
    from flask_babel import Domain

    client = auth.client_for(member)
    assert client.get("/directory/").status_code == 200
    looked_up = []
    original = Domain.get_translations
    monkeypatch.setattr(Domain, "get_translations", lambda self: looked_up.append(1) or original(self))
    assert client.get("/directory/").status_code == 200
    # Once for the templates and the labels of the page; what remains is Python code's own (lazy strings of
    # forms and reference data): it was over 300.
    assert 1 <= len(looked_up) <= 20


SOURCES = [
    "{{ _('Directory') }}",
    "{{ _('Hello %(name)s', name='<b>A & B</b>') }}",  # variables escaped under autoescape
    "{{ _('Terms & conditions') }}",  # the catalogue's own text is trusted, as Jinja does
    "{{ _('50%% of requests') }}",  # always a format string: %% is %
    "{{ ngettext('%(num)d topic', '%(num)d topics', 3) }}",
    "{{ ngettext('%(num)d topic', '%(num)d topics', 1) }}",
    "{{ _('Directory') }}{{ _('Directory') }}",  # kept, then given again
    "{% set label = 'Forum' %}{{ _(label) }}",
]


@pytest.mark.parametrize("autoescape", [True, False], ids=["html", "text"])
@pytest.mark.parametrize("source", SOURCES)
def test_template_translations_give_what_flask_babel_gave(app, source, autoescape):
    """The oracle: Jinja's i18n extension with the callables Flask-Babel installs, in an environment of its own. A
    mail's text part (no autoescape) must get plain text where the HTML page gets Markup, from the same string."""
    from flask_babel import get_translations
    from jinja2 import Environment

    oracle = Environment(extensions=["jinja2.ext.i18n"], autoescape=autoescape)  # noqa: S701 (both, on purpose)
    oracle.install_gettext_callables(gettext=lambda s: get_translations().ugettext(s),
                                     ngettext=lambda s, p, n: get_translations().ungettext(s, p, n), newstyle=True)
    from network.core import translations

    with app.test_request_context("/"):
        expected = oracle.from_string(source).render()
        chooser = app.jinja_env.autoescape
        app.jinja_env.autoescape = autoescape
        translations._kept.clear()
        try:
            for _round in range(2):  # the second time from what was kept
                assert app.jinja_env.from_string(source).render() == expected
        finally:
            app.jinja_env.autoescape = chooser
    if "_(" in source and "%(name)s" not in source:  # a string without variables is kept, per autoescape
        assert [key[1:] for key in translations._kept] == [(autoescape, source.split("'")[1])]


# ---------------------------------------------------------------- URLs

def test_template_urls_are_built_once_and_are_the_urls_flask_builds(app):
    from flask import render_template_string, url_for

    from network.core import caching

    source = ("{{ url_for('forum.topic', topic_id=7) }}|{{ url_for('forum.topic', topic_id=7, post=3) }}"
              "|{{ url_for('forum.topic', topic_id=7, _anchor='post-3') }}|{{ url_for('static', filename='css/app.css') }}")
    with app.test_request_context("/"):
        caching._urls.clear()
        first = render_template_string(source)
        kept = dict(caching._urls)
        again = render_template_string(source)
        expected = "|".join([url_for("forum.topic", topic_id=7), url_for("forum.topic", topic_id=7, post=3),
                             url_for("forum.topic", topic_id=7, _anchor="post-3"),
                             url_for("static", filename="css/app.css")])
    assert first == again == expected
    assert len(kept) == 3  # not the one with an anchor
    assert caching._urls == kept


def test_a_url_is_not_kept_for_values_that_compare_equal_but_build_differently(app):
    """True == 1 in a dictionary key, not in a URL: booleans and objects are never kept."""
    from flask import render_template_string

    from network.core import caching

    with app.test_request_context("/"):
        caching._urls.clear()
        assert render_template_string("{{ url_for('forum.index', flag=1) }}") == "/forum/?flag=1"
        assert render_template_string("{{ url_for('forum.index', flag=True) }}") == "/forum/?flag=True"


# ---------------------------------------------------------------- rendered fragments

@pytest.mark.persistence
def test_a_directory_entry_is_rendered_once_and_again_when_anything_it_shows_changes(app, auth, member, authority):
    """The entry's item is kept under everything it shows, so a change written anywhere (another worker, a direct
    database write) gives a new key, never the old item."""
    from sqlalchemy import update

    from network.core import caching
    from network.core.db import db
    from network.directory.models import Authority

    client = auth.client_for(member)
    caching._fragments.clear()
    assert "Federal Ministry of Justice" in client.get("/directory/").get_data(as_text=True)
    kept = len(caching._fragments)
    assert kept >= 1
    client.get("/directory/")
    assert len(caching._fragments) == kept  # the same items: nothing rendered again
    db.session.execute(update(Authority).where(Authority.id == authority.id).values(name="Renamed prosecution office"))
    db.session.commit()
    page = client.get("/directory/").get_data(as_text=True)
    assert "Renamed prosecution office" in page
    assert len(caching._fragments) == kept + 2  # the item, and the page's content around it (a new version)


def test_nothing_is_kept_in_debug_mode_where_templates_are_being_edited(app):
    from flask import render_template_string

    from network.core import caching

    caching._fragments.clear()
    app.debug = True
    try:
        with app.test_request_context("/"):
            source = "{% macro item(n) %}<li>{{ n }}</li>{% endmacro %}{{ cached_fragment(('item', 1), item, 1) }}"
            assert render_template_string(source) == "<li>1</li>"
    finally:
        app.debug = False
    assert not caching._fragments


def test_kept_pieces_stay_within_their_bytes(app, monkeypatch):
    """Keys can hold typed values (a filter's text), so the pieces kept are bounded in characters, not only in
    number: the oldest go first, and a piece larger than the whole bound is rendered but never kept."""
    from network.core import caching

    monkeypatch.setattr(caching, "FRAGMENT_BYTES", 10_000)
    caching._fragments.clear()
    with app.test_request_context("/"):
        for n in range(30):
            assert caching.cached_fragment(("piece", n), lambda n=n: f"{n:04d}" * 250) == f"{n:04d}" * 250
        kept = list(caching._fragments.values())
        assert sum(len(piece) for piece in kept) <= 10_000 and len(kept) == 10
        assert [str(piece)[:4] for piece in kept] == [f"{n:04d}" for n in range(20, 30)]  # the newest
        assert caching.cached_fragment(("huge",), lambda: "x" * 20_000) == "x" * 20_000
        assert ("huge",) not in {key[1:] for key in caching._fragments} and len(caching._fragments) == 10
