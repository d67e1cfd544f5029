"""Backbones of the Mask R-CNN: the paper's seven plus a small fast CPU default.

Importing this package builds nothing and imports no TensorFlow; ``build_backbone``
does both on demand. See :mod:`bloodview.model.backbones.registry` for the contract.
"""

from bloodview.model.backbones.registry import (
    DEFAULT_FAST_BACKBONE,
    STRIDES,
    BackboneSpec,
    available_backbones,
    backbone_spec,
    build_backbone,
)

__all__ = [
    "DEFAULT_FAST_BACKBONE",
    "STRIDES",
    "BackboneSpec",
    "available_backbones",
    "backbone_spec",
    "build_backbone",
]
