"""ZIP archives of extracts: each member file is its own batch, named `archive.zip!member`.

Why guarded: an archive is the one input that can claim to be much larger than it is. The
members' declared uncompressed sizes count against `[ingest] archive_max_bytes`; a member that
would pass that total is refused, unread (zipfile never inflates more than a member declares).
A member whose name would escape the archive (`../x.csv`, `/etc/x`, `C:\\x`) is refused by its
name and never written under it: members are copied to temporary files of our own naming.
Encrypted members are refused; nested archives are refused by the format check. Names written
by Chinese Windows without the UTF-8 flag are decoded as GBK, so the clerk sees 行政处罚.csv.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from urbanreport.ingest.refusal import FileRefused

_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1


@dataclass(frozen=True)
class Member:
    """One file in an archive: its shown name, and why it is refused unread (if it is)."""

    name: str
    info: zipfile.ZipInfo
    refusal: str | None = None


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as the clerk's computer shows it (GBK names without the UTF-8 flag)."""
    name = info.filename
    if not info.flag_bits & _UTF8_FLAG and not name.isascii():
        raw = name.encode("cp437")
        for codec in ("utf-8", "gb18030"):
            try:
                return raw.decode(codec)
            except UnicodeDecodeError:
                continue
    return name


def escapes(name: str) -> bool:
    """Would the name point outside the archive's folder (absolute, a drive, or `..`)?"""
    posix = name.replace("\\", "/")
    return (
        posix.startswith("/")
        or (len(posix) > 1 and posix[1] == ":")
        or ".." in PurePosixPath(posix).parts
    )


@contextmanager
def open_archive(path: Path) -> Iterator[zipfile.ZipFile]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise FileRefused("压缩包已损坏，无法打开 (the ZIP archive is damaged)") from exc
    with zf:
        yield zf


def members(zf: zipfile.ZipFile, max_bytes: int) -> list[Member]:
    """The archive's files in name order, each with its refusal; folders are left out."""
    found = [(member_name(i), i) for i in zf.infolist() if not i.is_dir()]
    total = 0
    out = []
    for name, info in sorted(found, key=lambda m: m[0]):
        refusal = None
        if escapes(name):
            refusal = (
                f"压缩包内的文件名“{name}”指向压缩包以外的位置，已拒绝 "
                "(the member's name would escape the archive)"
            )
        elif info.flag_bits & _ENCRYPTED_FLAG:
            refusal = "压缩包内的文件设有密码，无法读取 (the member is encrypted)"
        elif total + info.file_size > max_bytes:
            refusal = (
                f"压缩包解压后超过允许的总大小 {max_bytes:,} 字节（[ingest] archive_max_bytes） "
                f"(the archive's members exceed the configured total of {max_bytes:,} bytes)"
            )
        else:
            total += info.file_size
        out.append(Member(name, info, refusal))
    return out


def extract(zf: zipfile.ZipFile, member: Member, folder: Path) -> Path:
    """Copy one member to a temporary file of our own naming (its extension kept)."""
    suffix = PurePosixPath(member.name.replace("\\", "/")).suffix[:16]
    target = folder / f"member{suffix}"
    try:
        with zf.open(member.info) as src, target.open("wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        target.unlink(missing_ok=True)
        raise FileRefused(
            "压缩包内的文件已损坏或使用了不支持的压缩方式 (the member is damaged or uses an "
            "unsupported compression method)"
        ) from exc
    return target
