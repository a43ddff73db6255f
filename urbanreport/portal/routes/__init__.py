"""The portal's routes, one module per area, each an `APIRouter` included by `app.create_app`.

* `reports` — the pages: fiscal years, a year's reports, versions; publishing;
* `files` — downloads, previews, the web font, the stylesheet, liveness;
* `api` — the JSON API for scripts (``Authorization: Bearer``);
* `auth` — sign-in and sign-out;
* `admin` — user management and the audit log.

Adding a route (for example the draft check, 核对文稿, an upload for editors): make a module
here with an ``router = APIRouter()``, add it to `ROUTERS` in `app.py`, and in the route::

    @router.post("/check")
    async def draft_check(request: Request, who: Principal = Depends(require(Role.EDITOR))):
        form = await portal_of(request).pages.forms.read(request, max_files=1)  # CSRF checked
        upload = form["file"]  # the body is already capped at [portal] upload_max_mb (413)
        audit_action(request, who, "upload", upload.filename or "", "ok")

and a template whose ``<form method="post" enctype="multipart/form-data">`` includes
``<input type="hidden" name="{{ csrf_field }}" value="{{ csrf }}">``. Sign-in, security headers,
the size limit and the refusal of credentials in the URL come from the middleware already.
"""
