"""HTML pieces for the pytest-html report: the gate banner, the start-up timeline chart and the page title.

Pure functions returning strings. The report must stay self-contained: inline styles only, no external
CSS, scripts, fonts or URLs (the one URL in the output is the SVG namespace, which is an identifier).
All caller text is escaped here; callers pass plain text.
"""

from __future__ import annotations

import html
import math
import re
import textwrap
from datetime import UTC, datetime

__all__ = ["banner", "page_title", "timeline_svg", "format_duration", "format_utc"]

SVG_NS = "http://www.w3.org/2000/svg"

# status -> (headline, colour, symbol). White text on these colours is >= 4.5:1 contrast;
# the symbol keeps the status readable without colour.
_STATUS = {
    "PASSED": ("GATE PASSED", "#1a7f37", "\u2714"),
    "FAILED": ("GATE FAILED", "#cf222e", "\u2716"),
    "INCOMPLETE": ("GATE INCOMPLETE", "#b45309", "!"),
}
_UNKNOWN_COLOUR = "#57606a"
_PROBLEMS_HEADING = {"PASSED": "Notes", "FAILED": "Why the gate failed", "INCOMPLETE": "Why the gate is incomplete"}

_TEXT = "#1f2328"  # pytest-html sets body text to #999; every piece sets its own colour
_MUTED = "#57606a"
_FONT = "Helvetica, Arial, 'DejaVu Sans', sans-serif"

# Characters that are not allowed in XML 1.0; a stray one (say, from container output) would break the SVG.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _esc(text: object) -> str:
    """Escape text for HTML and XML alike, dropping characters XML forbids."""
    return html.escape(_XML_INVALID.sub("", str(text)), quote=True)


def format_utc(epoch: float) -> str:
    """Render an epoch time as '2026-11-28 13:05:02 UTC'."""
    try:
        return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError, TypeError):
        return "-"


def format_duration(seconds: float) -> str:
    """Render a duration as '42 s', '3 m 12 s' or '1 h 02 m 05 s'."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "-"
    if seconds < 10:
        return f"{seconds:.1f} s"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} m {secs:02d} s"
    if minutes:
        return f"{minutes} m {secs} s"
    return f"{secs} s"


def page_title(gate: str, status: str) -> str:
    """The report's title as plain text, e.g. 'stackgate — smoke gate: PASSED' (pytest-html escapes it)."""
    return f"stackgate \u2014 {_gate_name(gate)}: {str(status).strip().upper()}"


def _gate_name(gate: str) -> str:
    """'smoke' -> 'smoke gate'; a name that already ends in 'gate' is kept."""
    gate = str(gate).strip()
    return gate if gate.lower().endswith("gate") else f"{gate} gate"


def _problem_item(line: str) -> str:
    """One problem as an <li>; the check's name (text before the first ': ') is bold."""
    name, sep, rest = str(line).partition(": ")
    body = f"<b>{_esc(name)}:</b> {_esc(rest)}" if sep and len(name) <= 60 else _esc(line)
    return f"<li style='margin:3px 0'>{body}</li>"


def banner(gate: str, status: str, problems: list[str], tested: list[tuple[str, str]], started: float, seconds: float,
           caveat: str = "") -> str:
    """The report's first screen: the gate verdict (with a caveat beside it, e.g. that backends were stand-ins),
    why it is not green, and what was tested."""
    key = str(status).strip().upper()
    headline, colour, symbol = _STATUS.get(key, (f"GATE {key or 'UNKNOWN'}", _UNKNOWN_COLOUR, "?"))
    when = f"started {format_utc(started)} \u00b7 took {format_duration(seconds)}"
    head = (
        f"<div style='background:{colour};color:#fff;padding:14px 20px 12px;border-radius:6px'>"
        f"<div style='font-size:34px;font-weight:bold;line-height:1.15;letter-spacing:0.5px;color:#fff'>"
        f"<span aria-hidden='true' style='margin-right:12px'>{symbol}</span>{_esc(headline)}</div>"
        f"<div style='font-size:16px;margin-top:4px;color:#fff'><b>{_esc(_gate_name(gate))}</b>"
        + (f" &nbsp;\u00b7&nbsp; <b>{_esc(caveat)}</b>" if caveat else "")
        + f" &nbsp;\u00b7&nbsp; {_esc(when)}</div></div>"
    )
    blocks = []
    if problems or key != "PASSED":
        items = "".join(_problem_item(p) for p in problems) or "<li>No details were recorded.</li>"
        heading = _PROBLEMS_HEADING.get(key, "Problems")
        blocks.append(
            f"<div style='flex:0 1 640px;min-width:300px'>"
            f"<div style='font-size:15px;font-weight:bold;color:{_TEXT};margin:0 0 4px'>{_esc(heading)}</div>"
            f"<ul style='margin:0;padding-left:20px;font-size:14px;line-height:1.4;color:{_TEXT}'>{items}</ul></div>"
        )
    if tested:
        rows = "".join(
            f"<tr><td style='padding:2px 14px 2px 0;color:{_MUTED};white-space:nowrap;vertical-align:top'>{_esc(k)}</td>"
            f"<td style='padding:2px 0;color:{_TEXT}'>{_esc(v)}</td></tr>"
            for k, v in tested
        )
        blocks.append(
            f"<div style='flex:0 1 auto;min-width:260px'>"
            f"<div style='font-size:15px;font-weight:bold;color:{_TEXT};margin:0 0 4px'>What was tested</div>"
            f"<table style='border-collapse:collapse;font-size:13px;line-height:1.35'>{rows}</table></div>"
        )
    body = (f"<div style='display:flex;flex-wrap:wrap;gap:12px 40px;align-items:flex-start;padding:12px 4px 0'>"
            f"{''.join(blocks)}</div>") if blocks else ""
    return (f"<section class='stackgate-banner' data-status='{_esc(key)}' "
            f"style='margin:8px 0 24px;font-family:{_FONT};color:{_TEXT}'>{head}{body}</section>")


# --- the start-up timeline -------------------------------------------------------------------------------------------

_MEASURED = "#2f6fde"
_SLOW = "#d97706"  # measured beyond expected
_EXPECTED = "#8c959f"
_GRID = "#e1e4e8"
# Linear scale while every non-zero bar is at least 1/_LINEAR_MAX_RATIO of the axis, otherwise log scale.
_LINEAR_MAX_RATIO = 25


def _value(v: float | None) -> float | None:
    """A usable number of seconds, or None (missing, negative, NaN, infinite)."""
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) and f >= 0 else None


def _fmt_seconds(v: float) -> str:
    """A bar-end label: '8.3 s' below ten seconds, whole seconds above."""
    return f"{v:.1f} s" if v < 10 and v != int(v) else f"{v:.0f} s"


def _fmt_tick(v: float) -> str:
    """A tick label without float noise: 0.1, 2, 50, 1000."""
    return f"{v:.10g}"


def _nice_125(x: float, up: bool) -> float:
    """The nearest 1-2-5 series value at or above (up) or at or below x."""
    exp = math.floor(math.log10(x))
    series = [m * 10.0**e for e in (exp - 1, exp, exp + 1) for m in (1, 2, 5)]
    return min(s for s in series if s >= x * (1 - 1e-9)) if up else max(s for s in series if s <= x * (1 + 1e-9))


def _linear_scale(top: float) -> tuple[float, float, list[float]]:
    """(axis min, axis max, ticks) for a linear axis from 0 with about six nice ticks."""
    step = _nice_125(max(top, 1e-9) / 6, up=True)
    hi = math.ceil(top / step - 1e-9) * step if top > 0 else step
    return 0.0, hi, [round(i * step, 10) for i in range(round(hi / step) + 1)]


def _log_scale(low: float, top: float) -> tuple[float, float, list[float]]:
    """(axis min, axis max, ticks) for a log axis: a power of ten well below the smallest value up to a 1-2-5 value."""
    lo = 10.0 ** math.floor(math.log10(low / 2))  # the smallest bar still spans ~0.3 decade or more
    hi = _nice_125(top, up=True)
    decades = math.log10(hi / lo)
    mults = (1, 2, 5) if decades <= 4 else (1,)
    ticks = [m * 10.0**e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1) for m in mults]
    ticks = [round(t, 10) for t in ticks if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9)]
    if ticks[-1] < hi * (1 - 1e-9):
        ticks.append(hi)
    return lo, hi, ticks


def timeline_svg(rows: list[tuple[str, float | None, float | None]], title: str, note: str = "") -> str:
    """An inline SVG bar chart: per service, seconds to healthy (measured) against the manifest's expectation."""
    width, pad, font = 760, 12, _FONT.replace("'", "")
    data = [(str(name), _value(m), _value(e)) for name, m, e in rows]
    names = [n if len(n) <= 28 else n[:27] + "\u2026" for n, _, _ in data]
    name_w = min(max([len(n) for n in names] + [6]) * 7 + 16, 210)
    x0, x1 = pad + name_w, width - 70  # the right margin holds the bar-end labels
    values = [v for _, m, e in data for v in (m, e) if v is not None]
    positive = [v for v in values if v > 0]
    top = max(values, default=0.0)

    # Scale choice. Expected values can dwarf measured ones (a first run expects 900 s while a warm start takes
    # 12 s); on a linear axis those bars shrink to a pixel or two and the chart says nothing. So: linear (easiest to
    # read, bar length proportional to time) while the smallest non-zero value is at least 1/25 of the largest,
    # otherwise log10 with 1-2-5 ticks, where 12 s and 900 s both get readable bars and equal ratios get equal
    # distances. The axis caption says which scale is in use, and every bar carries its number anyway.
    log = bool(positive) and min(positive) * _LINEAR_MAX_RATIO < top
    lo, hi, ticks = _log_scale(min(positive), top) if log else _linear_scale(top)

    def x(v: float) -> float:
        if log:
            v = min(max(v, lo), hi)
            return x0 + (x1 - x0) * math.log10(v / lo) / math.log10(hi / lo)
        return x0 + (x1 - x0) * min(v, hi) / hi

    out: list[str] = []
    y = 24
    out.append(f"<text x='{pad}' y='{y}' font-size='16' font-weight='bold' fill='{_TEXT}'>{_esc(title)}</text>")
    for line in textwrap.wrap(_XML_INVALID.sub("", note), width=110):
        y += 17
        out.append(f"<text x='{pad}' y='{y}' font-size='12' fill='{_MUTED}'>{_esc(line)}</text>")

    # legend
    y += 22
    slow = any(m is not None and e is not None and m > e for _, m, e in data)
    lx = x0
    out.append(f"<rect x='{lx}' y='{y - 10}' width='22' height='12' fill='{_MEASURED}'/>")
    out.append(f"<text x='{lx + 28}' y='{y}' font-size='12' fill='{_TEXT}'>measured</text>")
    lx += 110
    if slow:
        out.append(f"<rect x='{lx}' y='{y - 10}' width='22' height='12' fill='{_SLOW}'/>")
        out.append(f"<text x='{lx + 28}' y='{y}' font-size='12' fill='{_TEXT}'>measured, slower than expected</text>")
        lx += 230
    out.append(f"<rect x='{lx}' y='{y - 5}' width='22' height='4' fill='{_EXPECTED}'/>")
    out.append(f"<rect x='{lx + 21}' y='{y - 9}' width='2' height='12' fill='{_EXPECTED}'/>")
    out.append(f"<text x='{lx + 28}' y='{y}' font-size='12' fill='{_TEXT}'>expected</text>")
    if any(m is None or e is None for _, m, e in data):
        out.append(f"<text x='{lx + 110}' y='{y}' font-size='12' fill='{_TEXT}'><tspan font-weight='bold'>-</tspan>"
                   f" no value</text>")

    row_h = 30
    top_y = y + 12
    bottom_y = top_y + row_h * max(len(data), 1)

    # stripes and grid first, so bars and labels draw over them
    for i in range(len(data)):
        if i % 2 == 0:
            out.append(f"<rect x='{pad}' y='{top_y + i * row_h}' width='{width - 2 * pad}' height='{row_h}' fill='#f6f8fa'/>")
    for t in ticks:
        tx = round(x(t), 1)
        out.append(f"<line x1='{tx}' y1='{top_y}' x2='{tx}' y2='{bottom_y}' stroke='{_GRID}' stroke-width='1'/>")
        out.append(f"<line x1='{tx}' y1='{bottom_y}' x2='{tx}' y2='{bottom_y + 5}' stroke='{_MUTED}' stroke-width='1'/>")
        out.append(f"<text x='{tx}' y='{bottom_y + 18}' font-size='11' fill='{_MUTED}' "
                   f"text-anchor='middle'>{_fmt_tick(t)}</text>")
    out.append(f"<line x1='{x0}' y1='{top_y}' x2='{x0}' y2='{bottom_y}' stroke='{_MUTED}' stroke-width='1'/>")
    out.append(f"<line x1='{x0}' y1='{bottom_y}' x2='{x1}' y2='{bottom_y}' stroke='{_MUTED}' stroke-width='1'/>")
    caption = "seconds to healthy" + (" (log scale)" if log else "")
    out.append(f"<text x='{(x0 + x1) / 2}' y='{bottom_y + 36}' font-size='12' fill='{_MUTED}' "
               f"text-anchor='middle'>{caption}</text>")

    if not data:
        out.append(f"<text x='{x0 + 8}' y='{top_y + 19}' font-size='12' fill='{_MUTED}'>no services</text>")
    for i, ((full, m, e), name) in enumerate(zip(data, names)):
        ry = top_y + i * row_h
        tip = f"<title>{_esc(full)}</title>" if name != full else ""
        out.append(f"<text x='{x0 - 8}' y='{ry + 17}' font-size='12' fill='{_TEXT}' text-anchor='end'>{tip}{_esc(name)}</text>")
        if m is None:
            out.append(f"<text x='{x0 + 6}' y='{ry + 17}' font-size='15' font-weight='bold' fill='{_TEXT}'>-</text>")
        else:
            end = x(m)
            colour = _SLOW if e is not None and m > e else _MEASURED
            out.append(f"<rect x='{x0}' y='{ry + 5}' width='{max(end - x0, 2):.1f}' height='13' fill='{colour}'/>")
            out.append(f"<text x='{max(end, x0 + 2) + 5:.1f}' y='{ry + 16}' font-size='12' font-weight='bold' "
                       f"fill='{_TEXT}'>{_fmt_seconds(m)}</text>")
        if e is None:
            out.append(f"<text x='{x0 + 6}' y='{ry + 28}' font-size='12' font-weight='bold' fill='{_MUTED}'>-</text>")
        else:
            end = x(e)
            out.append(f"<rect x='{x0}' y='{ry + 21}' width='{max(end - x0, 1):.1f}' height='3' fill='{_EXPECTED}'/>")
            out.append(f"<rect x='{max(end - 1, x0):.1f}' y='{ry + 18}' width='2' height='9' fill='{_EXPECTED}'/>")
            out.append(f"<text x='{max(end, x0) + 5:.1f}' y='{ry + 27}' font-size='10' fill='{_MUTED}'>{_fmt_seconds(e)}</text>")

    height = bottom_y + 48
    label = _esc(title + (f" \u2014 {note}" if note else ""))
    return (f"<svg xmlns='{SVG_NS}' width='{width}' height='{height}' viewBox='0 0 {width} {height}' role='img' "
            f"aria-label='{label}' font-family=\"{font}\" style='max-width:100%;height:auto;display:block;margin:8px 0 16px'>"
            f"<title>{label}</title><rect width='{width}' height='{height}' fill='#ffffff'/>{''.join(out)}</svg>")


def latency_bars_svg(groups: list[tuple[str, dict[str, float]]], title: str, bound: dict[str, float] | None = None) -> str:
    """An inline SVG grouped bar chart of latencies (s): per group (a layout), bars for idle / loaded p50 / p95,
    and the group's bound on the loaded p95 as a red tick when given."""
    keys = ["idle p50", "idle p95", "loaded p50", "loaded p95"]
    colours = {"idle p50": "#9ecae1", "idle p95": "#3182bd", "loaded p50": "#fdae6b", "loaded p95": "#e6550d"}
    width, bar_h, gap, pad, font = 760, 14, 10, 12, _FONT.replace("'", "")
    x0 = 12 + 170  # the group names take the first 170 px
    x1 = width - 80
    values = [v for _, g in groups for v in g.values() if v == v] + list((bound or {}).values())
    top = max(values, default=1.0) or 1.0
    scale = (x1 - x0) / top
    y, parts = 34, []
    for name, data in groups:
        parts.append(f"<text x='{pad}' y='{y + 2 * bar_h}' font-size='13' font-family='{font}'>{html.escape(name)}</text>")
        for key in keys:
            v = data.get(key)
            if v is not None and v == v:
                parts.append(f"<rect x='{x0}' y='{y}' width='{max(v * scale, 1):.1f}' height='{bar_h - 2}' "
                             f"fill='{colours[key]}'><title>{html.escape(name)} {key}: {v:.2f} s</title></rect>")
                parts.append(f"<text x='{x0 + v * scale + 4:.1f}' y='{y + bar_h - 4}' font-size='11' "
                             f"font-family='{font}'>{key} {v:.2f} s</text>")
            y += bar_h
        if bound and name in bound:
            bx = x0 + bound[name] * scale
            parts.append(f"<line x1='{bx:.1f}' x2='{bx:.1f}' y1='{y - 4 * bar_h}' y2='{y}' stroke='#c00' stroke-width='2'>"
                         f"<title>bound on loaded p95: {bound[name]:.2f} s</title></line>")
        y += gap
    head = f"<text x='{pad}' y='18' font-size='14' font-weight='bold' font-family='{font}'>{html.escape(title)}</text>"
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{y + 10}' role='img' "
            f"aria-label='{html.escape(title)}'>{head}{''.join(parts)}</svg>")


def grouped_bars_svg(title: str, categories: list[str], series: dict[str, list[float | None]], unit: str) -> str:
    """An inline SVG grouped bar chart: one group per category (e.g. a concurrency), one bar per series (e.g. a
    backend), each bar labelled with its value."""
    palette = ["#3182bd", "#e6550d", "#31a354", "#756bb1"]
    width, height, pad, font = 760, 260, 40, _FONT.replace("'", "")
    values = [v for vs in series.values() for v in vs if v is not None and v == v]
    top = max(values, default=1.0) or 1.0
    plot_h = height - 2 * pad - 20
    group_w = (width - 2 * pad) / max(len(categories), 1)
    bar_w = max(min(group_w / (len(series) + 1), 60), 4)
    parts = [f"<text x='{pad}' y='18' font-size='14' font-weight='bold' font-family='{font}'>{html.escape(title)}</text>"]
    for gi, cat in enumerate(categories):
        gx = pad + gi * group_w
        parts.append(f"<text x='{gx + group_w / 2:.1f}' y='{height - 12}' font-size='12' text-anchor='middle' "
                     f"font-family='{font}'>{html.escape(cat)}</text>")
        for si, (name, vs) in enumerate(series.items()):
            v = vs[gi] if gi < len(vs) else None
            if v is None or v != v:
                continue
            h = v / top * plot_h
            x = gx + (si + 0.5) * bar_w
            y = height - pad - h
            parts.append(f"<rect x='{x:.1f}' y='{y:.1f}' width='{bar_w - 2:.1f}' height='{h:.1f}' "
                         f"fill='{palette[si % len(palette)]}'><title>{html.escape(name)} {html.escape(cat)}: "
                         f"{v:.2f} {html.escape(unit)}</title></rect>")
            parts.append(f"<text x='{x + (bar_w - 2) / 2:.1f}' y='{y - 3:.1f}' font-size='10' text-anchor='middle' "
                         f"font-family='{font}'>{v:.3g}</text>")
    for si, name in enumerate(series):
        parts.append(f"<rect x='{width - 250}' y='{8 + si * 16}' width='10' height='10' fill='{palette[si % len(palette)]}'/>"
                     f"<text x='{width - 235}' y='{17 + si * 16}' font-size='12' font-family='{font}'>"
                     f"{html.escape(name)}</text>")
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
            f"aria-label='{html.escape(title)}'>{''.join(parts)}</svg>")
