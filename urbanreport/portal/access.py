"""Who is asking, and what each role may do: the portal's whole access policy in one place.

Roles are ordered (viewer < editor < admin) because each includes the one below it:

* viewer — published reports: pages, downloads, previews, the JSON API;
* editor — also internal (unpublished) versions, publishing, and the draft check;
* admin — also user management and the audit log.

A version nobody has published yet is internal. A viewer asking for one gets 404, not 403:
an unpublished report is not there for them, and a 403 would confirm that it exists.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from urbanreport.portal.store import Report, Version


class Role(enum.IntEnum):
    VIEWER = 1
    EDITOR = 2
    ADMIN = 3

    @property
    def key(self) -> str:
        return self.name.lower()

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(
                f"未知角色：{text}（可选 viewer、editor、admin / unknown role)"
            ) from None


ROLE_LABELS = {Role.VIEWER: "查阅人员", Role.EDITOR: "编辑", Role.ADMIN: "管理员"}

#: How a request proved who it is.
VIA_SESSION = "session"  # signed in through the login page (cookie)
VIA_TOKEN = "token"  # API client, Authorization: Bearer
VIA_OPEN = "open"  # no account exists yet: the single-person demo on 127.0.0.1

#: The name the audit log gives the person using the open demo mode.
OPEN_MODE_ACTOR = "（开放模式）"


@dataclass(frozen=True)
class Principal:
    """The signed-in user (or the open-mode operator) behind one request."""

    name: str
    role: Role
    via: str
    user_id: int | None = None
    csrf: str | None = None  # the session's form token (sessions only)
    token_id: str | None = None  # the API token's public id (tokens only)

    def has(self, role: Role) -> bool:
        return self.role >= role

    @property
    def sees_internal(self) -> bool:
        return self.role >= Role.EDITOR


#: The open demo mode acts as an editor: it must show and publish the reports it just made,
#: but there are no accounts to manage.
OPEN_PRINCIPAL = Principal(name=OPEN_MODE_ACTOR, role=Role.EDITOR, via=VIA_OPEN)

_SCOPE_KEY = "urbanreport.principal"


def attach(scope: dict, principal: Principal) -> None:
    scope[_SCOPE_KEY] = principal


def principal_of(connection: HTTPConnection) -> Principal | None:
    """Set by the middleware for every request that is not public; None otherwise."""
    return connection.scope.get(_SCOPE_KEY)


# --- what a principal sees of a report -----------------------------------------------------


@dataclass(frozen=True)
class ReportView:
    """A report as one principal may see it.

    ``shown`` is the newest version they may see: for an editor the current file; for a
    viewer the newest *published* one, which after a rerun may be an older version while the
    new one waits for an editor. Preview and headline figures belong to the current file only,
    so they are shown only when ``shown`` is the current file.
    """

    report: Report
    shown: Version
    older: tuple[Version, ...]
    principal: Principal

    @property
    def is_current(self) -> bool:
        return self.shown.number == self.report.current.number

    def older_version(self, number: int) -> Version | None:
        """An older version (by its stable number) if this principal may see it."""
        version = self.report.version(number)
        return version if version is not None and may_see(self.principal, version) else None


def may_see(principal: Principal, version: Version) -> bool:
    return version.published or principal.sees_internal


def view_of(report: Report, principal: Principal) -> ReportView | None:
    """None when the principal may see no version of the report at all."""
    visible = [v for v in (report.current, *report.versions) if may_see(principal, v)]
    if not visible:
        return None
    return ReportView(report, visible[0], tuple(visible[1:]), principal)
