"""The report download portal: `create_app(settings)` for tests, `serve(settings)` for the CLI.

Kept import-light (FastAPI is loaded by `urbanreport.portal.app`) so importing the package
costs nothing for the other subcommands.
"""
