"""Reading and writing annotations and images (COCO, MakeSense/VIA, LabelMe, VOC,
YOLO, class folders, mask PNGs, the project folder).

Sub-modules import nothing heavy beyond NumPy/OpenCV/Pillow/pycocotools; import
the one you need (``from bloodview.io.coco import load_coco``) or use
:mod:`bloodview.io.detect` to let the format be recognised. Every write is atomic
(:mod:`bloodview.io.atomic`). See docs/formats.md.
"""
