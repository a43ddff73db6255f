"""A real Prefect server started by scripts/serve.sh for a test, and what the test looks at.

Shared by the deployment tests of one district (tests/test_deployment.py) and of a city
(tests/test_city_deployment.py): a free loopback port, the PIDs serve.sh recorded, whether they
still run, and the tails of the server's, the deployments' and the workers' logs.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recorded_pids(home: Path) -> list[int]:
    pid_file = home / "prefect" / "serve.pids"
    if not pid_file.is_file():
        return []
    return [int(line.split()[1]) for line in pid_file.read_text().splitlines() if line.strip()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def log_tails(home: Path) -> str:
    out = []
    folder = home / "prefect"
    names = ["server.log", "deploy.log", "city-deploy.log"]
    names += sorted(p.name for p in folder.glob("worker*.log")) if folder.is_dir() else []
    for name in names:
        path = folder / name
        if path.is_file():
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            out.append(f"--- {name}\n" + "\n".join(lines[-40:]))
    return "\n".join(out)
