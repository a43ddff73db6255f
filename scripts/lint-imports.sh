#!/usr/bin/env bash
# The import contract of pyproject.toml ([tool.importlinter]): layers import one way only.
#
# import-linter reads a package from one folder, while setuptools maps flows/ and reports/ into
# urbanreport (package-dir). So the package is laid out here as it installs, in a temporary
# folder, and checked there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-.venv}
case "$venv" in /*) ;; *) venv="$root/$venv" ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$root/urbanreport" "$tmp/urbanreport"
cp -r "$root/flows" "$tmp/urbanreport/flows"
cp -r "$root/reports" "$tmp/urbanreport/reports"
cd "$tmp"
PYTHONPATH="$tmp" "$venv/bin/lint-imports" "$root/pyproject.toml" --no-cache
