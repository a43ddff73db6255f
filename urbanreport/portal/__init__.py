"""The report download portal: `app.create_app(settings)` for tests, `server.serve(settings)`
for the CLI, `commands` for ``urbanreport user`` and ``urbanreport audit``.

Kept import-light (FastAPI is loaded by `urbanreport.portal.app`) so importing the package
costs nothing for the other subcommands.
"""
