"""bloodview: segment, classify and review blood cells in smear images.

Layers (see docs/architecture.md): ``core`` (data model, geometry) is imported by
``io``, ``bootstrap``, ``evaluation`` and ``model``; ``gui`` and ``cli`` sit on top.
Importing the package itself stays cheap: no NumPy, no Qt, no TensorFlow.
"""

__version__ = "0.1.0"
