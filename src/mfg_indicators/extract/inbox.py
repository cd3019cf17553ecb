"""Finding deliveries: the files under ``<inbox>/<source>/`` in arrival order (Delivery), and an
error finding for everything else in the inbox (links, special files, sub-folders, strays)."""

from __future__ import annotations

import datetime as dt
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..feeds import SOURCES
from ..findings import ERROR, Finding
from .archive import sha256_file
from .limits import ReadLimits, read_limits


@dataclass(frozen=True)
class Delivery:
    """One delivered file. ``sha256`` of its bytes is the delivery id."""

    path: Path
    source: str
    sha256: str
    size: int
    mtime: float  # POSIX seconds; arrival order is (mtime, name)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def delivery_id(self) -> str:
        return self.sha256

    @property
    def mtime_utc(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.mtime, dt.timezone.utc).replace(tzinfo=None)

    @classmethod
    def from_path(cls, path: Path | str, source: str | None = None) -> "Delivery":
        p = Path(path)
        src = source or p.parent.name
        if src not in SOURCES:
            raise ValueError(f"{p}: unknown source {src!r} (expected one of {', '.join(SOURCES)})")
        st = p.stat()
        return cls(path=p, source=src, sha256=sha256_file(p), size=st.st_size, mtime=st.st_mtime)


def _ignored_name(name: str) -> bool:
    # Hidden files, Excel lock files (~$x.xlsx) and partial downloads are not deliveries.
    return name.startswith((".", "~$")) or name.endswith((".tmp", ".part"))


def _printable_name(name: str) -> str:
    """A file name as text that can be written anywhere (undecodable bytes become U+FFFD)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@dataclass
class InboxScan:
    """What the inbox holds: the deliveries to read, and an error finding for everything else
    that is not ignored (links, special files, sub-folders, folders that are no source)."""

    deliveries: list[Delivery] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def scan_inbox(inbox: Path | str, source: str | None = None, *, limits: ReadLimits | None = None) -> InboxScan:
    """Every regular file in ``<inbox>/<source>/`` (all sources when None), in arrival order: file
    modification time, then name. Files of any suffix are returned (an unreadable one is rejected
    by the reader, with a report, rather than silently ignored).

    The inbox is no way into the machine: a symbolic or hard link, a device, pipe or socket is
    refused (never opened); a file in a sub-folder of a source folder, and (scanning all sources)
    a folder or file that belongs to no source, is reported, so that no delivery vanishes without
    a word. Hidden files, Excel lock files and partial downloads are ignored."""
    inbox = Path(inbox)
    limits = limits or read_limits()
    sources = [source] if source else list(SOURCES)
    for s in sources:
        if s not in SOURCES:
            raise ValueError(f"unknown source {s!r} (expected one of {', '.join(SOURCES)})")
    scan = InboxScan()

    def refuse(src: str, name: str, rule: str, message: str, message_en: str) -> None:
        scan.findings.append(Finding(level=ERROR, source=src, rule=rule, file=_printable_name(name),
                                     message=message, message_en=message_en))

    for s in sources:
        folder = inbox / s
        try:
            st = os.lstat(folder)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
            refuse(s, f"{s}/", "inbox_not_a_folder", f"来源文件夹“{s}/”是链接或不是普通文件夹，已拒绝读取其中的任何文件",
                   f"source folder {s}/ is a link or not a plain folder; nothing in it is read")
            continue
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            refuse(s, f"{s}/", "inbox_unreadable", f"来源文件夹“{s}/”无法读取（{exc.strerror or exc}），其中的文件未读取",
                   f"source folder {s}/ cannot be listed: {exc}")
            continue
        for e in entries:
            if _ignored_name(e.name):
                continue
            try:
                est = e.stat(follow_symlinks=False)
            except FileNotFoundError:  # moved away while we looked (e.g. to quarantine)
                continue
            shown = _printable_name(e.name)
            if stat.S_ISLNK(est.st_mode):
                refuse(s, e.name, "inbox_link", f"“{shown}”是符号链接，已拒绝读取（链接可指向收件箱以外的文件）；请报送文件本身",
                       "symbolic link refused (it may point outside the inbox)")
            elif stat.S_ISDIR(est.st_mode):
                for rel in _files_below(Path(e.path), limits.max_inbox_entries):
                    refuse(s, f"{e.name}/{rel}", "inbox_subfolder",
                           f"文件位于子文件夹“{s}/{shown}/”中，未读取；请直接放在“{s}/”文件夹下报送",
                           f"file in sub-folder {s}/{shown}/ not read (deliveries go directly into {s}/)")
            elif not stat.S_ISREG(est.st_mode):
                refuse(s, e.name, "inbox_special_file", f"“{shown}”不是普通文件（设备、管道或套接字），已拒绝读取",
                       "not a regular file (device, pipe or socket); refused")
            elif est.st_nlink > 1:
                refuse(s, e.name, "inbox_hardlink", f"“{shown}”是硬链接（与收件箱以外的文件共用内容），已拒绝读取；请报送文件副本",
                       "hard link refused (it shares its content with a file outside the inbox)")
            elif shown != e.name:
                refuse(s, e.name, "bad_file_name", f"文件名“{shown}”含无法识别的字符（不是 UTF-8 编码），未读取；请改名后重新报送",
                       "file name is not valid UTF-8; not read")
            else:
                try:
                    scan.deliveries.append(Delivery.from_path(Path(e.path), s))
                except FileNotFoundError:
                    continue
                except OSError as exc:  # e.g. no read permission, or a link swapped in since the scan
                    refuse(s, e.name, "inbox_unreadable", f"“{shown}”无法读取（{exc.strerror or exc}），未读取",
                           f"cannot read file: {exc}")
    if source is None and inbox.is_dir():
        with os.scandir(inbox) as it:
            strays = sorted((e for e in it if e.name not in SOURCES and not _ignored_name(e.name)),
                            key=lambda e: e.name)
        for e in strays:
            shown = _printable_name(e.name)
            if e.is_dir(follow_symlinks=False):
                for rel in _files_below(Path(e.path), limits.max_inbox_entries):
                    refuse("inbox", f"{e.name}/{rel}", "inbox_unknown_folder",
                           f"文件夹“{shown}/”不是任何数据来源（应为 {'、'.join(SOURCES)}），其中的文件未读取",
                           f"folder {shown}/ is no source ({', '.join(SOURCES)}); its files are not read")
            else:
                refuse("inbox", e.name, "inbox_stray_file",
                       f"文件直接放在收件箱根目录，未读取；请放入对应来源的文件夹（{'、'.join(SOURCES)}）",
                       "file at the top of the inbox is not read (deliveries go into a source folder)")
    scan.deliveries.sort(key=lambda d: (d.mtime, d.name, d.source))
    return scan


def _files_below(folder: Path, max_entries: int) -> list[str]:
    """Relative paths of the non-ignored files below ``folder`` (links not followed), at most
    ``max_entries`` of them (the last entry then says how many more were not looked at)."""
    out: list[str] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not _ignored_name(d))
        for name in sorted(files):
            if _ignored_name(name):
                continue
            if len(out) >= max_entries:
                return out + ["…"]
            out.append(str((Path(root) / name).relative_to(folder)))
    return out


def find_deliveries(inbox: Path | str, source: str | None = None) -> list[Delivery]:
    """The deliveries of ``scan_inbox`` (its findings about what is not a delivery aside)."""
    return scan_inbox(inbox, source).deliveries
