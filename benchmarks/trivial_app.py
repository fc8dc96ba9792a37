"""The yardstick of benchmarks/pages.py: a trivial Flask page rendered through Jinja, served by gunicorn under the
same settings as the platform, so that each page's figure is read as a ratio to what the framework costs alone."""
from __future__ import annotations

from flask import Flask, render_template_string

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main><h1>{{ title }}</h1>{% for item in items %}<p>{{ item }}</p>{% endfor %}</main></body></html>"""


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index() -> str:
        return render_template_string(PAGE, title="Trivial page", items=("one", "two", "three"))

    return app
