"""MakeSense exports: the "VGG JSON" (VIA polygons) and the "COCO JSON" layouts.

Both are written exactly as MakeSense writes them, so files from bloodview and
from MakeSense are interchangeable; see :mod:`bloodview.io.via` and
:mod:`bloodview.io.makesense_coco` for the layouts.
"""

from bloodview.io.makesense_coco import load_makesense_coco, makesense_coco_dict, save_makesense_coco
from bloodview.io.via import load_via, save_via, via_dict

load_makesense_vgg = load_via
save_makesense_vgg = save_via

__all__ = [
    "load_makesense_coco",
    "load_makesense_vgg",
    "load_via",
    "makesense_coco_dict",
    "save_makesense_coco",
    "save_makesense_vgg",
    "save_via",
    "via_dict",
]
