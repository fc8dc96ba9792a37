"""The route x role table: every rule of app.url_map, every role, the status each one must get.

Each role gets its own application and database, so that what one role does cannot change what another sees.
POSTs carry a valid CSRF token from a page of the same client: this table tests access, not CSRF
(test_hardening.py tests CSRF). Placeholders in URLs ({application}, {target}, ...) are concrete ids
of objects made by `make_world`."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from tests.conftest import csrf_token, current_code

ROLES = ("anonymous", "applicant", "member", "other_member", "focal_point", "moderator", "admin")

SIGN_IN = (302, "/sign-in")
HOME = (302, "/")
STATUS_PAGE = (302, "/application")
REAUTH = (302, "/reauthenticate")
SECURITY = (302, "/account/security")
MANAGE = (302, "/members/{target}/manage")
RECONFIRMATIONS = (302, "/reconfirmations")
MY_CASES = (302, "/cases/mine")
CASE_REVIEW = (302, "/cases/{submitted_case}/review")
TOKENS = (302, "/account/tokens")
FORUM = (302, "/forum/")
OPEN_TOPIC = (302, "/forum/topics/{open_topic}")
NOTIFICATIONS = (302, "/forum/notifications")
MESSAGES = (302, "/messages/")
MAILBOX = (302, "/messages/mailboxes/AUT-MOJ")
VERIFIED = (302, "/messages/verify/{other_member_id}")
REQUEST = (302, "/requests/{sent_request}")


def cells(anonymous, applicant, member, other_member, focal_point, moderator, admin) -> dict:
    """One row's expectations, in the order of ROLES (the column headers below)."""
    return dict(zip(ROLES, (anonymous, applicant, member, other_member, focal_point, moderator, admin), strict=True))


# Rows marked "fresh client" end the session that sends them (sign-out, revoking the current session):
# they are sent from a newly signed-in client of the same role, so later rows keep their session.
FRESH_CLIENT = {("POST", "/sign-out"), ("POST", "/account/sessions/{current_session}/revoke")}

# Within REAUTH_WINDOW of signing in (sign-in counts as fresh authentication).
#   method  url                                              anonymous  applicant    member     other      focal      moderator  admin
TABLE: list[tuple[str, str, dict]] = [
    # ---- platform
    ("GET", "/",                                        cells(200,      STATUS_PAGE, 200,       200,       200,       200,       200)),
    ("GET", "/healthz",                                 cells(200,      200,         200,       200,       200,       200,       200)),
    ("POST", "/csp-report",                             cells(204,      204,         204,       204,       204,       204,       204)),
    # ---- the language menu (a visitor's cookie; a member's profile: without a language the form is refused)
    ("GET", "/language/fr?next=/cases",                 cells((302, "/cases"), (302, "/cases"), (302, "/cases"), (302, "/cases"), (302, "/cases"), (302, "/cases"), (302, "/cases"))),
    ("POST", "/language",                               cells(400,      400,         400,       400,       400,       400,       400)),
    # ---- applying (public; a signed-in visitor is sent home)
    ("GET", "/apply",                                   cells(200,      HOME,        HOME,      HOME,      HOME,      HOME,      HOME)),
    ("POST", "/apply",                                  cells(400,      HOME,        HOME,      HOME,      HOME,      HOME,      HOME)),
    ("GET", "/apply/sent",                              cells(200,      200,         200,       200,       200,       200,       200)),
    ("GET", "/apply/verify/{verify_token}",             cells(200,      200,         200,       200,       200,       200,       200)),
    ("GET", "/apply/verify/not-a-token",                cells(400,      400,         400,       400,       400,       400,       400)),
    ("GET", "/apply/answer/{info_token}",               cells(200,      200,         200,       200,       200,       200,       200)),
    ("POST", "/apply/answer/{info_token}",              cells(400,      400,         400,       400,       400,       400,       400)),
    ("GET", "/application",                             cells(SIGN_IN,  200,         HOME,      HOME,      HOME,      HOME,      HOME)),
    # ---- signing in and out
    ("GET", "/sign-in",                                 cells(200,      HOME,        HOME,      HOME,      HOME,      HOME,      HOME)),
    ("POST", "/sign-in",                                cells(400,      HOME,        HOME,      HOME,      HOME,      HOME,      HOME)),
    ("GET", "/sign-in/verify",                          cells(SIGN_IN,  SIGN_IN,     SIGN_IN,   SIGN_IN,   SIGN_IN,   SIGN_IN,   SIGN_IN)),
    ("POST", "/sign-in/verify",                         cells(SIGN_IN,  SIGN_IN,     SIGN_IN,   SIGN_IN,   SIGN_IN,   SIGN_IN,   SIGN_IN)),
    ("GET", "/sign-in/enrol",                           cells(SIGN_IN,  SIGN_IN,     SIGN_IN,   SIGN_IN,   SIGN_IN,   SIGN_IN,   SIGN_IN)),
    ("POST", "/sign-in/enrol",                          cells(SIGN_IN,  SIGN_IN,     SIGN_IN,   SIGN_IN,   SIGN_IN,   SIGN_IN,   SIGN_IN)),
    ("GET", "/sign-in/enrol/qr.svg",                    cells(404,      404,         404,       404,       404,       404,       404)),
    ("POST", "/sign-out",                               cells(SIGN_IN,  SIGN_IN,     SIGN_IN,   SIGN_IN,   SIGN_IN,   SIGN_IN,   SIGN_IN)),
    ("GET", "/reauthenticate",                          cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("POST", "/reauthenticate",                         cells(401,      403,         400,       400,       400,       400,       400)),
    # ---- passwords
    ("GET", "/password/forgot",                         cells(200,      200,         200,       200,       200,       200,       200)),
    ("POST", "/password/forgot",                        cells(400,      400,         400,       400,       400,       400,       400)),
    ("GET", "/password/reset/{reset_token}",            cells(200,      200,         200,       200,       200,       200,       200)),
    ("POST", "/password/reset/{reset_token}",           cells(400,      400,         400,       400,       400,       400,       400)),
    ("GET", "/account/password",                        cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("POST", "/account/password",                       cells(401,      403,         400,       400,       400,       400,       400)),
    # ---- the member's own security page and sessions
    ("GET", "/account/security",                        cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("POST", "/account/sessions/{victim_session}/revoke",
                                                        cells(401,      403,         404,       404,       404,       404,       404)),
    ("POST", "/account/sessions/{current_session}/revoke",
                                                        cells(401,      403,         SIGN_IN,   SIGN_IN,   SIGN_IN,   SIGN_IN,   SIGN_IN)),
    ("POST", "/account/sessions/revoke-others",         cells(401,      403,         SECURITY,  SECURITY,  SECURITY,  SECURITY,  SECURITY)),
    ("GET", "/account/recovery-codes",                  cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("POST", "/account/recovery-codes",                 cells(401,      403,         200,       200,       200,       200,       200)),
    # ---- focal points and referees (an empty form is refused with 400 once access is granted)
    ("GET", "/vouching",                                cells(SIGN_IN,  403,         403,       403,       200,       403,       403)),
    ("POST", "/vouching/{application}",                 cells(401,      403,         403,       403,       400,       403,       403)),
    ("POST", "/vouching/{foreign_application}",         cells(401,      403,         403,       403,       404,       403,       403)),
    ("POST", "/vouching/999999",                        cells(401,      403,         403,       403,       404,       403,       403)),
    ("GET", "/referee-requests",                        cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("POST", "/referee-requests/{application}",         cells(401,      403,         400,       404,       404,       404,       404)),
    ("GET", "/reconfirmations",                         cells(SIGN_IN,  403,         403,       403,       200,       200,       403)),
    ("POST", "/members/{target}/reconfirm",             cells(401,      403,         403,       403,       RECONFIRMATIONS, RECONFIRMATIONS, 403)),
    ("POST", "/members/{foreign_target}/reconfirm",     cells(401,      403,         403,       403,       404,       RECONFIRMATIONS, 403)),
    # ---- vetting
    ("GET", "/vetting",                                 cells(SIGN_IN,  403,         403,       403,       403,       200,       403)),
    ("GET", "/vetting/{application}",                   cells(SIGN_IN,  403,         403,       403,       403,       200,       403)),
    ("GET", "/vetting/999999",                          cells(SIGN_IN,  403,         403,       403,       403,       404,       403)),
    ("POST", "/vetting/{application}/decide",           cells(401,      403,         403,       403,       403,       400,       403)),
    # ---- managing members
    ("GET", "/members",                                 cells(SIGN_IN,  403,         403,       403,       403,       200,       200)),
    ("GET", "/members/{target}/manage",                 cells(SIGN_IN,  403,         403,       403,       403,       200,       200)),
    ("POST", "/members/{target}/suspend",               cells(401,      403,         403,       403,       403,       400,       400)),
    ("POST", "/members/{target}/reinstate",             cells(401,      403,         403,       403,       403,       MANAGE,    MANAGE)),
    # role limits: only administrators act on moderators and administrators (an empty suspension form is a 400)
    ("POST", "/members/{other_moderator}/suspend",      cells(401,      403,         403,       403,       403,       403,       400)),
    ("POST", "/members/{admin_id}/suspend",             cells(401,      403,         403,       403,       403,       403,       400)),
    ("POST", "/members/{other_moderator}/reinstate",    cells(401,      403,         403,       403,       403,       403,
                                                              (302, "/members/{other_moderator}/manage"))),
    ("POST", "/members/{admin_id}/reinstate",           cells(401,      403,         403,       403,       403,       403,
                                                              (302, "/members/{admin_id}/manage"))),
    ("POST", "/members/{target}/deactivate",            cells(401,      403,         403,       403,       403,       403,       MANAGE)),
    ("POST", "/members/{target}/roles",                 cells(401,      403,         403,       403,       403,       403,       MANAGE)),
    ("POST", "/members/{target}/roles/{focal_grant}/withdraw",
                                                        cells(401,      403,         403,       403,       403,       403,       404)),
    ("POST", "/members/{target}/roles/{target_grant}/withdraw",
                                                        cells(401,      403,         403,       403,       403,       403,       MANAGE)),
    # ---- audit log
    ("GET", "/audit",                                   cells(SIGN_IN,  403,         403,       403,       403,       200,       200)),
    # ---- one box: cases for anyone, forum posts and authorities too for vetted members
    ("GET", "/search",                                  cells(200,      200,         200,       200,       200,       200,       200)),
    ("GET", "/search?q=extradition",                    cells(200,      200,         200,       200,       200,       200,       200)),
    # one kind's full results (authorities: an empty group for those the directory is not shown to); no such kind: 404
    ("GET", "/search?kind=authorities&q=justice",       cells(200,      200,         200,       200,       200,       200,       200)),
    ("GET", "/search?kind=messages&q=justice",          cells(404,      404,         404,       404,       404,       404,       404)),
    # ---- catalogue: reading (listing, case pages, history, exports, statistics)
    ("GET", "/cases",                                   cells(200,      200,         200,       200,       200,       200,       200)),
    ("GET", "/cases/export.csv",                        cells(200,      200,         200,       200,       200,       200,       200)),
    ("GET", "/cases/export.jsonl",                      cells(200,      200,         200,       200,       200,       200,       200)),
    ("GET", "/cases/statistics",                        cells(200,      200,         200,       200,       200,       200,       200)),
    ("GET", "/cases/{public_case}",                     cells(200,      200,         200,       200,       200,       200,       200)),
    ("GET", "/cases/{members_case}",                    cells(404,      404,         200,       200,       200,       200,       200)),
    ("GET", "/cases/{draft_case}",                      cells(404,      404,         200,       404,       404,       404,       404)),
    ("GET", "/cases/{submitted_case}",                  cells(404,      404,         200,       404,       404,       200,       404)),
    ("GET", "/cases/CASE-NOWHERE-1",                    cells(404,      404,         404,       404,       404,       404,       404)),
    ("GET", "/cases/{public_case}/print",               cells(200,      200,         200,       200,       200,       200,       200)),
    ("GET", "/cases/{members_case}/print",              cells(404,      404,         200,       200,       200,       200,       200)),
    ("GET", "/cases/{draft_case}/print",                cells(404,      404,         200,       404,       404,       404,       404)),
    ("GET", "/cases/{public_case}/history",             cells(200,      200,         200,       200,       200,       200,       200)),
    ("GET", "/cases/{members_case}/history",            cells(404,      404,         200,       200,       200,       200,       200)),
    ("GET", "/cases/{submitted_case}/history",          cells(404,      404,         200,       404,       404,       200,       404)),
    ("GET", "/cases/{public_case}/diff?from=1&to=1",    cells(200,      200,         200,       200,       200,       200,       200)),
    ("GET", "/cases/{members_case}/diff?from=1&to=1",   cells(404,      404,         200,       200,       200,       200,       200)),
    ("GET", "/cases/{public_case}/diff?from=1&to=2",    cells(404,      404,         404,       404,       404,       404,       404)),
    ("GET", "/cases/{public_case}/diff?from=x&to=1",    cells(400,      400,         400,       400,       400,       400,       400)),
    ("GET", "/cases/{members_case}/diff?from=x&to=1",   cells(404,      404,         400,       400,       400,       400,       400)),
    ("GET", "/cases/{draft_case}/diff",                 cells(404,      404,         404,       404,       404,       404,       404)),
    # ---- catalogue: submitting and reviewing (wizard, my cases, review queue, decisions)
    # Only the submitter opens a draft (404 for everyone else); POSTs carrying only a CSRF token are refused by
    # the form (400: no button pressed, no confirmation, no note or reason) or by the workflow (400: not
    # reviewable); the last row changes state (submitted -> in review) and comes last on purpose.
    ("GET", "/cases/new",                               cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("POST", "/cases/new",                              cells(401,      403,         302,       302,       302,       302,       302)),
    ("GET", "/cases/drafts/{draft_case}/step/1",        cells(SIGN_IN,  403,         200,       404,       404,       404,       404)),
    ("GET", "/cases/drafts/{draft_case}/step/4",        cells(SIGN_IN,  403,         200,       404,       404,       404,       404)),
    ("GET", "/cases/drafts/{draft_case}/step/9",        cells(SIGN_IN,  403,         404,       404,       404,       404,       404)),
    ("GET", "/cases/drafts/{submitted_case}/step/1",    cells(SIGN_IN,  403,         MY_CASES,  404,       404,       404,       404)),
    ("GET", "/cases/drafts/CASE-NOWHERE-1/step/1",      cells(SIGN_IN,  403,         404,       404,       404,       404,       404)),
    ("POST", "/cases/drafts/{draft_case}/step/1",       cells(401,      403,         400,       404,       404,       404,       404)),
    ("POST", "/cases/drafts/{draft_case}/submit",       cells(401,      403,         400,       404,       404,       404,       404)),
    ("POST", "/cases/drafts/{submitted_case}/submit",   cells(401,      403,         MY_CASES,  404,       404,       404,       404)),
    ("GET", "/cases/mine",                              cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/cases/review",                            cells(SIGN_IN,  403,         403,       403,       403,       200,       403)),
    ("GET", "/cases/{submitted_case}/review",           cells(SIGN_IN,  403,         403,       403,       403,       200,       403)),
    ("GET", "/cases/{public_case}/review",              cells(SIGN_IN,  403,         403,       403,       403,       200,       403)),
    ("GET", "/cases/{draft_case}/review",               cells(SIGN_IN,  403,         403,       403,       403,       404,       403)),
    ("POST", "/cases/{submitted_case}/review/changes",  cells(401,      403,         403,       403,       403,       400,       403)),
    ("POST", "/cases/{draft_case}/review/changes",      cells(401,      403,         403,       403,       403,       404,       403)),
    ("POST", "/cases/{public_case}/review/publish",     cells(401,      403,         403,       403,       403,       400,       403)),
    ("POST", "/cases/{draft_case}/review/publish",      cells(401,      403,         403,       403,       403,       404,       403)),
    ("POST", "/cases/{public_case}/review/start",       cells(401,      403,         403,       403,       403,       400,       403)),
    ("GET", "/cases/{public_case}/withdraw",            cells(SIGN_IN,  403,         200,       404,       404,       200,       404)),
    ("GET", "/cases/{submitted_case}/withdraw",         cells(SIGN_IN,  403,         404,       404,       404,       404,       404)),
    ("POST", "/cases/{public_case}/withdraw",           cells(401,      403,         400,       404,       404,       400,       404)),
    ("POST", "/cases/{members_case}/withdraw",          cells(401,      403,         404,       400,       404,       400,       404)),
    ("POST", "/cases/{submitted_case}/revise",          cells(401,      403,         400,       404,       404,       404,       404)),
    ("POST", "/cases/{draft_case}/revise",              cells(401,      403,         400,       404,       404,       404,       404)),
    ("POST", "/cases/{submitted_case}/review/start",    cells(401,      403,         403,       403,       403,       CASE_REVIEW, 403)),
    # ---- catalogue: JSON API and tokens
    # The API never reads the session cookie: whoever is signed in, it answers as to an anonymous caller
    # (members-only cases and submitting need a bearer token: tests/test_api.py).
    ("GET", "/api/v1/openapi.json",                     cells(200,      200,         200,       200,       200,       200,       200)),
    ("GET", "/api/v1/cases",                            cells(200,      200,         200,       200,       200,       200,       200)),
    ("GET", "/api/v1/cases/{public_case}",              cells(200,      200,         200,       200,       200,       200,       200)),
    ("GET", "/api/v1/cases/{members_case}",             cells(404,      404,         404,       404,       404,       404,       404)),
    ("GET", "/api/v1/cases/{draft_case}",               cells(404,      404,         404,       404,       404,       404,       404)),
    ("POST", "/api/v1/cases",                           cells(401,      401,         401,       401,       401,       401,       401)),
    ("GET", "/account/tokens",                          cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("POST", "/account/tokens",                         cells(401,      403,         400,       400,       400,       400,       400)),
    ("POST", "/account/tokens/{token}/revoke",          cells(401,      403,         TOKENS,    404,       404,       404,       404)),
    # ---- directory: pages for vetted members (browse and filters, States, authority pages, finder, print)
    # Invalid finder questions get 400 with the reason on the page; unknown States and authorities 404.
    ("GET", "/directory/",                              cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/directory/?designation=untoc_mla_central&available_24_7=1&stale=0&q=justice",
                                                        cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/directory/states/AUT",                    cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/directory/states/XYZ",                    cells(SIGN_IN,  403,         404,       404,       404,       404,       404)),
    ("GET", "/directory/AUT-MOJ",                       cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/directory/AUT-NOWHERE",                   cells(SIGN_IN,  403,         404,       404,       404,       404,       404)),
    ("GET", "/directory/finder",                        cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/directory/finder?state=NGA&form=extradition&urgent=1",
                                                        cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/directory/finder?state=XYZ&form=nothing", cells(SIGN_IN,  403,         400,       400,       400,       400,       400)),
    ("GET", "/directory/print",                         cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/directory/print?state=AUT",               cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    # ---- directory: JSON API. It never reads the session cookie and always needs a bearer token with directory:read,
    # so every role gets 401 here (tokens, scopes, 403 and 404: tests/test_directory_api.py).
    ("GET", "/api/v1/authorities",                      cells(401,      401,         401,       401,       401,       401,       401)),
    ("GET", "/api/v1/authorities/AUT-MOJ",              cells(401,      401,         401,       401,       401,       401,       401)),
    # ---- directory: keeping entries current (only the authority's own focal points propose, moderators review)
    # {change} is the focal point's open proposal for AUT-MOJ. The last rows change state on purpose: the
    # re-confirmations, the proposer withdrawing it (focal point) and approving it (moderator).
    ("GET", "/directory/mine",                          cells(SIGN_IN,  403,         403,       403,       200,       403,       403)),
    ("GET", "/directory/AUT-MOJ/propose",               cells(SIGN_IN,  403,         403,       403,       200,       403,       403)),
    ("GET", "/directory/NGA-CA/propose",                cells(SIGN_IN,  403,         403,       403,       403,       403,       403)),
    ("GET", "/directory/AUT-NOWHERE/propose",           cells(SIGN_IN,  403,         403,       403,       404,       403,       403)),
    ("POST", "/directory/AUT-MOJ/propose",              cells(401,      403,         403,       403,       400,       403,       403)),
    ("POST", "/directory/NGA-CA/propose",               cells(401,      403,         403,       403,       403,       403,       403)),
    ("GET", "/directory/AUT-MOJ/history",               cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/directory/AUT-NOWHERE/history",           cells(SIGN_IN,  403,         404,       404,       404,       404,       404)),
    ("GET", "/directory/AUT-MOJ/history/1",             cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/directory/AUT-MOJ/history/99",            cells(SIGN_IN,  403,         404,       404,       404,       404,       404)),
    ("GET", "/directory/changes",                       cells(SIGN_IN,  403,         403,       403,       403,       200,       403)),
    ("GET", "/directory/changes/{change}",              cells(SIGN_IN,  403,         403,       403,       403,       200,       403)),
    ("GET", "/directory/changes/999999",                cells(SIGN_IN,  403,         403,       403,       403,       404,       403)),
    ("POST", "/directory/changes/{change}/return",      cells(401,      403,         403,       403,       403,       400,       403)),
    ("POST", "/directory/changes/999999/approve",       cells(401,      403,         403,       403,       403,       404,       403)),
    ("POST", "/directory/changes/999999/withdraw",      cells(401,      403,         403,       403,       404,       403,       403)),
    ("POST", "/directory/NGA-CA/reconfirm",             cells(401,      403,         403,       403,       403,       (302, "/directory/NGA-CA"), 403)),
    ("POST", "/directory/AUT-MOJ/reconfirm",            cells(401,      403,         403,       403,       (302, "/directory/AUT-MOJ"), (302, "/directory/AUT-MOJ"), 403)),
    ("POST", "/directory/changes/{change}/withdraw",    cells(401,      403,         403,       403,       (302, "/directory/mine"), 403, 403)),
    ("POST", "/directory/changes/{change}/approve",     cells(401,      403,         403,       403,       403,       (302, "/directory/changes"), 403)),
    # ---- messaging ({conversation} is member's message to other_member: only its participants open it; moderators
    # and administrators get 404 like any outsider). Every actor's recovery key is confirmed, so that page sends
    # back to the inbox; POSTs carrying only a CSRF token are refused by the form (400).
    ("GET", "/messages/",                               cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/messages/archived",                       cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/messages/new",                            cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("POST", "/messages/new",                           cells(401,      403,         400,       400,       400,       400,       400)),
    ("GET", "/messages/{conversation}",                 cells(SIGN_IN,  403,         200,       200,       404,       404,       404)),
    ("GET", "/messages/999999",                         cells(SIGN_IN,  403,         404,       404,       404,       404,       404)),
    ("POST", "/messages/{conversation}/reply",          cells(401,      403,         400,       400,       404,       404,       404)),
    ("GET", "/messages/{conversation}/export",          cells(SIGN_IN,  403,         200,       200,       404,       404,       404)),
    ("POST", "/messages/{conversation}/archive",        cells(401,      403,         MESSAGES,  MESSAGES,  404,       404,       404)),
    ("POST", "/messages/{conversation}/unarchive",      cells(401,      403,         MESSAGES,  MESSAGES,  404,       404,       404)),
    ("POST", "/messages/999999/archive",                cells(401,      403,         404,       404,       404,       404,       404)),
    ("GET", "/messages/recovery-key",                   cells(SIGN_IN,  403,         MESSAGES,  MESSAGES,  MESSAGES,  MESSAGES,  MESSAGES)),
    ("POST", "/messages/recovery-key",                  cells(401,      403,         MESSAGES,  MESSAGES,  MESSAGES,  MESSAGES,  MESSAGES)),
    ("GET", "/messages/restore",                        cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("POST", "/messages/restore",                       cells(401,      403,         400,       400,       400,       400,       400)),
    # attachments: only the conversation's participants download; a missing file id answers 404
    ("GET", "/messages/{conversation}/files/{first_message}/{file_id}",
                                                        cells(SIGN_IN,  403,         200,       200,       404,       404,       404)),
    ("GET", "/messages/{conversation}/files/{first_message}/f-00000000000000000000000000000000",
                                                        cells(SIGN_IN,  403,         404,       404,       404,       404,       404)),
    # authority mailboxes: focal_point opened AUT-MOJ's and holds it; other_member wrote {mailbox_conversation} to it.
    # Holding a mailbox is what opens it, never a role; POSTs with only a CSRF token come back with a message.
    ("GET", "/messages/mailboxes",                      cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/messages/mailboxes/AUT-MOJ",              cells(SIGN_IN,  403,         404,       404,       200,       404,       404)),
    ("GET", "/messages/mailboxes/NGA-CA",               cells(SIGN_IN,  403,         404,       404,       404,       404,       404)),
    ("GET", "/messages/mailboxes/NOPE",                 cells(SIGN_IN,  403,         404,       404,       404,       404,       404)),
    ("POST", "/messages/mailboxes/AUT-MOJ/open",        cells(401,      403,         404,       404,       MAILBOX,   404,       404)),
    ("POST", "/messages/mailboxes/AUT-MOJ/grant",       cells(401,      403,         404,       404,       MAILBOX,   404,       404)),
    ("POST", "/messages/mailboxes/AUT-MOJ/remove/{target}",
                                                        cells(401,      403,         404,       404,       MAILBOX,   404,       404)),
    ("GET", "/messages/authority/AUT-MOJ",              cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("POST", "/messages/authority/AUT-MOJ",             cells(401,      403,         400,       400,       400,       400,       400)),
    ("GET", "/messages/authority/NGA-CA",               cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/messages/authority/NOPE",                 cells(SIGN_IN,  403,         404,       404,       404,       404,       404)),
    ("GET", "/messages/{mailbox_conversation}",         cells(SIGN_IN,  403,         404,       200,       200,       404,       404)),
    ("POST", "/messages/{mailbox_conversation}/reply",  cells(401,      403,         404,       400,       400,       404,       404)),
    ("POST", "/messages/{mailbox_conversation}/archive", cells(401,     403,         404,       MESSAGES,  MESSAGES,  404,       404)),
    ("POST", "/messages/{mailbox_conversation}/unarchive", cells(401,   403,         404,       MESSAGES,  MESSAGES,  404,       404)),
    # key verification: any vetted member compares with another who has keys (not with themselves)
    ("GET", "/messages/verify/{other_member_id}",       cells(SIGN_IN,  403,         200,       404,       200,       200,       200)),
    ("GET", "/messages/verify/999999",                  cells(SIGN_IN,  403,         404,       404,       404,       404,       404)),
    ("POST", "/messages/verify/{other_member_id}",      cells(401,      403,         VERIFIED,  404,       VERIFIED,  VERIFIED,  VERIFIED)),
    # reports: a participant reports a message they received (not their own); moderators see the queue
    ("GET", "/messages/{conversation}/report/{first_message}",
                                                        cells(SIGN_IN,  403,         404,       200,       404,       404,       404)),
    ("POST", "/messages/{conversation}/report/{first_message}",
                                                        cells(401,      403,         404,       400,       404,       404,       404)),
    ("GET", "/messages/reports",                        cells(SIGN_IN,  403,         403,       403,       403,       200,       403)),
    ("POST", "/messages/reports/999999/resolve",        cells(401,      403,         403,       403,       403,       404,       403)),
    # ---- forum (open spaces for every vetted member; WACAP's space is restricted to its group, of which only
    # other_member is a member: outsiders get 404 on its topics, posts and forms, so their existence is not revealed).
    # {open_topic} is member's question in the open space with other_member's reply {reply_post}; POSTs carrying only
    # a CSRF token are refused by the form (400) or by the rule (403/404). The last rows change state on purpose.
    ("GET", "/forum/",                                  cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/forum/new",                               cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/forum/search?q=extradition",              cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/forum/spaces/general",                    cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/forum/spaces/wacap",                      cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/forum/spaces/nowhere",                    cells(SIGN_IN,  403,         404,       404,       404,       404,       404)),
    ("GET", "/forum/spaces/general/new",                cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/forum/spaces/wacap/new",                  cells(SIGN_IN,  403,         404,       200,       404,       200,       404)),
    ("POST", "/forum/spaces/general/new",               cells(401,      403,         400,       400,       400,       400,       400)),
    ("POST", "/forum/spaces/wacap/new",                 cells(401,      403,         404,       400,       404,       400,       404)),
    ("POST", "/forum/spaces/general/subscription",      cells(401,      403,         400,       400,       400,       400,       400)),
    ("POST", "/forum/spaces/wacap/subscription",        cells(401,      403,         404,       400,       404,       400,       404)),
    ("GET", "/forum/topics/{open_topic}",               cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/forum/topics/{secret_topic}",             cells(SIGN_IN,  403,         404,       200,       404,       200,       404)),
    ("GET", "/forum/topics/999999",                     cells(SIGN_IN,  403,         404,       404,       404,       404,       404)),
    ("POST", "/forum/topics/{open_topic}/reply",        cells(401,      403,         400,       400,       400,       400,       400)),
    ("POST", "/forum/topics/{secret_topic}/reply",      cells(401,      403,         404,       400,       404,       400,       404)),
    ("POST", "/forum/topics/{open_topic}/subscription", cells(401,      403,         400,       400,       400,       400,       400)),
    ("POST", "/forum/topics/{secret_topic}/subscription",
                                                        cells(401,      403,         404,       400,       404,       400,       404)),
    ("POST", "/forum/topics/{open_topic}/moderate",     cells(401,      403,         403,       403,       403,       400,       403)),
    ("POST", "/forum/topics/{secret_topic}/moderate",   cells(401,      403,         404,       403,       404,       400,       404)),
    ("GET", "/forum/posts/{open_post}/edit",            cells(SIGN_IN,  403,         200,       403,       403,       403,       403)),
    ("GET", "/forum/posts/{secret_post}/edit",          cells(SIGN_IN,  403,         404,       200,       404,       403,       404)),
    ("POST", "/forum/posts/{open_post}/edit",           cells(401,      403,         400,       403,       403,       403,       403)),
    ("GET", "/forum/posts/{open_post}/history",         cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/forum/posts/{secret_post}/history",       cells(SIGN_IN,  403,         404,       200,       404,       200,       404)),
    ("POST", "/forum/posts/{reply_post}/hide",          cells(401,      403,         403,       403,       403,       400,       403)),
    ("POST", "/forum/posts/{secret_post}/hide",         cells(401,      403,         404,       403,       404,       400,       404)),
    ("GET", "/forum/groups/wacap/requests",             cells(SIGN_IN,  403,         403,       403,       403,       200,       403)),
    ("GET", "/forum/groups/nowhere/requests",           cells(SIGN_IN,  403,         404,       404,       404,       404,       404)),
    ("POST", "/forum/join-requests/{join_request}/decide",
                                                        cells(401,      403,         403,       403,       403,       400,       403)),
    ("POST", "/forum/join-requests/999999/decide",      cells(401,      403,         404,       404,       404,       404,       404)),
    ("POST", "/forum/groups/nowhere/join",              cells(401,      403,         404,       404,       404,       404,       404)),
    ("POST", "/forum/groups/wacap/join",                cells(401,      403,         FORUM,     FORUM,     FORUM,     FORUM,     FORUM)),
    ("POST", "/forum/posts/{reply_post}/unhide",        cells(401,      403,         403,       403,       403,       OPEN_TOPIC, 403)),
    ("POST", "/forum/topics/{open_topic}/unsolve",      cells(401,      403,         OPEN_TOPIC, 403,      403,       OPEN_TOPIC, 403)),
    # ---- forum space permissions (platform moderators, administrators and the space's own moderators; outsiders of a
    # restricted space get 404) and group members (platform moderators and administrators). {wacap_member} is
    # other_member, in WACAP; POSTs carrying only a CSRF token are refused by validation (400) without a change.
    ("GET", "/forum/spaces/general/permissions",        cells(SIGN_IN,  403,         403,       403,       403,       200,       200)),
    ("GET", "/forum/spaces/wacap/permissions",          cells(SIGN_IN,  403,         404,       403,       404,       200,       200)),
    ("GET", "/forum/spaces/nowhere/permissions",        cells(SIGN_IN,  403,         404,       404,       404,       404,       404)),
    ("POST", "/forum/spaces/general/permissions",       cells(401,      403,         403,       403,       403,       400,       400)),
    ("POST", "/forum/spaces/wacap/permissions",         cells(401,      403,         404,       403,       404,       400,       400)),
    ("GET", "/forum/groups",                            cells(SIGN_IN,  403,         403,       403,       403,       200,       200)),
    ("GET", "/forum/groups/wacap/members",              cells(SIGN_IN,  403,         403,       403,       403,       200,       200)),
    ("GET", "/forum/groups/nowhere/members",            cells(SIGN_IN,  403,         403,       403,       403,       404,       404)),
    ("POST", "/forum/groups/wacap/members",             cells(401,      403,         403,       403,       403,       400,       400)),
    ("POST", "/forum/groups/wacap/members/{wacap_member}",
     cells(401,      403,         403,       403,       403,       400,       400)),
    ("POST", "/forum/groups/wacap/members/{target}",    cells(401,      403,         403,       403,       403,       404,       404)),
    # ---- creating groups and spaces, a space's settings (platform moderators and administrators; outsiders of a
    # restricted space get 404, as on its permissions page). POSTs carrying only a CSRF token: 400, nothing created.
    ("GET", "/forum/groups/new",                        cells(SIGN_IN,  403,         403,       403,       403,       200,       200)),
    ("POST", "/forum/groups/new",                       cells(401,      403,         403,       403,       403,       400,       400)),
    ("GET", "/forum/spaces/new",                        cells(SIGN_IN,  403,         403,       403,       403,       200,       200)),
    ("POST", "/forum/spaces/new",                       cells(401,      403,         403,       403,       403,       400,       400)),
    ("GET", "/forum/spaces/general/settings",           cells(SIGN_IN,  403,         403,       403,       403,       200,       200)),
    ("GET", "/forum/spaces/wacap/settings",             cells(SIGN_IN,  403,         404,       403,       404,       200,       200)),
    ("GET", "/forum/spaces/nowhere/settings",           cells(SIGN_IN,  403,         404,       404,       404,       404,       404)),
    ("POST", "/forum/spaces/general/settings",          cells(401,      403,         403,       403,       403,       400,       400)),
    ("POST", "/forum/spaces/wacap/settings",            cells(401,      403,         404,       403,       404,       400,       400)),
    # ---- forum moderation, notifications, preferences, attachments. {flag} is focal_point's open flag on
    # {reply_post}; {notification} is member's (other_member replied to member's topic); {open_file} is attached to
    # {reply_post}, {secret_file} to {secret_post}. Only "moderator" is a platform moderator.
    ("GET", "/forum/posts/{reply_post}/flag",           cells(SIGN_IN,  403,         200,       403,       200,       200,       200)),
    ("POST", "/forum/posts/{reply_post}/flag",          cells(401,      403,         400,       403,       400,       400,       400)),
    ("GET", "/forum/posts/{secret_post}/flag",          cells(SIGN_IN,  403,         404,       403,       404,       200,       404)),
    ("GET", "/forum/moderation",                        cells(SIGN_IN,  403,         403,       403,       403,       200,       403)),
    ("POST", "/forum/flags/{flag}/decide",              cells(401,      403,         403,       403,       403,       400,       403)),
    ("POST", "/forum/flags/999999/decide",              cells(401,      403,         403,       403,       403,       404,       403)),
    ("GET", "/forum/members/{target}/moderation",       cells(SIGN_IN,  403,         403,       403,       403,       200,       200)),
    ("GET", "/forum/members/999999/moderation",         cells(SIGN_IN,  403,         403,       403,       403,       404,       404)),
    ("POST", "/forum/members/{target}/notes",           cells(401,      403,         403,       403,       403,       400,       400)),
    ("POST", "/forum/topics/{open_topic}/move",         cells(401,      403,         403,       403,       403,       400,       403)),
    ("POST", "/forum/topics/{secret_topic}/move",       cells(401,      403,         404,       403,       404,       400,       404)),
    ("POST", "/forum/topics/{open_topic}/merge",        cells(401,      403,         403,       403,       403,       400,       403)),
    ("POST", "/forum/topics/{secret_topic}/merge",      cells(401,      403,         404,       403,       404,       400,       404)),
    ("GET", "/forum/notifications",                     cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("POST", "/forum/notifications/{notification}/open",
                                                        cells(401,      403,         OPEN_TOPIC, 404,      404,       404,       404)),
    ("POST", "/forum/notifications/read",               cells(401,      403,         NOTIFICATIONS, NOTIFICATIONS, NOTIFICATIONS, NOTIFICATIONS, NOTIFICATIONS)),
    ("GET", "/forum/preferences",                       cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("POST", "/forum/preferences",                      cells(401,      403,         400,       400,       400,       400,       400)),
    ("GET", "/forum/attachments/{open_file}",           cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/forum/attachments/{secret_file}",         cells(SIGN_IN,  403,         404,       200,       404,       200,       404)),
    ("GET", "/forum/attachments/no-such-file",          cells(SIGN_IN,  403,         404,       404,       404,       404,       404)),
    ("POST", "/forum/topics/{secret_topic}/propose-case",
                                                        cells(401,      403,         404,       403,       404,       403,       404)),
    ("POST", "/forum/posts/{reply_post}/answer",        cells(401,      403,         OPEN_TOPIC, 403,      403,       OPEN_TOPIC, 403)),
    # after the answer row: the topic is solved, and only its author (member) proposes it (to a new case draft)
    ("POST", "/forum/topics/{open_topic}/propose-case", cells(401,      403,         302,       403,       403,       403,       403)),
    # ---- requests between authorities ({draft_request}: member's draft to NGA-CA, which focal_point reads as a holder
    # of AUT-MOJ's mailbox; {sent_request}: focal_point's request from AUT-MOJ to a third authority). A request's
    # content is the drafter's and the two authorities' mailbox holders', never a role's: everyone else gets 404.
    ("GET", "/requests/",                               cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/requests/new",                            cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("POST", "/requests/new",                           cells(401,      403,         400,       400,       400,       400,       400)),
    ("GET", "/requests/{draft_request}",                cells(SIGN_IN,  403,         200,       404,       200,       404,       404)),
    ("GET", "/requests/{sent_request}",                 cells(SIGN_IN,  403,         404,       404,       200,       404,       404)),
    ("GET", "/requests/999999",                         cells(SIGN_IN,  403,         404,       404,       404,       404,       404)),
    ("GET", "/requests/{draft_request}/draft/authorities",
                                                        cells(SIGN_IN,  403,         200,       404,       404,       404,       404)),
    ("POST", "/requests/{draft_request}/draft/authorities",
                                                        cells(401,      403,         200,       404,       404,       404,       404)),
    ("GET", "/requests/{draft_request}/draft/nowhere",  cells(SIGN_IN,  403,         404,       404,       404,       404,       404)),
    ("GET", "/requests/{draft_request}/review",         cells(SIGN_IN,  403,         200,       404,       200,       404,       404)),
    ("GET", "/requests/{sent_request}/review",          cells(SIGN_IN,  403,         404,       404,       200,       404,       404)),
    ("GET", "/requests/{sent_request}/document.docx",   cells(SIGN_IN,  403,         404,       404,       200,       404,       404)),
    ("GET", "/requests/{sent_request}/export",          cells(SIGN_IN,  403,         404,       404,       200,       404,       404)),
    ("POST", "/requests/{draft_request}/send",          cells(401,      403,         400,       404,       400,       404,       404)),
    ("POST", "/requests/{sent_request}/propose-case",   cells(401,      403,         404,       404,       400,       404,       404)),
    ("POST", "/requests/{sent_request}/status",         cells(401,      403,         404,       404,       400,       404,       404)),
    ("POST", "/requests/{sent_request}/status-query",   cells(401,      403,         404,       404,       REQUEST,   404,       404)),
    ("POST", "/requests/{sent_request}/reference",      cells(401,      403,         404,       404,       REQUEST,   404,       404)),
    ("GET", "/requests/statistics",                     cells(SIGN_IN,  403,         200,       200,       200,       200,       200)),
    ("GET", "/requests/import",                         cells(SIGN_IN,  403,         404,       404,       200,       404,       404)),
    ("POST", "/requests/import",                        cells(401,      403,         404,       404,       400,       404,       404)),
    ("GET", "/requests/settings",                       cells(SIGN_IN,  403,         404,       404,       200,       404,       404)),
    ("POST", "/requests/settings",                      cells(401,      403,         404,       404,       400,       404,       404)),
]

# The routes marked fresh=True, once REAUTH_WINDOW has passed since signing in (clock.advance(minutes=11)).
#   method  url                                              anonymous  applicant    member     other      focal      moderator  admin
AFTER_WINDOW: list[tuple[str, str, dict]] = [
    ("GET", "/account/recovery-codes",                  cells(SIGN_IN,  403,         REAUTH,    REAUTH,    REAUTH,    REAUTH,    REAUTH)),
    ("POST", "/account/recovery-codes",                 cells(401,      403,         REAUTH,    REAUTH,    REAUTH,    REAUTH,    REAUTH)),
    ("POST", "/account/tokens",                         cells(401,      403,         REAUTH,    REAUTH,    REAUTH,    REAUTH,    REAUTH)),
    ("POST", "/members/{target}/deactivate",            cells(401,      403,         403,       403,       403,       403,       REAUTH)),
    ("POST", "/members/{target}/roles",                 cells(401,      403,         403,       403,       403,       403,       REAUTH)),
    ("POST", "/members/{target}/roles/{target_grant}/withdraw",
                                                        cells(401,      403,         403,       403,       403,       403,       REAUTH)),
]

FRESH_ENDPOINTS = {"members.recovery_codes", "members.deactivate", "members.grant_role", "members.withdraw_role",
                   "tokens.create_token"}


# ---------------------------------------------------------------- the world the table is about

def make_world(app, clock, auth, member_factory, authority, other_authority, member, moderator, admin, focal_point):
    """Actors for every role, plus the objects the URLs name: applications of both authorities, a target member
    of each authority, role grants, a session of another member, and live link tokens."""
    from network.core.crypto import token_digest
    from network.core.db import db
    from network.members.models import Application
    from network.members.services import make_link_token

    now = clock.now

    def application_for(applicant, **fields):
        application = Application(member_id=applicant.id, reason="I handle mutual legal assistance requests daily.",
                                  email_verified_at=now, submitted_at=now, **fields)
        db.session.add(application)
        db.session.commit()
        return application

    applicant = member_factory(status="pending", enrolled=False, email="applicant@justiz.example.at", name="Applicant")
    application = application_for(applicant, status="submitted", referee_email=member.email, referee_id=member.id)
    foreign_applicant = member_factory(status="pending", enrolled=False, authority=other_authority,
                                       email="applicant@justice.example.ng", name="Foreign Applicant")
    foreign_application = application_for(foreign_applicant, status="submitted")
    asked = member_factory(status="pending", enrolled=False, email="asked@justiz.example.at", name="Asked Applicant")
    info_application = application_for(asked, status="info_requested", info_question="Which unit do you work in?",
                                       info_requested_at=now)
    other_member = member_factory(authority=other_authority, email="other@justice.example.ng", name="Other Member")
    other_moderator = member_factory(roles=("moderator",), authority=None, email="moderator2@network.example.org",
                                     name="Other Moderator")
    target = member_factory(email="target@justiz.example.at", name="Target Member")
    foreign_target = member_factory(authority=other_authority, email="target@justice.example.ng", name="Foreign Target")

    from catalogue.cases import services as cases
    from catalogue.cases.models import Case, CaseRevision

    def case(reference, submitter, status, visibility="members"):
        item = Case(reference=reference, submitter_id=submitter.id, status="draft")
        db.session.add(item)
        cases.apply_data(item, {
            "title": f"Case {reference}", "summary": "Mutual legal assistance for bank records, granted in four months.",
            "language": "en", "requesting_state": "AUT", "requested_state": "NGA", "cooperation_forms": ["mla"],
            "legal_bases": ["untoc"], "crime_types": ["money_laundering"], "outcome": "granted",
            "untoc_provisions": ["18", "18(13)"], "request_date": "2021-03-01", "completion_date": "2021-07-01",
            "visibility": visibility,
        })
        db.session.flush()
        if status == "published":
            item.published_at = now
            item.revisions.append(CaseRevision(number=1, data=cases.case_to_dict(item), published_by_id=moderator.id))
        item.status = status
        db.session.commit()
        return item

    draft_case = case("CASE-DRAFT-1", member, "draft")
    submitted_case = case("CASE-SUBMITTED-1", member, "submitted")
    public_case = case("CASE-PUBLIC-1", member, "published", "public")
    members_case = case("CASE-MEMBERS-1", other_member, "published", "members")

    from network.core.api import issue_token

    member_token, _secret = issue_token(member, "Statistics script", ["catalogue:read"], 30)  # only member may revoke it
    db.session.commit()

    from network.directory.models import AuthorityChange
    from network.directory.services import record_version

    record_version(authority, "import")  # version 1 of the entry, for the history rows
    change = AuthorityChange(authority_id=authority.id, base_version=1, note="The unit has a new telephone number.",
                             proposed_by_id=focal_point.id, data={"key": authority.key, "state": authority.state,
                                                                  "name": authority.name, "phone": "+43 1 000",
                                                                  "designations": ["untoc_mla_central"]})
    db.session.add(change)
    db.session.commit()

    from network.forum import services as forum
    from network.forum.models import ForumGroup, GroupMembership, JoinRequest, Space

    wacap = ForumGroup(slug="wacap", name="WACAP", description="West African network")
    db.session.add(wacap)
    db.session.flush()
    general = Space(slug="general", name="General", description="For every member")
    restricted = Space(slug="wacap", name="WACAP space", description="For WACAP", restricted=True, group_id=wacap.id)
    db.session.add_all([general, restricted, GroupMembership(group_id=wacap.id, member_id=other_member.id)])
    db.session.flush()
    open_topic = forum.create_topic(member, general, "Refused for lack of dual criminality", "How to overcome it?",
                                    is_question=True)
    reply_post = forum.reply(other_member, open_topic, "Describe the conduct, not the label.")
    secret_topic = forum.create_topic(other_member, restricted, "Regional coordination call", "Dates for the call.")
    join_request = JoinRequest(group_id=wacap.id, member_id=focal_point.id, message="I work with West Africa.")
    db.session.add(join_request)
    db.session.commit()

    from sqlalchemy import select

    from network.forum import attachments, moderation
    from network.forum.models import Notification

    open_file = attachments.attach(other_member, reply_post, "dual-criminality.txt", b"Describe the conduct.\n")
    secret_file = attachments.attach(other_member, forum.first_post(secret_topic), "call.txt", b"Call dates\n")
    flag = moderation.flag_post(focal_point, reply_post, "Off topic for this question")
    notification = db.session.scalar(select(Notification.id).where(Notification.member_id == member.id))
    db.session.commit()

    from network.messaging import lifecycle as messaging_keys
    from network.messaging import services as messaging

    senders_keys = {}
    for actor in (member, other_member, focal_point, moderator, admin):
        keys, senders_keys[actor.id], _recovery_key = messaging_keys.create_key_set(actor, actor.password)
        keys.recovery_confirmed_at = now
    import io

    from network.messaging import mailboxes

    conversation = messaging.start_conversation(member, [other_member], "Bank records", "Can you expedite?",
                                                messaging.Handling(confidential=True), private=senders_keys[member.id],
                                                uploads=[messaging.Upload("request.txt", io.BytesIO(b"Request\n"))])
    first_message = conversation.messages[0]
    file_id = json.loads(first_message.envelope)["header"]["attachments"][0]["file_id"]
    mailboxes.open_mailbox(focal_point, authority, private=senders_keys[focal_point.id])
    mailbox_conversation = messaging.write_to_authority(other_member, authority, "Extradition", "Which documents?",
                                                       messaging.Handling(), private=senders_keys[other_member.id])
    db.session.commit()

    # requests: {draft_request} is member's draft to NGA-CA; {sent_request} is focal_point's request (AUT-MOJ holds it)
    # to a third authority whose mailbox none of the roles holds (its officer is not a role of the table)
    from network.directory.models import Authority
    from network.requests import definitions as request_steps
    from network.requests import services as requests

    app.config["REQUESTS_ADVANCE_COPY_FORMAT"] = "docx"
    third = Authority(key="FRA-BEPI", state="FRA", name="Bureau de l'entraide pénale internationale",
                      email_domains=["justice.example.fr"])
    db.session.add(third)
    db.session.flush()
    third_officer = member_factory(roles=("focal_point",), authority=third, email="officer@justice.example.fr",
                                   name="Third Officer")
    keys, third_private, _recovery_key = messaging_keys.create_key_set(third_officer, third_officer.password)
    keys.recovery_confirmed_at = now
    mailboxes.open_mailbox(third_officer, third, private=third_private)
    draft_request = requests.create_draft(member, requests.NewDraft(
        form="mla", measures=("financial_records",), requested_state="NGA", requested_authority_key="NGA-CA"),
        private=senders_keys[member.id])
    sent_request = requests.create_draft(focal_point, requests.NewDraft(
        form="mla", measures=("other",), requested_state="FRA", requested_authority_key="FRA-BEPI"),
        private=senders_keys[focal_point.id])
    for step in request_steps.steps_for(requests.flags_of(sent_request)):
        requests.save_step(focal_point, sent_request, step.key, {key: "Filled in." for key, _rule in step.fields},
                           private=senders_keys[focal_point.id])
    with app.test_request_context("/"):
        requests.send(focal_point, sent_request, channel="direct", original_sent_on=None,
                      private=senders_keys[focal_point.id])
    db.session.commit()

    victim = auth.client_for(target)  # a live session of someone else: no role may revoke it
    victim_token = victim.get_cookie(app.config["SESSION_COOKIE_NAME"]).value

    return {
        "actors": {"applicant": applicant, "member": member, "other_member": other_member, "focal_point": focal_point,
                   "moderator": moderator, "admin": admin},
        "ids": {
            "application": application.id,
            "foreign_application": foreign_application.id,
            "target": target.id,
            "draft_case": draft_case.reference,
            "submitted_case": submitted_case.reference,
            "public_case": public_case.reference,
            "members_case": members_case.reference,
            "token": member_token.id,
            "change": change.id,
            "open_topic": open_topic.id,
            "wacap_member": other_member.id,
            "secret_topic": secret_topic.id,
            "open_post": forum.first_post(open_topic).id,
            "secret_post": forum.first_post(secret_topic).id,
            "reply_post": reply_post.id,
            "join_request": join_request.id,
            "flag": flag.id,
            "notification": notification,
            "open_file": open_file.storage_id,
            "secret_file": secret_file.storage_id,
            "conversation": conversation.id,
            "first_message": first_message.id,
            "file_id": file_id,
            "mailbox_conversation": mailbox_conversation.id,
            "draft_request": draft_request.id,
            "sent_request": sent_request.id,
            "other_member_id": other_member.id,
            "other_moderator": other_moderator.id,
            "admin_id": admin.id,
            "foreign_target": foreign_target.id,
            "target_grant": next(g.id for g in target.roles if g.role == "member"),
            "focal_grant": next(g.id for g in focal_point.roles if g.role == "focal_point"),
            "victim_session": token_digest(victim_token),
            "verify_token": make_link_token("verify-email", {"a": application.id, "e": applicant.email}),
            "info_token": make_link_token("info-request", {"a": info_application.id,
                                                          "t": info_application.info_requested_at.isoformat()}),
            "reset_token": make_link_token("password-reset", {"m": target.id, "h": target.password_hash[-16:]}),
        },
    }


@pytest.fixture
def world(app, clock, auth, member_factory, authority, other_authority, member, moderator, admin, focal_point):
    return make_world(app, clock, auth, member_factory, authority, other_authority, member, moderator, admin,
                      focal_point)


TOKEN_PAGE = {"anonymous": "/sign-in", "applicant": "/application"}


def session_id_of(app, client) -> str:
    """The id of the client's session record; an anonymous visitor has none (issue 12, finding 19): a dummy."""
    from network.core.crypto import token_digest

    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return token_digest(cookie.value) if cookie else "0" * 64


def client_as(app, auth, world, role: str):
    """A client of the role, signed in through the real forms, and a CSRF token from one of its own pages."""
    client = app.test_client()
    if role != "anonymous":
        auth.sign_in(client, world["actors"][role])
    page = client.get(TOKEN_PAGE.get(role, "/account/security"))
    assert page.status_code == 200, (role, page.status_code)
    return client, csrf_token(page.get_data(as_text=True))


def check_row(app, client, token, world, method, url, expected):
    """Send one request; return a description of the mismatch, or None."""
    ids = {**world["ids"], "current_session": session_id_of(app, client)}
    path = url.format(**ids)
    if method == "GET":
        response = client.get(path)
    else:
        response = client.post(path, data={"csrf_token": token})
    status, location = (expected, None) if isinstance(expected, int) else expected
    got = response.status_code
    if got != status:
        return f"{method} {url}: expected {status}, got {got}"
    if location is not None:
        target = urlsplit(response.headers.get("Location", "")).path
        if target != location.format(**ids):
            return f"{method} {url}: expected redirect to {location.format(**ids)}, got {target!r}"
    return None


def run_table(app, auth, world, role, rows):
    client, token = client_as(app, auth, world, role)
    failures = []
    for method, url, expected in rows:
        if (method, url) in FRESH_CLIENT:
            row_client, row_token = client_as(app, auth, world, role)
        else:
            row_client, row_token = client, token
        failure = check_row(app, row_client, row_token, world, method, url, expected[role])
        if failure:
            failures.append(failure)
    return failures, client, token


# ---------------------------------------------------------------- the tests

@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_the_table_says(app, auth, world, role):
    failures, _, _ = run_table(app, auth, world, role, TABLE)
    assert not failures, f"{role}: " + "\n".join(failures)


@pytest.mark.parametrize("role", ROLES)
def test_fresh_routes_send_to_reauthentication_after_the_window(app, auth, world, clock, role):
    client, token = client_as(app, auth, world, role)
    clock.advance(seconds=app.config["REAUTH_WINDOW"] + 60)  # 11 minutes: still within the idle timeout
    failures = []
    for method, url, expected in AFTER_WINDOW:
        failure = check_row(app, client, token, world, method, url, expected[role])
        if failure:
            failures.append(failure)
    assert not failures, f"{role}: " + "\n".join(failures)


def test_reauthenticating_reopens_the_fresh_routes(app, auth, world, clock):
    admin = world["actors"]["admin"]
    client, token = client_as(app, auth, world, "admin")
    clock.advance(minutes=11)
    url = f"/members/{world['ids']['target']}/roles"
    refused = client.post(url, data={"csrf_token": token})
    assert refused.status_code == 302
    reauth_url = refused.headers["Location"]
    assert urlsplit(reauth_url).path == "/reauthenticate"

    page = client.get(reauth_url)
    assert page.status_code == 200
    response = client.post(reauth_url, data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                             "password": admin.password, "code": current_code(admin.secret, clock)})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == url

    again = client.post(url, data={"csrf_token": token})
    assert again.status_code == 302
    assert urlsplit(again.headers["Location"]).path == f"/members/{world['ids']['target']}/manage"


def _is_static(endpoint: str) -> bool:
    return endpoint == "static" or endpoint.endswith(".static")


def test_every_view_is_marked_public_or_guarded(app):
    unmarked = []
    for rule in app.url_map.iter_rules():
        if _is_static(rule.endpoint):
            continue
        view = app.view_functions[rule.endpoint]
        if getattr(view, "public", False) is not True and not hasattr(view, "requirements"):
            unmarked.append(f"{rule.endpoint} {rule.rule}")
    assert not unmarked, "views neither @public nor @requires(...): " + ", ".join(unmarked)


def test_fresh_routes_are_the_ones_the_after_window_table_covers(app):
    """requires(fresh=True) leaves no attribute; the table names them, and this checks the names still exist."""
    assert FRESH_ENDPOINTS <= set(app.view_functions)
    adapter = app.url_map.bind("localhost")
    covered = {adapter.match(url.format(**_DUMMY_IDS), method=method)[0] for method, url, _ in AFTER_WINDOW}
    assert covered == FRESH_ENDPOINTS


_DUMMY_IDS = {"application": 1, "foreign_application": 2, "target": 3, "foreign_target": 4, "target_grant": 5,
              "focal_grant": 6, "victim_session": "a" * 64, "current_session": "b" * 64, "verify_token": "t",
              "info_token": "t", "reset_token": "t", "public_case": "CASE-PUBLIC-1",
              "members_case": "CASE-MEMBERS-1", "draft_case": "CASE-DRAFT-1", "submitted_case": "CASE-SUBMITTED-1",
              "token": 7, "change": 8,
              "wacap_member": 18, "open_topic": 9, "secret_topic": 10, "open_post": 11, "secret_post": 12, "reply_post": 13,
              "join_request": 14, "conversation": 15, "first_message": 19, "file_id": "f-" + "0" * 32,
              "mailbox_conversation": 20, "other_member_id": 21, "other_moderator": 22, "admin_id": 23,
              "draft_request": 24, "sent_request": 25,
              "flag": 16, "notification": 17, "open_file": "f", "secret_file": "g"}


def test_every_rule_and_method_has_a_row_in_the_table(app):
    adapter = app.url_map.bind("localhost")
    rows = set()
    for method, url, expected in TABLE:
        assert set(expected) == set(ROLES), f"{method} {url} does not give every role"
        endpoint, _ = adapter.match(url.format(**_DUMMY_IDS).split("?")[0], method=method)
        rows.add((endpoint, method))
    missing = []
    for rule in app.url_map.iter_rules():
        if _is_static(rule.endpoint):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) not in rows:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, "routes without a row in the access table: " + ", ".join(missing)
