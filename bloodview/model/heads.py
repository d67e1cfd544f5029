"""The two ROI heads: box/class head and mask head (He et al. 2017, FPN variant).

Both take ROI-aligned features. No batch normalisation in the heads (torchvision
style): a batch of ROIs from one or two images is a poor sample for BN statistics,
and inference then behaves exactly like training.
"""

from __future__ import annotations

from keras import initializers, layers, ops


class BoxHead(layers.Layer):
    """Pooled ROIs [N, p, p, C] -> ``(class_logits [N, K], deltas [N, K, 4])``.

    Two fully connected layers of ``fc_size`` units (``fpn_classif_fc_layers_size``),
    then a K-way classifier (K = num_classes incl. background) and class-specific
    box deltas (scaled by ``bbox_std_dev``).
    """

    def __init__(self, num_classes: int, fc_size: int = 1024, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.fc_size = fc_size
        self.flatten = layers.Flatten()
        self.fc1 = layers.Dense(fc_size, activation="relu", name="fc1")
        self.fc2 = layers.Dense(fc_size, activation="relu", name="fc2")
        self.classifier = layers.Dense(
            num_classes, kernel_initializer=initializers.RandomNormal(stddev=0.01), name="class_logits"
        )
        self.regressor = layers.Dense(
            4 * num_classes, kernel_initializer=initializers.RandomNormal(stddev=0.001), name="bbox_pred"
        )

    def build(self, input_shape):
        flat = 1
        for dim in input_shape[1:]:
            flat *= dim
        self.fc1.build((None, flat))
        self.fc2.build((None, self.fc_size))
        self.classifier.build((None, self.fc_size))
        self.regressor.build((None, self.fc_size))
        self.built = True

    def call(self, pooled):
        hidden = self.fc2(self.fc1(self.flatten(pooled)))
        deltas = ops.reshape(self.regressor(hidden), (-1, self.num_classes, 4))
        return self.classifier(hidden), deltas

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "fc_size": self.fc_size}


class MaskHead(layers.Layer):
    """Pooled ROIs [N, m, m, C] -> mask logits [N, 2m, 2m, K] (one per class; sigmoid).

    Four 3x3 convolutions of ``channels``, a stride-2 transposed convolution, then a
    1x1 convolution with one output per class (background's channel is unused).
    """

    def __init__(self, num_classes: int, channels: int = 256, num_convs: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.channels = channels
        self.num_convs = num_convs
        self.convs = [
            layers.Conv2D(channels, 3, padding="same", activation="relu", name=f"mask_conv{i + 1}")
            for i in range(num_convs)
        ]
        self.upsample = layers.Conv2DTranspose(channels, 2, strides=2, activation="relu", name="mask_deconv")
        self.predictor = layers.Conv2D(num_classes, 1, name="mask_logits")

    def build(self, input_shape):
        shape = tuple(input_shape)
        for conv in self.convs:
            conv.build(shape)
            shape = shape[:-1] + (self.channels,)
        self.upsample.build(shape)
        up = (shape[0], None if shape[1] is None else 2 * shape[1], None if shape[2] is None else 2 * shape[2])
        self.predictor.build(up + (self.channels,))
        self.built = True

    def call(self, pooled):
        hidden = pooled
        for conv in self.convs:
            hidden = conv(hidden)
        return self.predictor(self.upsample(hidden))

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "channels": self.channels,
            "num_convs": self.num_convs,
        }
