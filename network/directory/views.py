"""The directory's pages for vetted members: browse by region and State, filters, authority pages, the finder and
the print-ready directory."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("directory", __name__, url_prefix="/directory")
