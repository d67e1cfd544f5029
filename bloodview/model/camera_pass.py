"""The second pass of a run: images without usable red cells read again at their camera's scale.

``bloodview predict`` and ``bloodview evaluate --model`` read a folder image by image; an image
whose own red cells give no scale is read at an assumption (the model's training pixel size, or
its white cell's typical size). Once the run's other images of the same frame size agree on a
measured scale (:mod:`bloodview.core.camera_scale`), those images are detected again at it, so
``evaluate`` scores what ``predict`` and the app give. The app's Detect does the same, image by
image as the scale forms (``bloodview/gui/workers/detect_worker.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from bloodview.core.camera_scale import ImageSize, camera_scales, needs_camera_scale


def read_again_at_camera_scale(predictor, images: Sequence, shapes: Sequence[ImageSize], results: list,
                               **detect_options) -> list[int]:
    """Replace, in ``results``, the detections of images read at an assumed scale; return their indices.

    ``images``: what :meth:`Predictor.detect` took (paths or arrays), ``shapes`` each image's
    ``(height, width)``, ``results`` its :class:`~bloodview.model.predict.ImageDetections`, in
    the same order. ``detect_options`` (``min_confidence``, ``simplify``) are passed on, so the
    second reading differs from the first in its scale only. An image whose scale was given or
    measured on its own red cells is never read again.
    """
    scales = camera_scales((shape, one.scale) for shape, one in zip(shapes, results))
    again = [k for k, (shape, one) in enumerate(zip(shapes, results))
             if needs_camera_scale(one.scale) and _key(shape) in scales]
    for k in again:
        results[k] = predictor.detect([images[k]], pixel_size=[scales[_key(shapes[k])]], **detect_options)[0]
    return again


def _key(shape: ImageSize) -> ImageSize:
    return int(shape[0]), int(shape[1])
