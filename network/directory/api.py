"""JSON API for the directory under /api/v1: list and read authorities (token scope directory:read)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_directory", __name__, url_prefix="/api/v1")
