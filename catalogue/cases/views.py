"""Reading the catalogue: the listing with filters and facets, the case page, history, print view, exports, statistics."""
from __future__ import annotations

from flask import Blueprint

from catalogue.cases import models  # noqa: F401  (the tables, for migrations)

bp = Blueprint("catalogue", __name__, url_prefix="/cases")
