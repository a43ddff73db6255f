"""Running the portal (`urbanreport serve`): checks before binding, and logs without secrets."""

from __future__ import annotations

import logging
import re

import uvicorn

from urbanreport.core.config import Settings
from urbanreport.portal.app import create_app
from urbanreport.portal.config import PortalConfig
from urbanreport.portal.middleware import URL_CREDENTIALS, is_loopback
from urbanreport.portal.security import Security


class RedactSecrets(logging.Filter):
    """Keep credential-looking query values out of the access log.

    The portal refuses such a request (400) before reading it, but uvicorn logs the request
    line as it arrived; this filter replaces the value with ``***`` before it is written.
    """

    pattern = re.compile(
        r"(?i)((?:^|[?&])(?:" + "|".join(sorted(URL_CREDENTIALS)) + r")=)[^&\s\"]*"
    )

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self.pattern.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args
            )
        return True


def install_audit_log() -> None:
    """Audit entries also go to standard error (the journal under systemd), one JSON line
    each, so the operator can forward them to the bureau's log server."""
    audit = logging.getLogger("urbanreport.audit")
    if not audit.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        audit.addHandler(handler)
        audit.setLevel(logging.INFO)


def install_log_redaction() -> None:
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSecrets) for f in access_log.filters):
        access_log.addFilter(RedactSecrets())


def check_binding(host: str, security: Security) -> int:
    """The number of accounts; refuses a non-loopback address while there is none."""
    users = len(security.accounts.all())
    if users == 0 and not is_loopback(host):
        raise ValueError(
            f"门户拒绝监听 {host}：尚未创建任何账户，开放模式只允许在本机（127.0.0.1）使用。"
            "请先运行 `urbanreport user add NAME --role admin` 创建账户。"
            f" (Refusing to listen on {host} without accounts.)"
        )
    return users


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Run the portal until interrupted; None means "as configured" (default 127.0.0.1:8000)."""
    config = PortalConfig.from_settings(settings)
    host = host or config.host
    port = port if port is not None else config.port
    app = create_app(settings)
    users = check_binding(host, app.state.portal.security)
    uvicorn_config = uvicorn.Config(
        app,
        host=host,
        port=port,
        server_header=False,
        log_level="info",
        timeout_graceful_shutdown=10,
    )
    install_log_redaction()  # after uvicorn.Config, which sets up uvicorn's loggers
    install_audit_log()
    mode = f"已启用账户登录（{users} 个账户）" if users else "开放模式：尚无账户，仅限本机"
    print(
        f"报告下载门户：http://{host}:{port}/  {mode}  报告目录：{settings.reports_dir}"
        "  （Ctrl+C 停止）"
    )
    uvicorn.Server(uvicorn_config).run()
