"""Residual building blocks for the backbones we build ourselves (ResNeXt-50, slim ResNet).

Layout follows torchvision (stride in the 3x3 conv, explicit symmetric zero padding for
strided convs), layer names follow keras.applications (``conv3_block2_out``) so every
ResNet-like backbone exposes its stages the same way. The last BatchNorm of each residual
branch starts with gamma = 0 (Goyal et al. 2017), so every block starts as an identity:
that makes training from scratch markedly more stable.
"""

from __future__ import annotations

from keras import layers

_BN_EPSILON = 1.001e-5  # keras.applications' ResNet value


def _bn(name: str, zero_gamma: bool = False) -> layers.BatchNormalization:
    return layers.BatchNormalization(
        epsilon=_BN_EPSILON, gamma_initializer="zeros" if zero_gamma else "ones", name=name
    )


def _conv(filters: int, kernel: int, stride: int, name: str, groups: int = 1):
    """A bias-free conv; strided 3x3/7x7 convs get explicit symmetric padding (as in torch)."""
    pad = kernel // 2

    def apply(x):
        if stride > 1 and pad:
            x = layers.ZeroPadding2D(pad, name=f"{name}_pad")(x)
            padding = "valid"
        else:
            padding = "same"
        return layers.Conv2D(
            filters,
            kernel,
            strides=stride,
            padding=padding,
            groups=groups,
            use_bias=False,
            kernel_initializer="he_normal",
            name=name,
        )(x)

    return apply


def stem(x, filters: int = 64):
    """7x7/2 conv + BN + ReLU + 3x3/2 max pool: stride 4 (``pool1_pool``)."""
    x = _conv(filters, 7, 2, "conv1_conv")(x)
    x = _bn("conv1_bn")(x)
    x = layers.ReLU(name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    return layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


def _shortcut(x, filters: int, stride: int, name: str):
    if stride == 1 and x.shape[-1] == filters:
        return x
    x = _conv(filters, 1, stride, f"{name}_0_conv")(x)
    return _bn(f"{name}_0_bn")(x)


def bottleneck_block(x, width: int, filters: int, stride: int, groups: int, name: str):
    """1x1 (width) -> grouped 3x3/stride (width, ``groups``) -> 1x1 (filters), + shortcut."""
    shortcut = _shortcut(x, filters, stride, name)
    y = _conv(width, 1, 1, f"{name}_1_conv")(x)
    y = layers.ReLU(name=f"{name}_1_relu")(_bn(f"{name}_1_bn")(y))
    y = _conv(width, 3, stride, f"{name}_2_conv", groups=groups)(y)
    y = layers.ReLU(name=f"{name}_2_relu")(_bn(f"{name}_2_bn")(y))
    y = _conv(filters, 1, 1, f"{name}_3_conv")(y)
    y = _bn(f"{name}_3_bn", zero_gamma=True)(y)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.ReLU(name=f"{name}_out")(y)


def basic_block(x, filters: int, stride: int, name: str):
    """Two 3x3 convs (ResNet-18/34 style), + shortcut."""
    shortcut = _shortcut(x, filters, stride, name)
    y = _conv(filters, 3, stride, f"{name}_1_conv")(x)
    y = layers.ReLU(name=f"{name}_1_relu")(_bn(f"{name}_1_bn")(y))
    y = _conv(filters, 3, 1, f"{name}_2_conv")(y)
    y = _bn(f"{name}_2_bn", zero_gamma=True)(y)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.ReLU(name=f"{name}_out")(y)
