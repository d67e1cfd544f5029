"""``bootstrap --pixel-size``: images at another magnification are segmented at the tuned scale."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from bloodview.bootstrap.inputs import WorkItem, scan_boxes
from bloodview.bootstrap.runner import process_item
from bloodview.bootstrap.scale import TUNED_PIXEL_SIZE_UM, Rescale, choose_rescale
from bloodview.cli.main import main
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import polygons_to_mask
from bloodview.core.measure import PixelSize
from bloodview.io.coco import load_coco

BCCD_PIXEL_SIZE_UM = 0.0825  # 7.5 µm / the 90.9-px median red cell of BCCD (docs/scale.md)


def test_no_option_no_resize_and_the_tuned_scale_is_left_alone(syn):
    blank = syn.finish(syn.smear())
    assert choose_rescale(blank, None) == Rescale()
    assert choose_rescale(blank, TUNED_PIXEL_SIZE_UM * 1.05).factor == 1.0  # within the estimate's accuracy
    assert choose_rescale(blank, "auto") == Rescale()  # no red cells: as without the option
    low = choose_rescale(blank, TUNED_PIXEL_SIZE_UM * 3)
    assert low.factor == pytest.approx(3.0) and low.pixel_size == PixelSize(TUNED_PIXEL_SIZE_UM * 3, "given")
    assert choose_rescale(blank, 100.0).factor == 8.0  # a wrong pixel size is clipped, not a 40,000-px image


def test_outlines_come_back_in_the_images_own_pixels():
    rescale = Rescale(2.0)
    back = rescale.outlines_back([np.array([[0.0, 0.0], [40.0, 0.0], [40.0, 30.0], [-1.0, 30.0]])], 15, 20)
    np.testing.assert_allclose(back[0], [[0, 0], [15, 0], [15, 15], [0, 15]])
    assert rescale.image(np.zeros((20, 15, 3), np.uint8)).shape == (40, 30, 3)


def test_a_low_magnification_field_segments_closer_to_the_full_size_one(bccd_dir, tmp_path):
    """BCCD fields shrunk to a third (a 3x lower magnification camera), with their boxes: with its pixel
    size the masks agree better with the full-size segmentation (measured on 5 fields: IoU 0.58 vs 0.53)."""
    shrink = 1 / 3
    with_size, without = [], []
    scan = scan_boxes(bccd_dir / "Annotations", bccd_dir / "JPEGImages", ClassCatalogue.pbc())
    for item in sorted(scan.items, key=lambda i: i.relative)[:5]:
        name, boxes = item.relative.name, item.boxes
        full = process_item(item)
        image = cv2.imread(str(item.path))
        h, w = round(image.shape[0] * shrink), round(image.shape[1] * shrink)
        cv2.imwrite(str(tmp_path / name), cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA))
        small = WorkItem(tmp_path / name, Path(name), None, boxes=tuple((c, tuple(v * shrink for v in b))
                                                                        for c, b in boxes))
        references = [polygons_to_mask([p * shrink for p in cell.polygons], h, w) for cell in full.cells]
        for option, ious in ((BCCD_PIXEL_SIZE_UM / shrink, with_size), (None, without)):
            result = process_item(small, pixel_size=option)
            assert (result.width, result.height) == (w, h)
            masks = [polygons_to_mask(cell.polygons, h, w) for cell in result.cells]
            for cell in result.cells:
                assert all(p[:, 0].max() <= w and p[:, 1].max() <= h for p in cell.polygons)
            ious.extend(max([(r & m).sum() / max(1, (r | m).sum()) for m in masks] or [0]) for r in references)
        assert result.pixel_size is None
    assert np.mean(with_size) > np.mean(without) + 0.02


def test_cli_records_each_images_pixel_size_and_keeps_the_default_unchanged(bccd_dir, tmp_path):
    images, notes = tmp_path / "images", tmp_path / "notes"
    images.mkdir()
    notes.mkdir()
    for stem in ("BloodImage_00167", "BloodImage_00174"):  # red cells measured by hand: 88.7, 95.9 px
        (images / f"{stem}.jpg").write_bytes((bccd_dir / "JPEGImages" / f"{stem}.jpg").read_bytes())
        (notes / f"{stem}.xml").write_text((bccd_dir / "Annotations" / f"{stem}.xml").read_text())

    def run(*option):
        out = tmp_path / f"out{len(option)}{option[-1] if option else ''}.json"
        assert main(["bootstrap", str(images), "--boxes", str(notes), "--out", str(out), "--workers", "1",
                     *option]) == 0
        return load_coco(out, images_root=images), json.loads(out.read_text())

    plain, plain_file = run()
    assert all(image.pixel_size is None for image in plain.images)
    assert all("area_um2" not in a["bloodview"] for a in plain_file["annotations"])
    auto, auto_file = run("--pixel-size", "auto")
    assert [image.pixel_size.source for image in auto.images] == ["red cells", "red cells"]
    assert all(0.07 < image.pixel_size.um_per_pixel < 0.09 for image in auto.images)  # 7.5 µm / ~90 px
    assert all(a["bloodview"]["diameter_um"] > 0 for a in auto_file["annotations"])
    tuned, _ = run("--pixel-size", str(TUNED_PIXEL_SIZE_UM))  # PBC's own scale: nothing resized
    assert [[i.polygons[0].tolist() for i in image.instances] for image in tuned.images] == \
        [[i.polygons[0].tolist() for i in image.instances] for image in plain.images]
    with pytest.raises(SystemExit):
        main(["bootstrap", str(images), "--boxes", str(notes), "--out", "x.json", "--pixel-size", "-2"])
