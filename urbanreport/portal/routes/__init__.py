"""The portal's routes, one module per area, each an `APIRouter` included by `app.create_app`.

* `reports` — the pages: fiscal years, a year's reports, versions; publishing;
* `check` — the draft check (核对文稿): an upload for editors, and its annotated copy;
* `files` — downloads, previews, the web font, the stylesheet, liveness;
* `api` — the JSON API for scripts (``Authorization: Bearer``);
* `auth` — sign-in and sign-out;
* `admin` — user management and the audit log.

Adding a route: make a module here with ``router = APIRouter()``, add it to `ROUTERS` in
`app.py`, and, for a form with a file, write it as `check` does::

    @router.post("/check")
    async def check_draft(request: Request, who: Editor) -> Response:  # editors and admins
        form = await portal_of(request).pages.forms.read(request, max_files=1)  # CSRF checked
        upload = form["file"]  # at most [portal] upload_max_mb (10 MB), else 413 already
        ...
        await anyio.to_thread.run_sync(audit_action, request, who, "upload", target, "ok")

where ``target`` names the upload without its content (`check` audits a keyed hash of the file
name and its size, never the name), with a template whose
``<form method="post" enctype="multipart/form-data">`` holds
``<input type="hidden" name="{{ csrf_field }}" value="{{ csrf }}">``, and a row for the route
in the table of ``tests/test_portal_access.py``. Sign-in, the security headers, the size limit
and the refusal of credentials in the URL come from the middleware; nothing else is needed.
"""
