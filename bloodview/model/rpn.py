"""Region proposal network head, shared by every pyramid level.

A 3x3 convolution followed by two 1x1 convolutions: one objectness logit per
anchor (sigmoid, "is there a cell here") and four box deltas per anchor. The
outputs of all levels are flattened in the order of
:func:`bloodview.model.anchors.pyramid_anchors` (level, row, column, ratio).
"""

from __future__ import annotations

from keras import initializers, layers, ops


class RPNHead(layers.Layer):
    """``[P2..P6]`` -> ``(logits [B, A], deltas [B, A, 4])`` for A anchors in pyramid order.

    Args:
        anchors_per_location: number of aspect ratios.
        anchor_stride: feature cells between anchor centres (the shared conv's stride).
        channels: width of the shared 3x3 convolution.
    """

    def __init__(self, anchors_per_location: int, anchor_stride: int = 1, channels: int = 256, **kwargs):
        super().__init__(**kwargs)
        self.anchors_per_location = anchors_per_location
        self.anchor_stride = anchor_stride
        self.channels = channels
        self.shared = layers.Conv2D(
            channels, 3, strides=anchor_stride, padding="same", activation="relu", name="rpn_conv_shared"
        )
        self.objectness = layers.Conv2D(
            anchors_per_location, 1, kernel_initializer=initializers.RandomNormal(stddev=0.01), name="rpn_class_logits"
        )
        self.deltas = layers.Conv2D(
            4 * anchors_per_location, 1, kernel_initializer=initializers.RandomNormal(stddev=0.01), name="rpn_bbox_pred"
        )

    def build(self, input_shape):
        shape = tuple(input_shape[0])
        self.shared.build(shape)
        self.objectness.build(shape[:-1] + (self.channels,))
        self.deltas.build(shape[:-1] + (self.channels,))
        self.built = True

    def call(self, features):
        logits, deltas = [], []
        for feature in features:
            hidden = self.shared(feature)
            batch = ops.shape(hidden)[0]
            logits.append(ops.reshape(self.objectness(hidden), (batch, -1)))
            deltas.append(ops.reshape(self.deltas(hidden), (batch, -1, 4)))
        return ops.concatenate(logits, axis=1), ops.concatenate(deltas, axis=1)

    def get_config(self):
        return {
            **super().get_config(),
            "anchors_per_location": self.anchors_per_location,
            "anchor_stride": self.anchor_stride,
            "channels": self.channels,
        }

