"""Scene items: one :class:`InstanceItem` per cell (its label is a :class:`LabelItem`).

Items are views of core :class:`Instance` objects: the canvas calls
:meth:`InstanceItem.set_instance` when the core changes and nothing else writes
to them. Geometry is in image pixels (scene units); outlines, handles and labels
are sized in screen pixels so they look the same at every zoom.

Speed: pens, brushes and the path are built when the instance or the style
changes, never in ``paint``; only the changed item is updated on an edit.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QPolygonF
from PyQt6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from bloodview.core.instance import Instance
from bloodview.gui.canvas.labels import LabelItem
from bloodview.gui.canvas.style import (
    HANDLE_EDGE,
    HANDLE_FILL,
    HANDLE_HOT,
    SELECTION_HALO,
    UNIDENTIFIED_COLOR,
    CanvasStyle,
)
from bloodview.gui.review import is_checked, shown_score, was_text

INSTANCE_Z = 0.0
SELECTED_Z = 1e6
TINY_PX = 4.0  # cells smaller than this on screen are drawn as a plain square


def polygon_path(polygons: list[np.ndarray]) -> QPainterPath:
    """A closed path with one sub-path per polygon part, filled as the union of the parts.

    Parts are outer boundaries (a cell has no holes), so where two parts overlap (a file
    that says so) the cell is filled there too, as its mask and pycocotools count it: every
    part is added turning the same way and filled with the non-zero winding rule (odd-even
    would show the overlap as a hole).
    """
    path = QPainterPath()
    path.setFillRule(Qt.FillRule.WindingFill)
    for polygon in polygons:
        if len(polygon) >= 2:
            x, y = polygon[:, 0], polygon[:, 1]
            if np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)) < 0:
                polygon = polygon[::-1]
            path.addPolygon(QPolygonF([QPointF(float(x), float(y)) for x, y in polygon]))
            path.closeSubpath()
    return path


def _cosmetic_pen(color: QColor, width: float, line: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(color, width)
    pen.setCosmetic(True)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    pen.setStyle(line)
    return pen


def _spread_vertices(vertices: np.ndarray, gap: float) -> tuple[list, list]:
    """Split vertices into those at least ``gap`` from the previous kept one, and the rest."""
    full, dots = [], []
    last = None
    for x, y in vertices:
        if last is None or abs(x - last[0]) + abs(y - last[1]) >= gap:
            full.append((x, y))
            last = (x, y)
        else:
            dots.append((x, y))
    return full, dots


class InstanceItem(QGraphicsItem):
    """A cell outline filled in its class colour; selected: thick outline and vertex handles."""

    def __init__(self, instance: Instance, style: CanvasStyle):
        super().__init__()
        self._style = style
        self._selected = False
        self._hovered = False
        self._hot_vertex: tuple[int, int] | None = None
        self._label: LabelItem | None = None
        self._label_place: str | None = "auto"
        self.setAcceptHoverEvents(True)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges, False)
        self.instance = instance
        self._path = QPainterPath()
        self._bounds = QRectF()
        self._margin_pixel = style.pixel
        self.set_instance(instance)

    # --- state from the canvas ---------------------------------------------
    @property
    def instance_id(self) -> str:
        return self.instance.id

    def set_instance(self, instance: Instance) -> None:
        """Show a new version of the cell (same id); rebuilds the path once."""
        self.prepareGeometryChange()
        self._margin_pixel = self._style.pixel
        self.instance = instance
        self._path = polygon_path(instance.polygons)
        self._bounds = self._path.boundingRect()
        self._vertices = np.concatenate(instance.polygons) if instance.polygons else np.zeros((0, 2))
        # The cell's box and area, worked out once per version of the cell: placing the labels of a
        # 2,000-cell camera field after each key asked for them ~6,000 times (0.1 s of numpy).
        self.bbox: tuple[float, float, float, float] = instance.bbox
        self.area: float = instance.area
        if self._hot_vertex is not None:
            part, index = self._hot_vertex
            if part >= len(instance.polygons) or index >= len(instance.polygons[part]):
                self._hot_vertex = None
        # Smaller cells on top, so a platelet over a red cell stays clickable.
        self.setZValue((SELECTED_Z if self._selected else INSTANCE_Z) - min(self.area, 1e5) * 1e-3)
        self.refresh_style()

    def refresh_style(self) -> None:
        """Rebuild pens/brushes after the style (opacity, threshold, class colours) changed."""
        style = self._style
        unidentified = style.is_unidentified(self.instance)
        color = QColor(UNIDENTIFIED_COLOR) if unidentified else style.class_color(self.instance.class_name)
        # Dashed: the model is unsure of the class. Dotted: only a box is known, not the outline.
        line = Qt.PenStyle.SolidLine
        if unidentified:
            line = Qt.PenStyle.DashLine
        elif self.instance.box_only:
            line = Qt.PenStyle.DotLine
        faint = unidentified or self.instance.box_only
        fill = QColor(color)
        fill.setAlphaF(max(0.0, min(1.0, style.opacity * (0.4 if faint else 1.0))))
        self._brush = QBrush(fill) if fill.alpha() > 0 else QBrush(Qt.BrushStyle.NoBrush)
        self._pen = _cosmetic_pen(color, style.outline_px, line)
        self._hover_pen = _cosmetic_pen(color.lighter(130), style.selected_outline_px, line)
        self._selected_pen = _cosmetic_pen(color, style.selected_outline_px, line)
        self._halo_pen = _cosmetic_pen(SELECTION_HALO, style.selected_outline_px + 2.5)
        if self._label is not None:
            self._label.set_text(self.label_text(), color)
        self._sync_label()
        self.update()

    def outline_style(self) -> Qt.PenStyle:
        """Solid, dashed (unidentified) or dotted (box only) - what a person sees."""
        return self._pen.style()

    def set_selected(self, selected: bool) -> None:
        if selected == self._selected:
            return
        self.prepareGeometryChange()
        self._selected = selected
        self._margin_pixel = self._style.pixel
        self._hot_vertex = None
        self.setZValue(self.zValue() + (SELECTED_Z if selected else -SELECTED_Z))
        self._sync_label()
        self.update()

    def is_selected(self) -> bool:
        return self._selected

    def set_hot_vertex(self, vertex: tuple[int, int] | None) -> None:
        """Highlight the handle the mouse is over (``(part, index)``)."""
        if vertex != self._hot_vertex:
            self._hot_vertex = vertex
            self.update()

    def scale_changed(self) -> None:
        """The zoom changed: screen-sized outlines and handles cover a different scene area.

        The bounding rectangle uses the pixel size given here (not the live one), so
        it always matches what the scene's index was told.
        """
        if self._margin_pixel != self._style.pixel:
            self.prepareGeometryChange()
            self._margin_pixel = self._style.pixel

    def label_text(self) -> str:
        instance = self.instance
        if self._style.is_unidentified(instance):
            name = "Unidentified"
        else:
            name = self._style.display_name(instance.class_name)
        score = shown_score(instance)  # none once a person changed the class
        if score is not None:
            name += f" {score:.2f}"
        if is_checked(instance):  # drawn, corrected or confirmed by a person
            name += " \u2713"
        was = was_text(instance, self._style.display_name)
        return f"{name} ({was})" if was else name

    # --- QGraphicsItem ----------------------------------------------------------
    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        if self._selected:
            margin = (self._style.handle_px + self._style.selected_outline_px + 3) * self._margin_pixel
        else:
            margin = self._style.selected_outline_px * self._margin_pixel
        return self._bounds.adjusted(-margin, -margin, margin, margin)

    def shape(self) -> QPainterPath:
        return self._path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self._selected:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(self._halo_pen)
            painter.drawPath(self._path)
            painter.setBrush(self._brush)
            painter.setPen(self._selected_pen)
            painter.drawPath(self._path)
            self._paint_handles(painter)
            return
        pen = self._hover_pen if self._hovered else self._pen
        size_px = max(self._bounds.width(), self._bounds.height()) / self._style.pixel
        if size_px < TINY_PX:  # a few screen pixels: a dot in the class colour is all one can see
            painter.fillRect(self._bounds, pen.color())
            return
        if self._style.moving:  # panning/zooming: no antialiasing at all
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.setPen(pen)
            painter.setBrush(self._brush)
            painter.drawPath(self._path)
            return
        # Speed (1,000 cells per frame): the fill without antialiasing, its edge
        # hidden under a 1-pixel antialiased cosmetic outline (Qt's fast path).
        if self._brush.style() != Qt.BrushStyle.NoBrush:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self._brush)
            painter.drawPath(self._path)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(pen)
        painter.drawPath(self._path)

    def _paint_handles(self, painter: QPainter) -> None:
        pixel = self._style.pixel
        half = self._style.handle_px * pixel / 2.0
        full, dots = _spread_vertices(self._vertices, 1.6 * self._style.handle_px * pixel)
        painter.setPen(_cosmetic_pen(HANDLE_EDGE, 1.0))
        painter.setBrush(HANDLE_FILL)
        # Crowded points (pixel-staircase outlines) get small dots, not overlapping squares.
        painter.drawRects([QRectF(x - half, y - half, 2 * half, 2 * half) for x, y in full])
        dot = 1.5 * pixel
        painter.drawRects([QRectF(x - dot, y - dot, 2 * dot, 2 * dot) for x, y in dots])
        if self._hot_vertex is not None:
            part, index = self._hot_vertex
            x, y = self.instance.polygons[part][index]
            painter.setBrush(HANDLE_HOT)
            big = self._style.handle_px * pixel * 0.75
            painter.drawEllipse(QRectF(x - big, y - big, 2 * big, 2 * big))

    def hoverEnterEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._hovered = True
        self._sync_label()
        self.update()

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._hovered = False
        self._sync_label()
        self.update()

    def itemChange(self, change, value):  # noqa: N802 - Qt's name
        if change == QGraphicsItem.GraphicsItemChange.ItemVisibleHasChanged:
            self._sync_label()
        elif change == QGraphicsItem.GraphicsItemChange.ItemSceneChange and value is None:
            self._drop_label()
        elif change == QGraphicsItem.GraphicsItemChange.ItemSceneHasChanged and value is not None:
            self._sync_label()  # labels switched on before the item joined the scene
        return super().itemChange(change, value)

    # --- label --------------------------------------------------------------------
    def _sync_label(self) -> None:
        forced = self._hovered or self._selected
        want = self.isVisible() and (forced or (self._style.labels_visible and self._label_place is not None))
        if want and self._label is None and self.scene() is not None:
            color = self._pen.color()
            self._label = LabelItem(self.label_text(), color, self._style.label_point_size)
            self.scene().addItem(self._label)
        if self._label is not None:
            place = self._label_place or "auto"
            x1, y1, x2, y2 = self.bbox
            if place == "auto":  # above the cell, below when there is no room (image top)
                below = y1 < self._label.height() * self._style.pixel
            else:
                below = place == "below"
            self._label.set_below(below)
            self._label.setPos(QPointF((x1 + x2) / 2.0, y2 if below else y1))
            self._label.setVisible(want)

    def set_label_place(self, place: str | None) -> None:
        """``"above"``, ``"below"``, ``"auto"``, or ``None``: no label unless hovered/selected.

        Set by the label de-cluttering (:func:`bloodview.gui.canvas.labels.declutter`).
        """
        if place != self._label_place:
            self._label_place = place
            self._sync_label()

    def label_anchor(self, below: bool) -> QPointF:
        x1, y1, x2, y2 = self.bbox
        return QPointF((x1 + x2) / 2.0, y2 if below else y1)

    def _drop_label(self) -> None:
        if self._label is not None and self._label.scene() is not None:
            self._label.scene().removeItem(self._label)
        self._label = None

    def label_item(self) -> LabelItem | None:
        return self._label
