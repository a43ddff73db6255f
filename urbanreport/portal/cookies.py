"""The portal's two cookies, always HttpOnly and SameSite=Strict, Secure behind https.

* the session cookie: set at sign-in, holds the session id (never a password or a token);
* the form cookie: a random seed for the form token of someone not signed in (the login form,
  and every form in the open demo mode). It proves nothing by itself.

Neither has a Max-Age: both end with the browser; the server ends the session sooner.
"""

from __future__ import annotations

from starlette.responses import Response

SESSION_COOKIE = "urbanreport_session"
FORM_COOKIE = "urbanreport_form"


def set_cookie(response: Response, name: str, value: str, *, secure: bool) -> None:
    response.set_cookie(name, value, path="/", httponly=True, samesite="strict", secure=secure)


def clear_cookie(response: Response, name: str, *, secure: bool) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="strict", secure=secure)
