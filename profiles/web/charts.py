"""Geometry of the support chart, drawn by a template as inline SVG (no script, no style
attribute: the Content-Security-Policy stays strict)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from profiles.selectors.catalog import FlowView

WIDTH = 640
LABEL_WIDTH = 260
ROW_HEIGHT = 22
BAR_HEIGHT = 14
PLOT_WIDTH = WIDTH - LABEL_WIDTH - 80


@dataclass(frozen=True)
class ChartRow:
    label: str
    state: str
    support: float
    bar: float
    y: int
    text_y: int
    support_width: int
    bar_x: int
    value_x: int
    marker_top: int
    marker_bottom: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    label_width: int
    rows: list[ChartRow]
    max_value: float


def _label(flow: FlowView) -> str:
    arrow = "→" if flow.direction == "from-device" else "←"
    port = f":{flow.remote_port}" if flow.remote_port else ""
    text = f"{arrow} {flow.peer or flow.peer_kind}{port} {flow.protocol}"
    return text if len(text) <= 38 else text[:37] + "…"


def support_chart(flows: Sequence[FlowView], *, limit: int = 40) -> Chart | None:
    """One row per flow: its support as a bar, the support it needs as a marker."""
    shown = list(flows)[:limit]
    if not shown:
        return None
    top = max(max(f.support for f in shown), max(f.bar for f in shown), 0.01)
    scale = PLOT_WIDTH / top
    rows = []
    for index, flow in enumerate(shown):
        y = 8 + index * ROW_HEIGHT
        rows.append(
            ChartRow(
                label=_label(flow),
                state=flow.state,
                support=flow.support,
                bar=flow.bar,
                y=y,
                text_y=y + BAR_HEIGHT - 3,
                support_width=max(1, round(flow.support * scale)),
                bar_x=LABEL_WIDTH + round(flow.bar * scale),
                value_x=LABEL_WIDTH + max(round(flow.bar * scale), round(flow.support * scale)) + 6,
                marker_top=y - 3,
                marker_bottom=y + BAR_HEIGHT + 3,
            )
        )
    return Chart(WIDTH, 16 + len(shown) * ROW_HEIGHT, LABEL_WIDTH, rows, round(top, 2))
