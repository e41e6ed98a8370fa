"""The picture in the manager digest: the tier pyramid and, per stage, how far the team's open
deals are from the standard time. Drawn with matplotlib (no screen needed); every word on it
comes from templates/ like any other reply."""
from __future__ import annotations

import io
import json
import textwrap

from bot.render import render
from handlers.reply import Reply


def _labels(language: str, tier_counts: dict[str, int]) -> dict:
    return json.loads(render(Reply("chart_labels", {"tiers": tier_counts}), language=language))


def digest_chart(data: dict, language: str) -> bytes:
    """PNG bytes for a manager digest's data (handlers.manager_digest.manager_digest_data)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    words = _labels(language, data["counts"]["tiers"])
    fig, (pyramid, aging) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1, 1.6]})
    try:
        # The pyramid: tier 1 on top, bars centred so the shape reads at a glance.
        tiers = ["1", "2", "3"]
        counts = [data["counts"]["tiers"][t] for t in tiers]
        widest = max(counts + [1])
        colours = ["#2e7d32", "#f9a825", "#9e9e9e"]
        for row, (tier, n, colour) in enumerate(zip(tiers, counts, colours)):
            pyramid.barh(2 - row, n, left=(widest - n) / 2, color=colour, height=0.8)
            pyramid.text(widest / 2, 2 - row, words["tier_lines"][row], ha="center", va="center",
                         fontsize=10, fontweight="bold")
        pyramid.set_xlim(0, widest)
        pyramid.set_axis_off()
        pyramid.set_title(words["pyramid"])

        # Stage aging: each open deal's indicator (days at stage - standard) as a dot per stage.
        stages = data["aging"]
        for i, stage in enumerate(stages):
            xs = stage["indicators"]
            stuck_at = stage["stuck_after_days"] - stage["standard_days"]
            colours = ["#c62828" if x > stuck_at else "#1565c0" for x in xs]
            aging.scatter(xs, [i] * len(xs), c=colours, s=28, alpha=0.8, zorder=3)
            aging.plot([stuck_at, stuck_at], [i - 0.35, i + 0.35], color="#c62828", linewidth=1, linestyle=":")
        aging.axvline(0, color="#424242", linewidth=1)
        aging.set_yticks(range(len(stages)), [s["stage_name"] for s in stages])
        aging.invert_yaxis()
        aging.set_xlabel(words["indicator"])
        aging.set_title(textwrap.fill(words["aging"], 60), fontsize=11)  # French titles run longer
        aging.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=110)
        return out.getvalue()
    finally:
        plt.close(fig)
