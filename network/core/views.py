"""Platform-wide routes: the home page, /healthz and the CSP violation report endpoint."""
from __future__ import annotations

import logging

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from sqlalchemy import text

from network.core import counters
from network.core.access import current_member, public
from network.core.db import db
from network.core.health import run_health_checks
from network.core.mail import transport_status
from network.core.ratelimit import counter
from network.core.security import csrf

bp = Blueprint("home", __name__)
csp_log = logging.getLogger("network.csp")


@bp.get("/")
@public
def index():
    member = current_member()
    if member is None:
        return render_template("core/landing.html")
    if member.status == "pending":
        return redirect(url_for("members.application_status"))
    # "My tasks": what waits for this member by role, every kind counted in one statement (network/core/counters.py)
    return render_template("core/home.html", member=member, tasks=counters.tasks_for(member))


@bp.get("/healthz")
@public
def healthz():
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = {"ok": True, "dialect": db.engine.dialect.name}
    except Exception as error:  # report, never raise: this is what monitoring reads
        checks["database"] = {"ok": False, "error": type(error).__name__}
    ok, detail = transport_status()
    checks["mail"] = {"ok": ok, "transport": detail}
    checks.update(run_health_checks())  # registered by other parts, e.g. the catalogue's search index
    healthy = all(check["ok"] for check in checks.values())
    return jsonify(status="ok" if healthy else "degraded", checks=checks), 200 if healthy else 503


@bp.post("/csp-report")
@public
@csrf.exempt
def csp_report():
    """Browsers report Content-Security-Policy violations here; we log them, throttled per address."""
    if counter().add(f"csp:{request.remote_addr}", 60) > 30:
        return jsonify(error={"code": "too_many", "message": "Too many reports."}), 429
    body = request.get_data(cache=False, as_text=True)[:4000]
    csp_log.warning("csp violation from %s: %r", request.remote_addr, body)
    return "", 204
