"""The JSON API's plumbing: personal access tokens (bearer, scoped), JSON errors, no cookies under /api/, and the
OpenAPI description (/api/v1/openapi.json) that each API module contributes its part to.

A token is shown once; the database keeps only its SHA-256 (crypto.token_digest). API routes never read or
write the session cookie, so a browser's session cannot act through them (and they need no CSRF token):
whoever calls them proves who they are with `Authorization: Bearer <token>` alone."""
from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import timedelta

from flask import Blueprint, Flask, Request, Response, current_app, g, jsonify, request
from flask.sessions import SessionInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from network.core import audit
from network.core.access import public
from network.core.clock import utcnow
from network.core.crypto import new_token, token_digest
from network.core.db import db
from network.core.errors import DomainError
from network.core.sessions import ServerSession
from network.members.models import ApiToken, Member

API_PREFIX = "/api/"
SCOPES = {
    "catalogue:read": _l("Read the catalogue, members-only cases included"),
    "catalogue:write": _l("Submit cases to the catalogue (as drafts)"),
    "directory:read": _l("Read the directory of authorities"),
}
MAX_TOKENS = 20  # live tokens per member: more is a leak waiting to happen
MAX_EXPIRY_DAYS = 366
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is kept to the minute, not written on every call


class TokenError(DomainError):
    """Issuing or revoking a token was refused."""


class ApiError(Exception):
    """Answered as {"error": {"code", "message"}} with its status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str) -> Response:
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    elif status == 403 and code == "insufficient_scope":
        response.headers["WWW-Authenticate"] = 'Bearer realm="api", error="insufficient_scope"'
    return response


# ---------------------------------------------------------------- tokens: issuing, revoking, finding

def live_tokens(member: Member) -> list[ApiToken]:
    now = utcnow()
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.member_id == member.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
    return [t for t in tokens if t.expires_at is None or t.expires_at > now]


def member_tokens(member: Member) -> list[ApiToken]:
    """All of a member's tokens, newest first (revoked and expired ones too, for the record)."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.member_id == member.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def issue_token(member: Member, name: str, scopes: list[str], expires_in_days: int | None) -> tuple[ApiToken, str]:
    """A new token for a vetted member: (the record, the token itself, to show once)."""
    name = (name or "").strip()
    if not member.is_vetted:
        raise TokenError(_("Only members can create access tokens."))
    if not name or len(name) > 100:
        raise TokenError(_("Give the token a name of at most 100 characters."), field="name")
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise TokenError(_("Choose at least one of the scopes offered."), field="scopes")
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise TokenError(_("A token expires after 1 to %(n)d days, or never.", n=MAX_EXPIRY_DAYS), field="expires_in_days")
    if len(live_tokens(member)) >= MAX_TOKENS:
        raise TokenError(_("You have %(n)d live tokens: revoke one first.", n=MAX_TOKENS))
    secret = "pat_" + new_token(32)
    now = utcnow()
    token = ApiToken(member_id=member.id, name=name, token_hash=token_digest(secret),
                     scopes=[scope for scope in SCOPES if scope in scopes], created_at=now,
                     expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None)
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.created", token, actor=member, name=name, scopes=token.scopes,
                 expires_at=token.expires_at.isoformat() if token.expires_at else None)
    return token, secret


def revoke_token(token: ApiToken, member: Member) -> None:
    if token.member_id != member.id:
        raise TokenError(_("You can revoke only your own tokens."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record("api_token.revoked", token, actor=member, name=token.name)


def token_state(token: ApiToken) -> str:
    """live, expired or revoked."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= utcnow():
        return "expired"
    return "live"


def authenticate(header: str | None) -> ApiToken | None:
    """The live token an Authorization header carries; None when there is no header.
    Raises ApiError 401 for a malformed, unknown, revoked or expired token, or one of a member no longer vetted."""
    if header is None:
        return None
    scheme, _sep, secret = header.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret or len(secret) > 200:
        raise ApiError(401, "invalid_token", _("Send a personal access token as: Authorization: Bearer <token>."))
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(secret)))
    if token is None or token_state(token) != "live" or not token.member.is_vetted:
        raise ApiError(401, "invalid_token", _("This access token is unknown, revoked or expired."))
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = now
    return token


# ---------------------------------------------------------------- views

MAX_INT_ARG = 100_000  # no page or page size a reader asks for is larger; larger overflowed SQL's OFFSET (500)


def int_arg(name: str, default: int, maximum: int = MAX_INT_ARG) -> int:
    """A positive whole number from the query string (page, per_page), at most `maximum`; ValueError with a
    message to answer 400."""
    value = request.args.get(name, "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit()) or len(value) > 12 or int(value) < 1:
        raise ValueError(_("%(name)s must be a positive whole number.", name=name))
    if int(value) > maximum:
        raise ValueError(_("%(name)s must be at most %(maximum)d.", name=name, maximum=maximum))
    return int(value)


def api_member(scope: str | None = None) -> Member | None:
    """The member whose token this request carries, if the token has `scope` (any token when scope is None)."""
    token = g.get("api_token")
    if token is None or (scope and scope not in token.scopes):
        return None
    return token.member


def api_view(scope: str | None = None, *requirements, token_required: bool = False):
    """Guard a JSON view. Without a token the caller is anonymous (allowed unless token_required); a token given
    must be live (else 401) and hold `scope` (else 403); the token's member must meet every requirement (403).
    Views open to anonymous callers count as public for the route table test; the others carry requirements."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            try:
                token = authenticate(request.headers.get("Authorization"))
                if token is None and token_required:
                    raise ApiError(401, "authentication_required",
                                   _("This operation needs a personal access token (Authorization: Bearer <token>)."))
                if token is not None and scope and scope not in token.scopes:
                    raise ApiError(403, "insufficient_scope",
                                   _("This access token lacks the scope %(scope)s.", scope=scope))
                if token is not None and not all(requirement(token.member) for requirement in requirements):
                    raise ApiError(403, "forbidden", _("Your account does not allow this operation."))
            except ApiError as error:
                return error_response(error.status, error.code, error.message)
            g.api_token = token
            return view(*args, **kwargs)

        if token_required:
            wrapped.requirements = requirements or (lambda member: True,)  # type: ignore[attr-defined]
        else:
            wrapped.public = True  # type: ignore[attr-defined]
        return wrapped

    return decorator


# ---------------------------------------------------------------- no session under /api/

def is_api_request(req: Request) -> bool:
    return req.path.startswith(API_PREFIX)


class ApiAwareSessionInterface(SessionInterface):
    """Leaves API requests without a session (the cookie is neither read nor written); others go to `inner`."""

    def __init__(self, inner: SessionInterface) -> None:
        self.inner = inner

    def open_session(self, app: Flask, request: Request):  # noqa: A002 (Flask's own parameter name)
        if is_api_request(request):
            return ServerSession()
        return self.inner.open_session(app, request)

    def save_session(self, app: Flask, session, response: Response) -> None:
        from flask import request as current_request

        if is_api_request(current_request._get_current_object()):
            return
        self.inner.save_session(app, session, response)


def configure_api(app: Flask) -> None:
    """Call after the session interface is set: API requests then carry no session at all."""
    if not isinstance(app.session_interface, ApiAwareSessionInterface):
        app.session_interface = ApiAwareSessionInterface(app.session_interface)


# ---------------------------------------------------------------- the OpenAPI description

OPENAPI_FRAGMENTS_KEY = "network.openapi_fragments"
OPENAPI_TEXT_KEY = "network.openapi_text"

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def register_openapi(app: Flask, fragment: Callable[[], dict]) -> None:
    """An API module adds its part of the description, per application (so the network never imports the
    catalogue). `fragment()` returns a partial OpenAPI document, every key optional: {"info": {"description":
    "a paragraph"}, "tags": [...], "components": {"schemas": {...}}, "paths": {...}}. Register it when the
    module's blueprint is registered (Blueprint.record_once)."""
    fragments = app.extensions.setdefault(OPENAPI_FRAGMENTS_KEY, [])
    if fragment not in fragments:
        fragments.append(fragment)
        app.extensions.pop(OPENAPI_TEXT_KEY, None)


def openapi_error(description: str) -> dict:
    """A response of the description whose body is the common Error schema."""
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _base_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Practitioner network API",
            "version": "1.0.0",
            "description": "The JSON API of the secure network of practitioners in international cooperation in "
                           "criminal matters (UNTOC). A personal access token is created on the account's security "
                           "page and sent as Authorization: Bearer <token>; its scopes say what it may do. Errors "
                           'are {"error": {"code": "...", "message": "..."}} with the status that fits.',
        },
        "servers": [{"url": "/api/v1"}],
        "tags": [],
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "A personal access token: Authorization: Bearer <token>. Scopes: "
                                              + ", ".join(SCOPES) + "."},
            },
            "schemas": {
                "Error": {
                    "type": "object", "required": ["error"], "additionalProperties": False,
                    "properties": {"error": {
                        "type": "object", "required": ["code", "message"],
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                       "problems": {"type": "array", "items": {"type": "string"},
                                                    "description": "Each problem names its field."}},
                    }},
                },
            },
        },
        "paths": {},
    }


def _openapi_path() -> dict:
    return {"get": {"operationId": "openapi", "summary": "This description", "security": [{}],
                    "responses": {"200": {"description": "The OpenAPI 3.1 description.",
                                          "content": {"application/json": {}}}}}}


def assemble_openapi(fragments: list[Callable[[], dict]]) -> dict:
    """The whole description: the common part, then each fragment in the order registered. Two fragments naming
    the same path, schema or tag is a mistake in the code, refused here rather than silently overwritten."""
    document = _base_document()
    schemas, paths = document["components"]["schemas"], document["paths"]
    descriptions = [document["info"]["description"]]
    for fragment in fragments:
        part = fragment()
        for name, schema in part.get("components", {}).get("schemas", {}).items():
            if name in schemas:
                raise ValueError(f"OpenAPI schema {name!r} is contributed twice")
            schemas[name] = schema
        for path, item in part.get("paths", {}).items():
            if path in paths:
                raise ValueError(f"OpenAPI path {path!r} is contributed twice")
            paths[path] = item
        for tag in part.get("tags", []):
            if any(known["name"] == tag["name"] for known in document["tags"]):
                raise ValueError(f"OpenAPI tag {tag['name']!r} is contributed twice")
            document["tags"].append(tag)
        if part.get("info", {}).get("description"):
            descriptions.append(part["info"]["description"])
    document["info"]["description"] = "\n\n".join(descriptions)
    # The Error schema last and this description's own path last, where the catalogue's document had them.
    schemas["Error"] = schemas.pop("Error")
    paths["/openapi.json"] = _openapi_path()
    if not document["tags"]:
        del document["tags"]
    return document


def openapi_text(app: Flask | None = None) -> str:
    """The description as served, built once per application from the fragments registered."""
    app = app or current_app
    text = app.extensions.get(OPENAPI_TEXT_KEY)
    if text is None:
        text = json.dumps(assemble_openapi(app.extensions.get(OPENAPI_FRAGMENTS_KEY, [])), ensure_ascii=False,
                          indent=2)
        app.extensions[OPENAPI_TEXT_KEY] = text
    return text


def openapi_document(app: Flask | None = None) -> dict:
    """The OpenAPI 3.1 description of this API (a fresh copy: callers may change it)."""
    return json.loads(openapi_text(app))


@bp.get("/openapi.json")
@public
def openapi():
    return Response(openapi_text(), mimetype="application/json")
