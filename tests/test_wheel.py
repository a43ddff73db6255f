"""The built wheel, installed (not editable) into a new virtual environment, runs from any folder.

Why: an operator installs urbanreport on a server with `pip install`; SQL files, the catalogue,
the contract, templates and static files must travel inside the package, and nothing may read a
path of the checkout. The wheel is installed without dependencies into a new venv that borrows
the test venv's third-party packages through a `.pth` line (their own `.pth` files, such as the
editable install's finder, are not processed there), so the test takes seconds, not minutes.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.factories import REPO_ROOT, printed_report

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: What a checkout holds besides its source (environments, caches, data, build leftovers).
NOT_SOURCE = (
    ".git",
    ".venv",
    "var",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    "test-output",
    "node_modules",
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv holding the wheel of this checkout; returns its bin/ folder."""
    work = tmp_path_factory.mktemp("wheel")
    # A clean copy: setuptools builds in the source tree, and a stale build/ there would put
    # files into the wheel that the checkout no longer has.
    source = work / "source"
    shutil.copytree(REPO_ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = work.glob("urbanreport-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_path('purelib'))",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "borrowed.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    # The console script the wheel declares, as pip would write it.
    script = venv / "bin" / "urbanreport"
    script.write_text(
        f"#!{venv / 'bin' / 'python'}\nimport sys\nfrom urbanreport.cli import main\n"
        "sys.exit(main())\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return venv / "bin"


def test_the_wheel_carries_sql_templates_and_the_client_folders(installed: Path) -> None:
    (wheel,) = installed.parent.parent.glob("urbanreport-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (
        "urbanreport/sql/schema.sql",
        "urbanreport/sql/indicators/catalogue.toml",
        "urbanreport/sql/staging/enforcement.sql",
        "urbanreport/sources.toml",
        "urbanreport/defaults.toml",
        "urbanreport/portal/templates/base.html",
        "urbanreport/portal/static/portal.css",
        "urbanreport/flows/pipeline.py",
        "urbanreport/reports/pdf.py",
    ):
        assert name in names, name
    assert not any(n.startswith(("flows/", "reports/", "tests/")) for n in names)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_installed_package_runs_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("URBANREPORT_", "PYTHON"))}
    env["URBANREPORT_HOME"] = str(home)
    cli = str(installed / "urbanreport")

    def run(*args: str) -> str:
        done = subprocess.run(
            [cli, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    probe = subprocess.run(
        [str(installed / "python"), "-c", "import urbanreport; print(urbanreport.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert not probe.stdout.startswith(str(REPO_ROOT)), probe.stdout

    run("sample", "--years", "2023")
    assert "enforcement" in run("ingest")
    printed = run("report", "--period", "2023")
    assert printed_report(printed).read_bytes().startswith(b"%PDF")
    for suffix in (".docx", ".xlsx"):
        assert printed_report(printed, suffix).read_bytes().startswith(b"PK")

    port = _free_port()
    server = subprocess.Popen(
        [cli, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.3)
        assert page.status_code == 200 and "2023" in page.text
        assert httpx.get(f"http://127.0.0.1:{port}/static/portal.css").status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
