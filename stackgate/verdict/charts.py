"""Charts drawn by matplotlib (its SVG backend), inlined into the self-contained report: trends over kept runs."""

from __future__ import annotations

import io


def trend_svg(title: str, runs: list[str], series: dict[str, list[float | None]], unit: str = "s",
              width_in: float = 7.5, height_in: float = 2.6) -> str:
    """A line per series over the runs (oldest left, this run right); None is a gap. '' without two runs."""
    if len(runs) < 2 or not series:
        return ""
    import matplotlib

    matplotlib.use("svg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in))
    ax = fig.subplots()
    xs = list(range(len(runs)))
    for name, values in sorted(series.items()):
        ax.plot(xs, [float("nan") if v is None else v for v in values], marker="o", linewidth=1.2, markersize=3,
                label=name)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(unit, fontsize=8)
    ax.set_xticks(xs, [r if i == len(runs) - 1 else r[:15] for i, r in enumerate(runs)], rotation=20, fontsize=6,
                  ha="right")
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(alpha=0.3)
    if len(series) <= 12:
        ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.tight_layout()
    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches="tight")  # the legend right of the axes stays in
    svg = out.getvalue()
    return svg[svg.index("<svg"):]  # inline: no XML prolog or doctype


def spans_svg(title: str, spans: list[dict], width_in: float = 8.0) -> str:
    """Where a run's time went: one horizontal bar per span (name, start_s, end_s), in start order; '' without any."""
    if not spans:
        return ""
    import matplotlib

    matplotlib.use("svg", force=False)
    from matplotlib.figure import Figure

    rows = sorted(spans, key=lambda s: (s["start_s"], -s["end_s"]))[::-1]  # the first span on top
    fig = Figure(figsize=(width_in, 0.6 + 0.24 * len(rows)))
    ax = fig.subplots()
    for i, s in enumerate(rows):
        waited = s["name"].startswith("waited:")
        ax.barh(i, s["end_s"] - s["start_s"], left=s["start_s"], height=0.6,
                color="#b0b7c3" if waited else "#3b6ea5")
        ax.text(s["end_s"] + 0.2, i, f"{s['end_s'] - s['start_s']:.1f} s", va="center", fontsize=6)
    ax.set_yticks(range(len(rows)), [s["name"][:70] for s in rows], fontsize=6)
    ax.set_xlabel("seconds since pytest started", fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title(title, fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches="tight")
    svg = out.getvalue()
    return svg[svg.index("<svg"):]
