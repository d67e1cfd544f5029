"""Feature pyramid (Lin et al. 2017): backbone maps C2..C5 -> P2..P6 of one width.

Top-down pathway with nearest-neighbour upsampling and 1x1 lateral convolutions,
a 3x3 convolution on each merged map, and P6 as a stride-2 subsampling of P5
(used by the RPN only), as in Matterport's Mask R-CNN.
"""

from __future__ import annotations

from keras import layers


class FeaturePyramid(layers.Layer):
    """``[C2, C3, C4, C5]`` (strides 4..32, any widths) -> ``[P2, P3, P4, P5, P6]``.

    Every output has ``channels`` channels; P6 has stride 64. Input sizes must be
    divisible by 64 so that upsampled maps line up with their laterals.
    """

    def __init__(self, channels: int = 256, **kwargs):
        super().__init__(**kwargs)
        self.channels = channels
        self.laterals = [layers.Conv2D(channels, 1, name=f"lateral_c{i}") for i in range(2, 6)]
        self.smooth = [layers.Conv2D(channels, 3, padding="same", name=f"smooth_p{i}") for i in range(2, 6)]
        self.upsample = layers.UpSampling2D(2, interpolation="nearest")
        self.subsample = layers.MaxPooling2D(pool_size=1, strides=2)

    def build(self, input_shape):
        for lateral, shape in zip(self.laterals, input_shape):
            lateral.build(shape)
        for smooth, shape in zip(self.smooth, input_shape):
            smooth.build(tuple(shape[:-1]) + (self.channels,))
        self.built = True

    def call(self, inputs):
        lateral = [conv(c) for conv, c in zip(self.laterals, inputs)]
        merged = [lateral[3]]
        for lat in reversed(lateral[:3]):
            merged.insert(0, lat + self.upsample(merged[0]))
        outputs = [conv(p) for conv, p in zip(self.smooth, merged)]
        outputs.append(self.subsample(outputs[-1]))
        return outputs

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s[:-1]) + (self.channels,) for s in input_shape]
        last = shapes[-1]
        half = tuple(None if d is None else (d + 1) // 2 for d in last[1:3])
        return shapes + [(last[0],) + half + (self.channels,)]

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}

