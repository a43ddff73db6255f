"""File responses: streamed from one open descriptor, with ETag revalidation and safe names.

A download is streamed from the descriptor that `store` opened, with its headers computed from
that same descriptor: a report regenerated mid-download (temp file + rename) reaches the client
whole, old or new.
"""

from __future__ import annotations

import base64
import os
import re
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import quote

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from urbanreport.portal.store import OpenFile

#: Bytes per read while streaming: large enough to keep the thread hand-offs few.
CHUNK_SIZE = 256 * 1024

_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._-]+")


class OpenFileResponse(Response):
    """Streams an `OpenFile` from its descriptor and closes it, whatever happens.

    Reads go through ``pread`` in a worker thread, at explicit offsets, from the descriptor
    opened before the headers were computed: a rename of a newer report over the path changes
    nothing for a download already under way. A client that goes away stops the stream.
    """

    def __init__(
        self,
        opened: OpenFile,
        *,
        headers: dict[str, str],
        media_type: str,
        send_body: bool = True,
    ) -> None:
        self.opened = opened
        self.send_body = send_body
        self.status_code = 200
        self.media_type = media_type
        self.background = None
        self.body = b""
        self.init_headers({**headers, "content-length": str(opened.size)})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as tasks:

                async def watch_disconnect() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    tasks.cancel_scope.cancel()

                tasks.start_soon(watch_disconnect)
                await self._stream(send)
                tasks.cancel_scope.cancel()
        finally:
            # to_thread.run_sync waits for a read in progress even when cancelled, so the
            # descriptor is never closed under a reading thread.
            self.opened.close()

    async def _stream(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        size = self.opened.size
        if not self.send_body or size == 0:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        offset = 0
        while offset < size:
            chunk = await anyio.to_thread.run_sync(
                os.pread, self.opened.fd, min(CHUNK_SIZE, size - offset), offset
            )
            if not chunk:
                # Only an in-place truncation can do this; the builder never does one. Abort so
                # the client sees a short body against Content-Length, not a "complete" file.
                raise OSError(f"{self.opened.path} 在发送中变短：{offset}/{size} 字节")
            offset += len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": offset < size})


def etag_of(sha256: str) -> str:
    return f'"{sha256}"'


def not_modified(request: Request, etag: str, mtime: float) -> bool:
    """RFC 9110 revalidation: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        candidates = [t.strip() for t in if_none_match.split(",")]
        return any(t.removeprefix("W/") == etag for t in candidates)
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False
        if since is None or since.tzinfo is None:
            return False
        return int(mtime) <= since.timestamp()
    return False


def content_disposition(kind: str, unicode_name: str, ascii_name: str) -> str:
    """``attachment`` keeping the Chinese name (RFC 6266/5987) with an ASCII fallback."""
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(unicode_name, safe='')}"


def safe_name(name: str, fallback: str) -> str:
    cleaned = _UNSAFE_NAME.sub("_", name).strip(" ._")
    return cleaned or fallback


def safe_ascii(name: str, fallback: str) -> str:
    cleaned = _UNSAFE_ASCII.sub("_", name).strip("._")
    return cleaned or fallback


def file_response(
    request: Request,
    opened: OpenFile,
    *,
    media_type: str,
    cache_control: str,
    disposition: str | None = None,
) -> Response:
    """200 streaming the open file, or 304 when the client's copy is current."""
    etag = etag_of(opened.sha256)
    headers = {
        "etag": etag,
        "last-modified": formatdate(opened.mtime, usegmt=True),
        "cache-control": cache_control,
    }
    if not_modified(request, etag, opened.mtime):
        opened.close()
        return Response(status_code=304, headers=headers)
    headers["repr-digest"] = (
        "sha-256=:" + base64.b64encode(bytes.fromhex(opened.sha256)).decode() + ":"
    )
    if disposition:
        headers["content-disposition"] = disposition
    return OpenFileResponse(
        opened, headers=headers, media_type=media_type, send_body=request.method != "HEAD"
    )
