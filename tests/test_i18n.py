"""Choosing a language (issue 13): the menu on every page, a visitor's cookie, a member's profile, Accept-Language,
?lang=, `<html lang dir>` only for a language served, right to left in Arabic, e-mails in the recipient's language,
dates for the locale, and catalogues compiled before the tests run."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.dates import format_date

from tests.conftest import csrf_token, submit

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "fr", "es", "ru", "ar", "zh")
SIGN_IN = {"en": "Sign in", "fr": "Se connecter", "es": "Iniciar sesión", "ru": "Войти", "ar": "تسجيل الدخول",
           "zh": "登录"}
NOT_FOUND = {"en": "Not found", "fr": "Introuvable", "es": "No encontrado", "ru": "Не найдено", "ar": "غير موجود",
             "zh": "未找到"}
RTL_SHEET = "vendor/bootstrap-5.3.8/bootstrap.rtl.min.css"
HTML_TAG = re.compile(r"<html[^>]*>")


def html_tag(response) -> str:
    return HTML_TAG.search(response.get_data(as_text=True)).group(0)


def served(response) -> str:
    """The language `<html lang>` claims."""
    return re.search(r'lang="([^"]+)"', html_tag(response)).group(1)


def language_menu(page: str) -> str:
    found = re.search(r'<li class="nav-item nav-menu language-menu">.*?</details>', page, re.S)
    assert found, "no language menu on the page"
    return found.group(0)


# ---------------------------------------------------------------- the menu

def test_the_language_menu_is_on_every_page_and_works_without_javascript(app, client, auth, member):
    for path in ("/", "/cases", "/sign-in", "/apply", "/search", "/no-such-page"):
        menu = language_menu(client.get(path).get_data(as_text=True))
        links = re.findall(r'href="(/language/(\w+)\?next=[^"]*)"', menu)
        assert [code for _, code in links] == list(LANGUAGES), path
        assert "<script" not in menu and "<details>" in menu  # a disclosure element and plain links: no script
        assert 'lang="ar" dir="rtl"' in menu and ">العربية<" in menu and ">中文<" in menu  # each named in itself
    signed_in = auth.client_for(member)
    for path in ("/", "/forum/", "/cases", "/account/security"):
        menu = language_menu(signed_in.get(path).get_data(as_text=True))
        assert '<form method="post" action="/language"' in menu and 'name="csrf_token"' in menu, path
        assert re.findall(r'name="language" value="(\w+)"', menu) == list(LANGUAGES)
        assert f'name="next" value="{path}"' in menu


def test_a_visitor_s_choice_is_kept_in_a_long_lived_httponly_lax_cookie(client):
    response = client.get("/language/fr?next=/cases?q=extradition%26lang=x")
    assert response.status_code == 302 and response.headers["Location"] == "/cases?q=extradition&lang=x"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("language=fr;")
    assert all(part in cookie for part in ("Max-Age=31536000", "HttpOnly", "SameSite=Lax", "Path=/"))
    assert served(client.get("/cases")) == "fr" and served(client.get("/")) == "fr"
    assert "Se connecter" in client.get("/").get_data(as_text=True)
    # Only same-site paths, only the six languages.
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        assert client.get("/language/es", query_string={"next": target}).headers["Location"] == "/"
    assert client.get("/language/de?next=/").status_code == 404
    assert client.get("/language/fr_FR?next=/").status_code == 404


@pytest.mark.config(SESSION_COOKIE_SECURE=True)
def test_over_https_the_language_cookie_is_host_prefixed_and_secure(app):
    client = app.test_client()
    response = client.get("/language/ru?next=/", base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-language=ru;") and "Secure" in cookie and "HttpOnly" in cookie
    assert served(client.get("/", base_url="https://localhost")) == "ru"


@pytest.mark.persistence
def test_a_member_s_choice_is_kept_in_their_profile_and_follows_them_to_a_new_session(app, auth, member):
    from network.core.db import db
    from network.members.models import Member

    client = auth.client_for(member)
    token = csrf_token(client.get("/forum/").get_data(as_text=True))
    response = client.post("/language", data={"csrf_token": token, "language": "ar", "next": "/forum/"})
    assert response.status_code == 302 and response.headers["Location"] == "/forum/"
    db.session.expire_all()
    assert db.session.get(Member, member.id).language == "ar"
    assert 'lang="ar" dir="rtl"' in html_tag(client.get("/forum/"))

    elsewhere = auth.client_for(member)  # another browser: no cookie, an English Accept-Language
    page = elsewhere.get("/", headers={"Accept-Language": "en"})
    assert 'lang="ar" dir="rtl"' in html_tag(page)
    # ?lang= shows one page in another language; the profile is unchanged.
    assert served(elsewhere.get("/?lang=zh")) == "zh" and served(elsewhere.get("/")) == "ar"

    # A refused choice changes nothing and says why.
    for data in ({"language": "de"}, {"language": ""}, {}):
        refused = client.post("/language", data={"csrf_token": token, "next": "/", **data})
        assert refused.status_code == 400
    refused = client.post("/language?lang=en", data={"csrf_token": token, "language": "de"})
    assert "Not a valid choice" in refused.get_data(as_text=True)
    assert client.post("/language", data={"language": "fr"}).status_code == 400  # no CSRF token
    db.session.expire_all()
    assert db.session.get(Member, member.id).language == "ar"


# ---------------------------------------------------------------- negotiation

FIRST_VISITS = [
    ("fr-CA,fr;q=0.9,en;q=0.5", "fr"),
    ("zh-CN,zh;q=0.9", "zh"),
    ("ar-EG", "ar"),
    ("de-DE,de;q=0.9", "en"),
    ("de;q=0.9,es;q=0.5", "es"),
    ("", "en"),
]


def test_the_first_visit_is_served_in_the_best_of_the_six_for_the_browser(client):
    for header, expected in FIRST_VISITS:
        response = client.get("/", headers={"Accept-Language": header} if header else {})
        assert served(response) == expected, header
        assert "Accept-Language" in response.headers.get("Vary", ""), header


def test_lang_in_the_address_serves_that_page_and_stores_nothing(client):
    response = client.get("/?lang=ru", headers={"Accept-Language": "fr"})
    assert served(response) == "ru" and "Set-Cookie" not in response.headers
    assert "Войти" in response.get_data(as_text=True)
    assert served(client.get("/", headers={"Accept-Language": "fr"})) == "fr"
    assert served(client.get("/?lang=xx", headers={"Accept-Language": "fr"})) == "fr"  # unknown: ignored


def test_each_language_is_served_with_its_own_text_and_arabic_alone_right_to_left(client):
    for language in LANGUAGES:
        page = client.get(f"/?lang={language}")
        text = page.get_data(as_text=True)
        assert html_tag(page) == f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">'
        assert (RTL_SHEET in text) == (language == "ar")
        assert ("css/bootstrap.min.css" in text) == (language != "ar")
        assert SIGN_IN[language] in text
        missing = client.get(f"/no-such-page?lang={language}")
        assert missing.status_code == 404 and f"<h1>{NOT_FOUND[language]}</h1>" in missing.get_data(as_text=True)
        assert f'lang="{language}"' in html_tag(missing)


def test_the_rtl_stylesheet_is_served_locally_and_is_the_same_bootstrap_as_the_ltr_one(client):
    text = client.get("/?lang=ar").get_data(as_text=True)
    rtl_url = re.search(r'href="([^"]*bootstrap\.rtl\.min\.css[^"]*)"', text).group(1)
    assert rtl_url.startswith("/static/")  # from this server, never a CDN
    rtl = client.get(rtl_url)
    ltr = client.get(re.search(r'href="([^"]*bootstrap\.min\.css[^"]*)"', client.get("/").get_data(as_text=True)).group(1))
    version = re.compile(rb"Bootstrap\s+v(\d+\.\d+\.\d+)")
    assert rtl.status_code == ltr.status_code == 200
    assert version.search(rtl.data).group(1) == version.search(ltr.data).group(1)
    assert b"margin-right" in rtl.data and rtl.headers["Content-Type"].startswith("text/css")
    rtl.close()
    ltr.close()


def test_lang_and_dir_never_claim_a_language_without_a_catalogue(app_factory_with_french_only):
    client = app_factory_with_french_only.test_client()
    assert served(client.get("/", headers={"Accept-Language": "ru,fr;q=0.5"})) == "fr"
    arabic = client.get("/", headers={"Accept-Language": "ar"})
    assert html_tag(arabic) == '<html lang="en" dir="ltr">' and RTL_SHEET not in arabic.get_data(as_text=True)
    assert html_tag(client.get("/?lang=zh")) == '<html lang="en" dir="ltr">'
    assert client.get("/language/ar?next=/").status_code == 404
    menu = language_menu(client.get("/").get_data(as_text=True))
    assert re.findall(r"/language/(\w+)\?", menu) == ["en", "fr"]


@pytest.fixture
def app_factory_with_french_only(app, tmp_path):
    """An application whose catalogue folder holds only the French catalogue."""
    from app import create_app

    folder = tmp_path / "only-french" / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    shutil.copyfile(ROOT / "translations" / "fr" / "LC_MESSAGES" / "messages.mo", folder / "messages.mo")
    overrides = {key: app.config[key] for key in ("TESTING", "SECRET_KEY", "MASTER_KEY", "SQLALCHEMY_DATABASE_URI",
                                                  "SESSION_COOKIE_SECURE", "MAIL_BACKEND", "MAIL_SERVER", "MAIL_PORT",
                                                  "RATELIMIT_STORAGE_URL", "PUBLIC_URL")}
    overrides.update(INSTANCE_PATH=app.instance_path, BABEL_TRANSLATION_DIRECTORIES=str(tmp_path / "only-french"))
    return create_app(overrides)


# ---------------------------------------------------------------- e-mail, dates, charts

def test_an_email_goes_out_in_the_recipient_s_language_not_the_sender_s(app, client, mailbox, member):
    from network.core.db import db

    member.language = "fr"
    db.session.commit()
    spanish = {"Accept-Language": "es"}  # whoever resets the password reads Spanish; the member chose French
    submit(client, "/password/forgot", {"email": member.email}, headers=spanish)
    reset = urlsplit(mailbox.link(member.email, "/password/reset/"))
    mailbox.clear()
    response = submit(client, reset.path, {"password": "a brand new passphrase for 2026"}, headers=spanish)
    assert response.status_code == 302
    mail = mailbox.last(member.email)
    assert mail["Subject"] == "Votre mot de passe a été modifié"
    body = mail.get_content()
    assert body.startswith(f"Bonjour {member.name},") and "Réseau des praticiens" in body
    assert "contraseña" not in body and "password" not in body


def test_an_email_to_a_member_without_a_language_follows_the_page_they_use(app, client, mailbox, member):
    submit(client, "/password/forgot", {"email": member.email})
    reset = urlsplit(mailbox.link(member.email, "/password/reset/"))
    mailbox.clear()
    submit(client, reset.path, {"password": "a brand new passphrase for 2026"}, headers={"Accept-Language": "zh"})
    assert mailbox.last(member.email)["Subject"] == "您的密码已更改"


def test_dates_are_written_for_the_locale(app, auth, member):
    from network.core.db import db

    client = auth.client_for(member)
    member.confirmed_until = datetime(2027, 3, 2, 9, 0)
    for language in ("fr", "ru", "ar", "zh", "en"):
        member.language = language
        db.session.commit()
        page = client.get("/").get_data(as_text=True)
        assert format_date(member.confirmed_until, "long", locale=language) in page, language
        assert language == "en" or "March" not in page


def test_the_date_filters_follow_the_request_language(app, clock):
    from datetime import timedelta

    three_days_ago = clock.now - timedelta(days=3)
    with app.test_request_context("/?lang=ru"):
        render = app.jinja_env.from_string("{{ d|date('long') }} | {{ d|timeago }} | {{ n|number }} | {{ none|date }}")
        text = render.render(d=three_days_ago, n=12345.5, none=None)
    assert text == f"{format_date(three_days_ago, 'long', locale='ru')} | 3 дня назад | 12\xa0345,5 | —"
    assert text.startswith("27 февраля 2026")


def test_charts_keep_their_left_to_right_layout_inside_a_right_to_left_page():
    from catalogue.cases.charts import bar_chart

    svg = str(bar_chart([("المساعدة القانونية المتبادلة", 12)], "title"))
    assert 'direction="ltr"' in svg.split(">", 1)[0]


# ---------------------------------------------------------------- catalogues

def test_every_catalogue_is_compiled_and_not_older_than_its_source():
    for language in LANGUAGES[1:]:
        source = ROOT / "translations" / language / "LC_MESSAGES" / "messages.po"
        compiled = source.with_suffix(".mo")
        assert compiled.is_file(), f"{compiled} missing: run `make catalogues`"
        assert compiled.stat().st_mtime >= source.stat().st_mtime, f"{compiled} is stale"


@pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed (the README's commands need it)")
def test_make_test_compiles_a_changed_catalogue_before_the_tests(tmp_path):
    """In a copy of the Makefile and the catalogues: a .po newer than its .mo is compiled by `make test`'s
    prerequisites (shown by `make -n`), and `make catalogues` builds the missing ones."""
    shutil.copy2(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "translations", tmp_path / "translations", ignore=shutil.ignore_patterns("*.mo", "*.tmp"))
    venv = tmp_path / "venv"  # the real interpreter and pybabel, marked installed so make installs nothing
    venv.mkdir()
    (venv / "bin").symlink_to(ROOT / ".venv" / "bin")
    (venv / ".installed").touch()
    env = {**os.environ, "MAKEFLAGS": ""}
    dry = subprocess.run(["make", "-n", "test", "VENV=venv"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=60)
    assert dry.returncode == 0, dry.stderr
    for language in LANGUAGES[1:]:
        assert f"pybabel compile --statistics -l {language}" in dry.stdout
    # "-m pytest", not "pytest": under `make test` the nested make prints "Entering directory …/pytest-of-…/…"
    assert dry.stdout.index("pybabel compile") < dry.stdout.index("-m pytest")
    built = subprocess.run(["make", "catalogues", "VENV=venv"], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    for language in LANGUAGES[1:]:
        assert (tmp_path / "translations" / language / "LC_MESSAGES" / "messages.mo").stat().st_size > 1000
    again = subprocess.run(["make", "-q", "catalogues", "VENV=venv"], cwd=tmp_path, env=env, timeout=60)
    assert again.returncode == 0  # up to date: nothing compiled twice
