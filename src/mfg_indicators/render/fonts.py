"""Fonts are configuration (config ``fonts``: title, body, heading, subheading and optionally
page_number — each a list).

The Word file is opened on the office's PCs, where the plan's fonts (仿宋_GB2312, 方正小标宋简体 …)
are installed: it names each role's first configured family (:func:`office_fonts`), never the
rendering machine's fallback. The PDF and the charts are made on the rendering machine and embed
what it has (:func:`resolve_fonts`): for each role the first family installed there wins
(fontconfig is what WeasyPrint uses; matplotlib's list is consulted too); when none is, the free
fallback — Debian fonts-noto-cjk, installed by scripts/ensure-system-packages.sh — is named.
Windows-only names such as 仿宋_GB2312 are therefore never named blindly in CSS, where they would
fall back silently.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from functools import lru_cache
from typing import Any, Mapping

log = logging.getLogger(__name__)

ROLES = ("title", "body", "heading", "subheading")
FALLBACKS = {
    "title": "Noto Serif CJK SC",
    "body": "Noto Serif CJK SC",
    "heading": "Noto Sans CJK SC",
    "subheading": "Noto Serif CJK SC",
}
# Word roles: the four text roles and the page number (GB/T 9704: 4号半角宋体), which uses the
# body's families when the plan names none of its own.
OFFICE_ROLES = ROLES + ("page_number",)
CHART_FALLBACKS = ("Noto Sans CJK SC", "Noto Serif CJK SC", "AR PL UKai CN", "AR PL UMing CN")


@lru_cache(maxsize=1)
def installed_families() -> frozenset[str]:
    """Family names (lower case) known to fontconfig or matplotlib on this machine."""
    names: set[str] = set()
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(["fc-list", "--format", "%{family}\n"], capture_output=True,
                                 text=True, timeout=60, check=False).stdout
            for line in out.splitlines():
                names.update(n.strip().lower() for n in line.split(",") if n.strip())
        except (OSError, subprocess.SubprocessError):  # pragma: no cover - machine specific
            log.warning("fc-list failed; relying on matplotlib's font list")
    try:
        from matplotlib import font_manager

        names.update(f.name.lower() for f in font_manager.fontManager.ttflist)
    except Exception:  # pragma: no cover - matplotlib missing or broken
        pass
    return frozenset(names)


def is_installed(family: str) -> bool:
    return family.lower() in installed_families()


def resolve_fonts(fonts_cfg: Mapping[str, Any]) -> dict[str, str]:
    """role -> the family to use: the first configured family installed, else the fallback."""
    chosen = {}
    for role in ROLES:
        candidates = list(fonts_cfg.get(role) or [])
        pick = next((f for f in candidates if is_installed(f)), None)
        if pick is None:
            pick = FALLBACKS[role]
            if not is_installed(pick):
                log.warning("no CJK font installed for %s (tried %s, fallback %s); run "
                            "scripts/ensure-system-packages.sh", role, candidates, pick)
        chosen[role] = pick
    return chosen


def office_fonts(fonts_cfg: Mapping[str, Any]) -> dict[str, str]:
    """role -> the first configured family, for the Word file (see module docstring)."""
    return {role: list(fonts_cfg.get(role) or fonts_cfg["body"])[0] for role in OFFICE_ROLES}


def chart_font(fonts: Mapping[str, str]) -> list[str]:
    """matplotlib ``font.sans-serif`` list: the heading (黑体) family first, then the installed
    CJK fallbacks, so that labels never print as boxes."""
    from matplotlib import font_manager

    known = {f.name for f in font_manager.fontManager.ttflist}
    order = [fonts.get("heading"), fonts.get("body"), *CHART_FALLBACKS]
    out = []
    for name in order:
        if name and name in known and name not in out:
            out.append(name)
    return out + ["DejaVu Sans"]
