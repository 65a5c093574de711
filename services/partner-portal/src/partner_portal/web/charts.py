"""Chart geometry, pure: the SVG macros (templates/charts.html) draw what these compute. Every
chart also has a title, a description and a table of the same figures."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH = Decimal(640)
BAR_HEIGHT = Decimal(28)
PLOT_HEIGHT = Decimal(200)


@dataclass(frozen=True, slots=True)
class TrackBar:
    track: str
    value: Decimal
    width: Decimal
    threshold: Decimal | None  # the next tier's minimum on this track
    threshold_x: Decimal | None
    next_tier: str | None


def track_bars(
    tracks: Sequence[tuple[str, Decimal, Decimal | None, str | None]],
) -> list[TrackBar]:
    """One bar per track, scaled together so the next-tier lines compare across tracks."""
    top = max([Decimal(1)] + [max(v, t or 0) for _, v, t, _ in tracks]) * Decimal("1.1")
    return [
        TrackBar(
            track,
            value,
            WIDTH * value / top,
            threshold,
            WIDTH * threshold / top if threshold is not None else None,
            next_tier,
        )
        for track, value, threshold, next_tier in tracks
    ]


@dataclass(frozen=True, slots=True)
class Point:
    label: str
    value: Decimal
    x: Decimal
    y: Decimal
    projected: bool


def progress_points(months: Sequence[tuple[str, Decimal, bool]]) -> list[Point]:
    """Months left to right, points bottom to top; projected months keep their flag so the
    chart draws them dashed and labels them."""
    if not months:
        return []
    top = max([Decimal(1)] + [v for _, v, _ in months]) * Decimal("1.1")
    step = WIDTH / max(1, len(months) - 1) if len(months) > 1 else Decimal(0)
    return [
        Point(label, value, step * i, PLOT_HEIGHT - PLOT_HEIGHT * value / top, projected)
        for i, (label, value, projected) in enumerate(months)
    ]


def polyline(points: Sequence[Point]) -> str:
    return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in points)
