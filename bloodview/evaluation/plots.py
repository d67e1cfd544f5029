"""PNG figures drawn with OpenCV (no matplotlib): confusion matrix, precision–recall curves
and the reliability diagram.

Each figure function returns an RGB ``uint8`` image ``(H, W, 3)``; ``png_bytes`` encodes one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cv2
import numpy as np

from bloodview.core.classes import TOL_MUTED

FONT = cv2.FONT_HERSHEY_SIMPLEX
BLACK = (0, 0, 0)
GREY = (200, 200, 200)
WHITE = (255, 255, 255)
RED = (200, 30, 30)
RGB = tuple[int, int, int]


def _text(image: np.ndarray, text: str, org: tuple[int, int], scale: float = 0.45, color: RGB = BLACK,
          thickness: int = 1) -> None:
    cv2.putText(image, text, org, FONT, scale, color, thickness, cv2.LINE_AA)


def _text_size(text: str, scale: float = 0.45, thickness: int = 1) -> tuple[int, int]:
    (w, h), _ = cv2.getTextSize(text, FONT, scale, thickness)
    return w, h


def _vertical_label(text: str, height: int, width: int, scale: float = 0.45) -> np.ndarray:
    """``text`` written bottom-to-top in a white ``(height, width, 3)`` tile."""
    tile = np.full((width, height, 3), 255, dtype=np.uint8)
    w, h = _text_size(text, scale)
    _text(tile, text, (max(2, height - w - 6), (width + h) // 2), scale)
    return cv2.rotate(tile, cv2.ROTATE_90_COUNTERCLOCKWISE)


def confusion_image(rows: Sequence[str], columns: Sequence[str], matrix: Sequence[Sequence[int]],
                    cell: int = 56) -> np.ndarray:
    """Counts in each cell, shaded by the share of its row (darker = larger share)."""
    counts = np.asarray(matrix, dtype=np.int64).reshape(len(rows), len(columns))
    left = max([_text_size(r)[0] for r in rows] + [60]) + 16
    top = max([_text_size(c)[0] for c in columns] + [60]) + 16
    height, width = top + cell * len(rows) + 30, left + cell * len(columns) + 10
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    for i, name in enumerate(rows):
        y = top + i * cell
        w, h = _text_size(name)
        _text(image, name, (left - w - 8, y + (cell + h) // 2))
        for j in range(len(columns)):
            x = left + j * cell
            shade = int(255 - 200 * share[i, j])
            fill = (shade, shade, 255) if i == j or counts[i, j] == 0 else (255, shade, shade)
            cv2.rectangle(image, (x, y), (x + cell - 1, y + cell - 1), fill, -1)
            cv2.rectangle(image, (x, y), (x + cell - 1, y + cell - 1), GREY, 1)
            label = str(counts[i, j])
            tw, th = _text_size(label)
            color = WHITE if share[i, j] > 0.6 else BLACK
            _text(image, label, (x + (cell - tw) // 2, y + (cell + th) // 2), color=color)
    for j, name in enumerate(columns):
        image[0:top, left + j * cell : left + (j + 1) * cell] = _vertical_label(name, top, cell)
    _text(image, "rows: true class, columns: predicted class; shade: share of the row",
          (8, height - 10), scale=0.4)
    return image


def pr_curve_image(recall: Sequence[float], curves: Mapping[str, Sequence[float]],
                   colors: Mapping[str, RGB] | None = None, title: str = "Precision-recall at IoU 0.5",
                   size: tuple[int, int] = (760, 520)) -> np.ndarray:
    """One precision–recall line per class (101 COCO recall points) with a legend.

    ``curves[name]`` are precisions at ``recall``; ``-1`` (no ground truth) is skipped.
    """
    width, height = size
    legend_width = 220
    left, right, top, bottom = 60, legend_width + 20, 40, 50
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    plot_w, plot_h = width - left - right, height - top - bottom

    def point(r: float, p: float) -> tuple[int, int]:
        return int(round(left + r * plot_w)), int(round(top + (1.0 - p) * plot_h))

    for tick in np.linspace(0, 1, 6):
        x, y = point(tick, tick)
        cv2.line(image, (x, top), (x, top + plot_h), GREY, 1)
        cv2.line(image, (left, y), (left + plot_w, y), GREY, 1)
        _text(image, f"{tick:.1f}", (x - 10, top + plot_h + 18), 0.4)
        _text(image, f"{tick:.1f}", (left - 34, y + 4), 0.4)
    cv2.rectangle(image, (left, top), (left + plot_w, top + plot_h), BLACK, 1)
    _text(image, "recall", (left + plot_w // 2 - 20, height - 12), 0.5)
    _text(image, "precision", (6, top - 12), 0.5)
    _text(image, title, (left + 80, top - 14), 0.55)
    recall = np.asarray(recall, dtype=np.float64)
    legend_y = top + 10
    for k, (name, precision) in enumerate(curves.items()):
        color = (colors or {}).get(name, TOL_MUTED[k % len(TOL_MUTED)])
        p = np.asarray(precision, dtype=np.float64)
        valid = p > -1
        if valid.any():
            pts = np.array([point(r, v) for r, v in zip(recall[valid], p[valid])], dtype=np.int32)
            cv2.polylines(image, [pts], False, tuple(int(c) for c in color), 2, cv2.LINE_AA)
        ap = float(p[valid].mean()) if valid.any() else 0.0
        x0 = width - legend_width
        cv2.line(image, (x0, legend_y), (x0 + 24, legend_y), tuple(int(c) for c in color), 3)
        _text(image, f"{name}  AP50 {ap:.3f}", (x0 + 30, legend_y + 5), 0.45)
        legend_y += 22
    return image


def reliability_image(bins: Sequence[Mapping], threshold: float | None = None, ece: float | None = None,
                      title: str = "Reliability: share right per score bin",
                      size: tuple[int, int] = (760, 520)) -> np.ndarray:
    """Reliability diagram: a bar per score bin as high as the share of its cells named right.

    ``bins`` are the ``calibration`` bins (``low``, ``high``, ``count``,
    ``accuracy``). A calibrated model's bars reach the diagonal; bars below it are
    overconfident. Each bar's cell count is written above it (``n=…``; empty bins
    get no bar), and ``threshold`` (the review queue's) is a red vertical line:
    wrong calls left of it are flagged for review, those right of it are counted.
    """
    width, height = size
    left, right, top, bottom = 60, 30, 50, 56
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    plot_w, plot_h = width - left - right, height - top - bottom

    def point(score: float, share: float) -> tuple[int, int]:
        return int(round(left + score * plot_w)), int(round(top + (1.0 - share) * plot_h))

    for tick in np.linspace(0, 1, 6):
        x, y = point(tick, tick)
        cv2.line(image, (x, top), (x, top + plot_h), GREY, 1)
        cv2.line(image, (left, y), (left + plot_w, y), GREY, 1)
        _text(image, f"{tick:.1f}", (x - 10, top + plot_h + 18), 0.4)
        _text(image, f"{tick:.1f}", (left - 34, y + 4), 0.4)
    bar_color = tuple(int(c) for c in TOL_MUTED[0])
    for item in bins:
        if not item.get("count"):
            continue
        x1, y1 = point(float(item["low"]), float(item["accuracy"]))
        x2, y2 = point(float(item["high"]), 0.0)
        cv2.rectangle(image, (x1 + 2, y1), (x2 - 2, y2), bar_color, -1)
        cv2.rectangle(image, (x1 + 2, y1), (x2 - 2, y2), BLACK, 1)
        label = f"n={item['count']}"
        w, _ = _text_size(label, 0.38)
        _text(image, label, ((x1 + x2 - w) // 2, max(top + 12, y1 - 5)), 0.38)
    cv2.line(image, point(0.0, 0.0), point(1.0, 1.0), BLACK, 1, cv2.LINE_AA)
    if threshold is not None:
        x, _ = point(min(max(threshold, 0.0), 1.0), 0.0)
        cv2.line(image, (x, top), (x, top + plot_h), RED, 2)
        label = f"review threshold {threshold:.2f}"
        w, _ = _text_size(label, 0.42)
        _text(image, label, (x - w - 6 if x - w - 6 > left else x + 6, top + 14), 0.42, RED)
    cv2.rectangle(image, (left, top), (left + plot_w, top + plot_h), BLACK, 1)
    _text(image, "score of the matched cell", (left + plot_w // 2 - 90, height - 28), 0.5)
    _text(image, "share right", (6, top - 12), 0.5)
    heading = title if ece is None else f"{title} (ECE {ece:.3f})"
    _text(image, heading, (left + 90, top - 14), 0.55)
    _text(image, "diagonal: calibrated; bars below it: overconfident", (left, height - 8), 0.4)
    return image


def png_bytes(image: np.ndarray) -> bytes:
    """Encode an RGB image as PNG."""
    ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("OpenCV could not encode the figure as PNG")
    return data.tobytes()
