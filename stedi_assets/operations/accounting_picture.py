"""A run's row accounting as one figure: for each source, the records read, how many were
valid, how many its trusted table kept, and where the others went (the quarantine by reason,
no consent, no matching customer or device, duplicates), on to machine_learning_curated.

Pure: counts in, an image out (matplotlib, no window). The same counts give the same bytes:
fixed size, fonts and positions, and no date in the file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from stedi_assets.rules.contract import (
    ACCELEROMETER_TRUSTED, CUSTOMER_TRUSTED, MACHINE_LEARNING_CURATED, STEP_TRAINER_TRUSTED,
)

# The trusted table that keeps each source's records (the row accounting's `source` names).
TRUSTED_OF_SOURCE = {"customer": CUSTOMER_TRUSTED, "accelerometer": ACCELEROMETER_TRUSTED,
                     "step_trainer": STEP_TRAINER_TRUSTED}
EXCLUSIONS = (("excluded_no_consent", "no research consent"),
              ("excluded_orphans", "no matching customer or device"),
              ("removed_duplicates", "duplicates"))


@dataclass(frozen=True)
class SourceAccount:
    """One source's terms (accounting.TERMS) and its quarantined records per reason (a record
    with two problems counts under both)."""

    source: str
    terms: dict[str, int]
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RunAccount:
    """What a run did with the records it read. `sources` in lineage order; a source the run
    did not account (its table unchanged) is absent. `curated_rows`: machine_learning_curated's
    rows (None when the run did not build it)."""

    sources: tuple[SourceAccount, ...]
    curated_rows: int | None = None
    counted: str = "every landing file"


def draw(account: RunAccount, image_format: str = "png") -> bytes:
    """The figure as PNG (or SVG, its texts kept as text) bytes."""
    # A Figure of its own, not pyplot: no window, no global figure state, Agg for PNG.
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    rows = max(len(account.sources), 1)
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "stedi", "font.size": 9,
                     "font.family": "DejaVu Sans"}):
        figure = Figure(figsize=(11, 2.6 * rows + 0.8), dpi=100)
        axes = figure.subplots()
        axes.set_xlim(0, 11)
        axes.set_ylim(0, 2.6 * rows + 0.8)
        axes.axis("off")
        axes.set_title(f"Row accounting of the run ({account.counted})", loc="left")
        kept_at = []
        for index, source in enumerate(account.sources):
            top = 2.6 * (rows - index) + 0.2
            kept_at.append(_draw_source(axes, source, top))
        if account.curated_rows is not None and kept_at:
            target = (9.6, 2.6 * rows / 2 + 0.4)
            _box(axes, target, f"{account.curated_rows:,} rows in\n{MACHINE_LEARNING_CURATED}",
                 "#cfe8cf")
            for name, point in kept_at:
                if name in ("accelerometer", "step_trainer"):
                    _arrow(axes, (point[0] + 1.1, point[1]), (target[0] - 1.2, target[1]))
        buffer = io.BytesIO()
        figure.savefig(buffer, format=image_format, metadata=_no_dates(image_format),
                       bbox_inches="tight")
    return buffer.getvalue()


def _draw_source(axes, source: SourceAccount, top: float) -> tuple[str, tuple[float, float]]:
    terms = source.terms
    read, valid, kept = (0.9, top - 0.4), (3.3, top - 0.4), (5.9, top - 0.4)
    _box(axes, read, f"{source.source}\n{terms['read']:,} read", "#dde6f5")
    _box(axes, valid, f"{terms['valid']:,} valid", "#dde6f5")
    _box(axes, kept, f"{terms['kept']:,} kept in\n{TRUSTED_OF_SOURCE[source.source]}", "#cfe8cf")
    _arrow(axes, (read[0] + 0.8, read[1]), (valid[0] - 0.8, valid[1]))
    _arrow(axes, (valid[0] + 0.8, valid[1]), (kept[0] - 1.1, kept[1]))
    reasons = sorted(source.reasons.items(), key=lambda item: (-item[1], item[0]))[:4]
    quarantine = f"{terms['quarantined']:,} quarantined" + "".join(
        f"\n{count:,} {reason[:44]}" for reason, count in reasons)
    _branch(axes, read, (read[0], top - 1.6), quarantine, "#f5d5d5")
    left_out = [f"{terms[term]:,} {words}" for term, words in EXCLUSIONS if terms.get(term)]
    if left_out:
        _branch(axes, valid, (valid[0] + 0.6, top - 1.6), "\n".join(left_out), "#f5ebd0")
    return source.source, kept


def _box(axes, center, text: str, color: str) -> None:
    axes.text(*center, text, ha="center", va="center", multialignment="center",
              bbox={"boxstyle": "round,pad=0.4", "facecolor": color, "edgecolor": "#555555"})


def _arrow(axes, start, end) -> None:
    axes.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "->", "color": "#555555"})


def _branch(axes, origin, center, text: str, color: str) -> None:
    _arrow(axes, (origin[0], origin[1] - 0.35), (center[0], center[1] + 0.45))
    _box(axes, center, text, color)


def _no_dates(image_format: str) -> dict:
    # matplotlib writes its version and, for SVG and PDF, the date into the file by default.
    return {"Software": None} if image_format == "png" else {"Date": None, "Creator": None}
