"""Archiving a delivery unchanged: the sha256 that is its id, its place in the archive (a name
bounded to what the file system holds), the ``.sha256`` sidecar, and opening a delivered file
without following a link."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .inbox import Delivery

# File names in the archive and quarantine stay within this many bytes (NAME_MAX of ext4, XFS,
# btrfs, NTFS): the delivered name is shortened there and kept whole in the records and reports.
NAME_MAX_BYTES = 255


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open_regular(path) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def open_regular(path: Path | str):
    """Open a file for reading without following a symbolic link at its last component (a link
    swapped in after the inbox was scanned is refused with OSError, ELOOP)."""
    return os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb")


def bounded_name(name: str, *, prefix: str = "", reserve: int = 0) -> str:
    """``prefix + name`` shortened so that it and ``reserve`` more bytes (a suffix such as
    ``.sha256``) fit in NAME_MAX_BYTES: the middle of the name gives way to ``…`` and a hash of the
    whole name, the suffix (``.xlsx``) is kept. The original name stays in the records."""
    room = NAME_MAX_BYTES - reserve - len(prefix.encode("utf-8"))
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) <= room:
        return prefix + name
    stem, dot, suffix = name.rpartition(".")
    suffix = f".{suffix}" if dot and 0 < len(suffix.encode("utf-8")) <= 16 else ""
    stem = name[: len(name) - len(suffix)]
    tag = "…" + hashlib.sha256(raw).hexdigest()[:12]
    keep = room - len(tag.encode("utf-8")) - len(suffix.encode("utf-8"))
    head = stem.encode("utf-8", "surrogateescape")[:max(keep, 0)].decode("utf-8", "ignore")
    return prefix + head + tag + suffix


# The longest names written beside an archived or quarantined file: ".<name>.tmp" and
# "<name>.report.json".
_RESERVED_SUFFIX_BYTES = len(".report.json") + 1


def archive_path_for(delivery: Delivery, archive_dir: Path | str) -> Path:
    name = bounded_name(delivery.name, prefix=f"{delivery.sha256[:16]}__", reserve=_RESERVED_SUFFIX_BYTES)
    return Path(archive_dir) / delivery.source / name


def sha256sum_line(digest: str, name: str) -> str:
    r"""One line in ``sha256sum`` format. As GNU sha256sum does, a name holding a backslash or a
    line break is escaped (``\\``, ``\n``, ``\r``) and the line starts with a backslash, so
    ``sha256sum -c`` reads it back and no name can forge a second line."""
    if any(c in name for c in "\\\n\r"):
        escaped = name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
        return f"\\{digest}  {escaped}\n"
    return f"{digest}  {name}\n"


def archive_delivery(delivery: Delivery, archive_dir: Path | str, *, content: bytes | None = None) -> Path:
    """Store the file unchanged as ``<archive_dir>/<source>/<sha256[:16]>__<name>`` (the name
    shortened to fit the file system, see bounded_name) with a ``.sha256`` sidecar (sha256sum
    format, naming the archived file) and the original modification time. ``content`` is the
    file's bytes when the caller already read them. Idempotent: an identical copy is kept."""
    target = archive_path_for(delivery, archive_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not (target.exists() and target.stat().st_size == delivery.size and sha256_file(target) == delivery.sha256):
        tmp = _tmp_beside(target)
        if content is None:
            with open_regular(delivery.path) as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        else:
            tmp.write_bytes(content)
        if sha256_file(tmp) != delivery.sha256:
            tmp.unlink(missing_ok=True)
            raise OSError(f"{delivery.path}: file changed while being archived (sha256 differs)")
        os.utime(tmp, (delivery.mtime, delivery.mtime))
        os.replace(tmp, target)
    sidecar = target.with_name(target.name + ".sha256")
    if not sidecar.exists():
        tmp = _tmp_beside(sidecar)
        tmp.write_text(sha256sum_line(delivery.sha256, target.name), encoding="utf-8", errors="surrogateescape")
        os.replace(tmp, sidecar)
    return target


def _tmp_beside(target: Path) -> Path:
    """A hidden temporary name next to ``target``, short (within NAME_MAX whatever the target's
    name) and unique to this writer, so that two runs archiving the same file never share one."""
    return target.with_name(f".{hashlib.sha256(target.name.encode('utf-8', 'surrogateescape')).hexdigest()[:16]}"
                            f".{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
