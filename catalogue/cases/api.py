"""JSON API for the catalogue under /api/v1: list, read and submit cases."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_cases", __name__, url_prefix="/api/v1")
