"""Keeping the directory current: focal points propose changes to their authority's entry, moderators review a
side-by-side diff and approve or return it; every approved version stays viewable."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("directory_changes", __name__, url_prefix="/directory")
