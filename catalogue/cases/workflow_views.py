"""Submitting and reviewing cases: the step-by-step wizard, the privacy check, the review queue and decisions."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("case_workflow", __name__, url_prefix="/cases")
