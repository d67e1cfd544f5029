"""The learning-curve chart of benchmarks/adaptation.py, drawn with OpenCV.

Why OpenCV: matplotlib is not a dependency of bloodview and the chart is two lines on a
0-1 axis; cv2 is already installed. The chart is drawn only from the rows a run measured
(the caller passes them); the issue's targets appear as hollow markers beside them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

WIDTH, HEIGHT = 900, 560
LEFT, RIGHT, TOP, BOTTOM = 90, 220, 60, 80  # margins in pixels; the legend sits in the right one
FONT = 0  # cv2.FONT_HERSHEY_SIMPLEX
INK, GRID, WHITE = (40, 40, 40), (225, 225, 225), (255, 255, 255)
# (row key, label, BGR colour, index of the figure in a target tuple)
SERIES = (("accuracy", "held-out accuracy", (178, 114, 0), 0),
          ("mask_iou_mean", "whole-cell mask IoU", (0, 110, 230), 1))


def draw_learning_curve(rows: list[dict], targets: dict[int, tuple], path: str | Path) -> Path:
    """Write a PNG of accuracy and mask IoU (y, 0-1) against N corrected images (x).

    ``rows``: benchmarks/adaptation.py rows (``n`` and ``zheng`` with ``accuracy`` and
    ``mask_iou_mean``); ``targets``: N -> (accuracy, IoU, minutes) as in its ``TARGETS``.
    """
    import cv2

    if not rows:
        raise ValueError("no measured rows to plot")
    rows = sorted(rows, key=lambda r: r["n"])
    shown_targets = {n: t for n, t in targets.items() if n <= max(r["n"] for r in rows)}
    x_max = max([r["n"] for r in rows] + list(shown_targets)) or 1
    canvas = np.full((HEIGHT, WIDTH, 3), WHITE, np.uint8)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def point(n: float, value: float) -> tuple[int, int]:
        return (round(LEFT + plot_w * n / x_max), round(TOP + plot_h * (1.0 - value)))

    def text(label: str, at: tuple[int, int], scale: float = 0.5, centre: bool = False, right: bool = False) -> None:
        (w, h), _ = cv2.getTextSize(label, FONT, scale, 1)
        x = at[0] - w // 2 if centre else at[0] - w if right else at[0]
        cv2.putText(canvas, label, (x, at[1] + h // 2), FONT, scale, INK, 1, cv2.LINE_AA)

    for tick in np.linspace(0.0, 1.0, 6):  # y grid, ticks, labels
        y = point(0, tick)[1]
        cv2.line(canvas, (LEFT, y), (LEFT + plot_w, y), GRID, 1)
        cv2.line(canvas, (LEFT - 5, y), (LEFT, y), INK, 1)
        text(f"{tick:.1f}", (LEFT - 10, y), right=True)
    for n in sorted({r["n"] for r in rows} | set(shown_targets)):  # x ticks at every N measured or targeted
        x = point(n, 0)[0]
        cv2.line(canvas, (x, TOP + plot_h), (x, TOP + plot_h + 5), INK, 1)
        text(str(n), (x, TOP + plot_h + 18), centre=True)
    cv2.rectangle(canvas, (LEFT, TOP), (LEFT + plot_w, TOP + plot_h), INK, 1)
    text("N corrected Zheng images (fine-tuning set)", (LEFT + plot_w // 2, HEIGHT - 25), centre=True)
    text("score", (20, TOP - 25))
    text("Adapting the default model to another lab (Zheng Dataset 1, held-out images)", (LEFT, 22), 0.55)

    for key, _, colour, index in SERIES:
        points = [point(r["n"], r["zheng"][key]) for r in rows]
        for a, b in zip(points, points[1:]):
            cv2.line(canvas, a, b, colour, 2, cv2.LINE_AA)
        for p in points:
            cv2.circle(canvas, p, 5, colour, -1, cv2.LINE_AA)
        for n, target in shown_targets.items():
            cv2.circle(canvas, point(n, target[index]), 8, colour, 2, cv2.LINE_AA)

    legend_x, legend_y = LEFT + plot_w + 20, TOP + 10
    for k, (_, label, colour, _) in enumerate(SERIES):
        y = legend_y + 28 * k
        cv2.line(canvas, (legend_x, y), (legend_x + 30, y), colour, 2, cv2.LINE_AA)
        cv2.circle(canvas, (legend_x + 15, y), 5, colour, -1, cv2.LINE_AA)
        text(label, (legend_x + 40, y), 0.45)
    y = legend_y + 28 * len(SERIES)
    cv2.circle(canvas, (legend_x + 15, y), 8, INK, 2, cv2.LINE_AA)
    text("issue #14 target", (legend_x + 40, y), 0.45)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), canvas):
        raise OSError(f"could not write the plot to {path}")
    return path
