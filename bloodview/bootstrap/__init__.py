"""Classical (no network) segmentation that turns class-only and box-only smear
data into instance masks for training: the "mask bootstrap".

Modules: :mod:`stain` colour features, :mod:`segment_cell` the centred cell of a
single-cell image, :mod:`segment_box` the cell inside a given box,
:mod:`quality` a 0..1 confidence per mask, :mod:`runner` the parallel driver,
:mod:`montage` a picture to check the masks by eye, :mod:`reference` expert
masks to measure against. Imports only ``bloodview.core``, ``bloodview.io`` and
``bloodview.errors``.
"""

BOOTSTRAP_VERSION = "1"
