"""Mask R-CNN in Keras 3 (TensorFlow backend).

Importing this package does not import TensorFlow; the submodules that build or
run networks do. ``config`` and ``store`` metadata stay TensorFlow-free.
"""
