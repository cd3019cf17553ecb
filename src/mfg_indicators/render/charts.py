"""The bulletin's charts (matplotlib, Agg, PNG), from ``context["chart_data"]``:

- growth: 规上工业增加值累计增速 by month of the year against the target line (last year's
  same months dashed, for comparison);
- per_mu: 亩均税收 and 亩均增加值 (折年) by industry group, the excluded group (钢压延) hatched
  and labelled apart, the targets as lines;
- status: the status of every indicator, per 攻坚组 (stacked bars in the table's colours).

CJK labels: ``font.sans-serif`` names the configured 黑体 family or the installed Noto CJK
fallback (mfg_indicators.render.fonts.chart_font), so labels never print as boxes. Output is
deterministic (no timestamp in the PNG metadata).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import rc_context  # noqa: E402

from .fonts import chart_font  # noqa: E402

CHART_KEYS = ("growth", "per_mu", "status")
DPI = 150
_METADATA = {"Software": None}


def _save(fig, path: Path, **kwargs) -> Path:
    """Lay out, write the PNG (no software tag: the same data gives the same bytes), close."""
    fig.tight_layout()
    fig.savefig(path, dpi=DPI, metadata=_METADATA, **kwargs)
    plt.close(fig)
    return path


def _rc(fonts: Mapping[str, str]) -> dict[str, Any]:
    return {
        "font.family": "sans-serif",
        "font.sans-serif": chart_font(fonts),
        "axes.unicode_minus": False,  # CJK fonts lack U+2212 in places; use '-'
        "font.size": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.hashsalt": "bulletin",
    }


def _hex(fill: str) -> str:
    return f"#{fill}"


def growth_chart(data: Mapping[str, Any], path: Path) -> Path:
    months = data["months"]
    labels = [f"{m}月" if m == 1 else f"1—{m}月" for m in months]
    fig, ax = plt.subplots(figsize=(7.2, 3.6))
    x = list(range(len(months)))
    cur = data["values"]
    prev = data.get("prev_values") or []
    if any(v is not None for v in prev):
        px = [i for i, v in zip(x, prev) if v is not None]
        ax.plot(px, [v for v in prev if v is not None], color="#999999", linestyle="--", marker="o",
                markersize=3, linewidth=1, label=f"{data['prev_year']}年同期")
    if any(v is not None for v in cur):
        cx = [i for i, v in zip(x, cur) if v is not None]
        cy = [v for v in cur if v is not None]
        ax.plot(cx, cy, color="#1f4e9c", marker="o", linewidth=2, label=f"{data['year']}年")
        for i, v in zip(cx, cy):
            ax.annotate(f"{v:.1f}", (i, v), textcoords="offset points", xytext=(0, 6), ha="center",
                        fontsize=9, color="#1f4e9c")
    else:
        ax.text(0.5, 0.5, "暂无数据", transform=ax.transAxes, ha="center", va="center", fontsize=14,
                color="#666666")
    if data.get("target") is not None:
        ax.axhline(data["target"], color="#c00000", linestyle="--", linewidth=1.2,
                   label=f"目标 {data['target']:g}%")
    ax.set_xticks(x, labels)
    ax.set_xlim(-0.5, len(x) - 0.5)
    ax.set_ylabel("累计增速（%）")
    ax.set_title(data["title"], fontsize=12)
    ax.axhline(0, color="#444444", linewidth=0.6)
    ax.legend(loc="best", fontsize=9, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def per_mu_chart(data: Mapping[str, Any], path: Path) -> Path:
    groups = list(data["groups"])
    excluded = list(data["excluded"])
    labels = [f"{g}\n（不计入目标）" if ex else g for g, ex in zip(groups, excluded)]
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.6))
    for ax, key, title, target_key, colour in (
        (axes[0], "tax", "亩均税收", "tax_target", "#2e75b6"),
        (axes[1], "va", "亩均增加值", "va_target", "#548235"),
    ):
        values = data[key]
        x = list(range(len(groups)))
        top = max([v for v in values if v is not None] + [data.get(target_key) or 0, 1])
        for i, (v, ex) in enumerate(zip(values, excluded)):
            if v is None:
                ax.text(i, top * 0.03, "不列示", ha="center", va="bottom", fontsize=8, color="#666666",
                        rotation=90)
                continue
            ax.bar(i, v, color="#bfbfbf" if ex else colour, hatch="//" if ex else None,
                   edgecolor="#7f7f7f" if ex else colour, width=0.6)
            ax.text(i, v, f"{v:.2f}", ha="center", va="bottom", fontsize=8)
        if data.get(target_key) is not None:
            ax.axhline(data[target_key], color="#c00000", linestyle="--", linewidth=1.2,
                       label=f"目标 {data[target_key]:g}")
            ax.legend(loc="upper right", fontsize=8, frameon=False)
        ax.set_xticks(x, labels, fontsize=8)
        ax.set_ylim(0, top * 1.18)
        ax.set_title(f"{title}（万元/亩）", fontsize=11)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(data["title"], fontsize=12)
    return _save(fig, path)


def status_chart(data: Mapping[str, Any], path: Path) -> Path:
    groups = list(data["groups"])
    fig, ax = plt.subplots(figsize=(7.2, 0.55 * len(groups) + 1.6))
    y = list(range(len(groups)))[::-1]
    left = [0] * len(groups)
    for status, counts in data["counts"].items():
        if not any(counts):
            continue
        ax.barh(y, counts, left=left, color=_hex(data["fills"][status]), edgecolor="#595959",
                linewidth=0.5, label=data["labels"][status], height=0.6)
        for yi, l0, c in zip(y, left, counts):
            if c:
                ax.text(l0 + c / 2, yi, str(c), ha="center", va="center", fontsize=9)
        left = [a + b for a, b in zip(left, counts)]
    ax.set_yticks(y, groups)
    ax.set_xlabel("指标数（项）")
    ax.set_xlim(0, max(left + [1]) * 1.05)
    ax.set_title(data["title"], fontsize=12)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22 if len(groups) > 3 else -0.35),
              ncol=5, fontsize=8, frameon=False)
    return _save(fig, path, bbox_inches="tight")


MAKERS = {"growth": growth_chart, "per_mu": per_mu_chart, "status": status_chart}


def chart_path(out_dir: Path, prefix: str, key: str) -> Path:
    return Path(out_dir) / f"{prefix}-{key}.png"


def render_chart(key: str, data: Mapping[str, Any], fonts: Mapping[str, str], out_dir: Path,
                 prefix: str) -> Path:
    """Write one chart (``key`` in CHART_KEYS) as ``{prefix}-{key}.png``; the same bytes whether
    drawn alone or by render_charts."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with rc_context(_rc(fonts)):
        return MAKERS[key](data, chart_path(out_dir, prefix, key))


def render_charts(chart_data: Mapping[str, Any], fonts: Mapping[str, str], out_dir: Path,
                  prefix: str) -> dict[str, Path]:
    """Write the three PNGs as ``{prefix}-{key}.png``; returns key -> path."""
    return {key: render_chart(key, chart_data[key], fonts, out_dir, prefix) for key in CHART_KEYS}
