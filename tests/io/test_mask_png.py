"""Label-image masks to outlines and back (hand-made and the Zheng WBC set)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from bloodview.core.geometry import mask_iou
from bloodview.errors import FormatError
from bloodview.io.coco import load_coco, save_coco
from bloodview.io.mask_png import load_mask_pngs, read_label_image, save_mask_pngs


def _pair(folder, stem, mask, image_suffix=".bmp"):
    Image.new("RGB", (mask.shape[1], mask.shape[0])).save(folder / f"{stem}{image_suffix}")
    Image.fromarray(mask).save(folder / f"{stem}.png")


def test_components_become_instances_with_csv_classes(tmp_path):
    mask = np.zeros((40, 50), np.uint8)
    mask[5:15, 5:20] = 128
    mask[8:12, 8:12] = 255  # nucleus inside the same cell
    mask[25:35, 30:45] = 255  # a second cell
    mask[0, 49] = 255  # 1-pixel speck: below min_area
    _pair(tmp_path, "007", mask)
    (tmp_path / "labels.csv").write_text("image ID,class label\n7,3\n")
    dataset = load_mask_pngs(tmp_path, labels_csv=tmp_path / "labels.csv")
    (image,) = dataset
    assert [i.class_name for i in image] == ["monocyte", "monocyte"] and image.image_label == "monocyte"
    assert image.instances[0].bbox == (5, 5, 20, 15)
    union = image.instances[0].to_mask(40, 50) | image.instances[1].to_mask(40, 50)
    expected = mask > 0
    expected[0, 49] = False
    np.testing.assert_array_equal(union, expected)


def test_without_csv_uses_default_class_and_by_value(tmp_path):
    mask = np.zeros((20, 20), np.uint8)
    mask[2:8, 2:8] = 1
    mask[2:8, 8:14] = 2  # touching, different instance value
    _pair(tmp_path, "a", mask, ".jpg")
    assert len(load_mask_pngs(tmp_path).images[0]) == 1
    dataset = load_mask_pngs(tmp_path, by_value=True)
    assert [i.class_name for i in dataset.images[0]] == ["cell", "cell"] and "cell" in dataset.classes


def test_mask_of_wrong_size_and_no_pairs(tmp_path):
    Image.new("RGB", (20, 20)).save(tmp_path / "a.bmp")
    Image.fromarray(np.zeros((10, 20), np.uint8)).save(tmp_path / "a.png")
    with pytest.raises(FormatError, match=r"a.png: mask is 20x10 but its image a.bmp is 20x20"):
        load_mask_pngs(tmp_path)
    (tmp_path / "empty").mkdir()
    Image.new("RGB", (20, 20)).save(tmp_path / "empty" / "lonely.jpg")
    with pytest.raises(FormatError, match="has no image \\+ mask PNG pairs"):
        load_mask_pngs(tmp_path / "empty")


def test_save_never_overwrites_a_png_image(tmp_path):
    mask = np.zeros((20, 20), np.uint8)
    mask[2:8, 2:8] = 255
    Image.new("RGB", (20, 20)).save(tmp_path / "a.png")
    Image.fromarray(mask).save(tmp_path / "a_mask.png")
    dataset = load_mask_pngs(tmp_path)
    before = (tmp_path / "a.png").read_bytes()
    (written,) = save_mask_pngs(dataset, tmp_path)
    assert written.name == "a_mask.png" and (tmp_path / "a.png").read_bytes() == before
    np.testing.assert_array_equal(read_label_image(written) > 0, mask > 0)


def test_zheng_masks_to_coco_and_back_keep_iou(zheng_dir, tmp_path):
    """Done-when check: Zheng masks -> COCO -> masks keeps IoU >= 0.98 on all 300."""
    dataset = load_mask_pngs(zheng_dir)
    assert len(dataset) == 300 and dataset.instance_count == 300
    assert dataset.class_counts() == {"neutrophil": 176, "lymphocyte": 53, "monocyte": 48, "eosinophil": 22,
                                      "basophil": 1}
    save_coco(dataset, tmp_path / "zheng.json")
    back = load_coco(tmp_path / "zheng.json", images_root=zheng_dir)
    save_mask_pngs(back, tmp_path / "masks")
    ious = [
        mask_iou(read_label_image(zheng_dir / f"{i.image_path.stem}.png") > 0,
                 read_label_image(tmp_path / "masks" / f"{i.image_path.stem}.png") > 0)
        for i in back
    ]
    assert len(ious) == 300
    assert min(ious) >= 0.98
    print(f"Zheng masks -> COCO -> masks IoU: min {min(ious):.4f}, mean {np.mean(ious):.4f}")


@pytest.mark.parametrize("text", ["¹", "٣", "²³"])
def test_a_label_that_is_a_digit_only_to_unicode_is_a_class_name_not_a_crash(tmp_path, text):
    """Found by 10,000 damaged inputs: '¹'.isdigit() is True but int('¹') fails."""
    from bloodview.io.mask_png import read_labels_csv

    path = tmp_path / "labels.csv"
    path.write_text(f"image ID,class label\n7,{text}\n{text}.png,2\n", encoding="utf-8")
    try:
        labels = read_labels_csv(path, ["neutrophil", "lymphocyte"])
    except FormatError as error:
        assert "labels.csv" in str(error)
    else:
        assert labels["7"] == text and labels[text] == "lymphocyte"


def test_a_mask_never_overwrites_another_picture_of_the_same_name(tmp_path):
    """Regression: masks written into an images folder holding a.jpg (annotated) and a.png (another
    picture) wrote a.jpg's mask over a.png."""
    from bloodview.core.annotation import Dataset, ImageAnnotation
    from bloodview.core.classes import ClassCatalogue
    from bloodview.core.geometry import rectangle
    from bloodview.core.instance import Instance

    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(tmp_path / "a.jpg")
    Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(tmp_path / "a.png")
    picture = (tmp_path / "a.png").read_bytes()
    dataset = Dataset([ImageAnnotation("a.jpg", 50, 40, [Instance(rectangle(5, 5, 20, 20), "neutrophil")])],
                      ClassCatalogue.pbc(), tmp_path)
    written = save_mask_pngs(dataset, tmp_path)
    assert [p.name for p in written] == ["a_mask.png"]
    assert (tmp_path / "a.png").read_bytes() == picture and not (tmp_path / "a.png.bak").exists()
    assert np.asarray(Image.open(tmp_path / "a_mask.png"))[10, 10] == 255
    save_mask_pngs(dataset, tmp_path / "masks")  # into a folder of its own: named after the image, as before
    assert (tmp_path / "masks" / "a.png").is_file()


def test_masks_in_their_own_folder_pair_with_the_images_not_with_the_masks_beside_them(tmp_path, capsys):
    """Regression: Zheng 'Dataset 1' -> mask-png elsewhere -> coco --images 'Dataset 1' gave 600 images
    for 300: each own mask (001.png beside 001.bmp) was taken for a second image of the cell."""
    from bloodview.cli.main import main

    crops = tmp_path / "Dataset 1"
    crops.mkdir()
    rng = np.random.default_rng(1)
    for stem in ("001", "002"):
        Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(crops / f"{stem}.bmp")
        mask = np.zeros((40, 50), np.uint8)
        mask[10:30, 10:35] = 255
        Image.fromarray(mask).save(crops / f"{stem}.png")
    assert main(["convert", str(crops), str(tmp_path / "masks"), "--to", "mask-png"]) == 0
    assert main(["convert", str(tmp_path / "masks"), str(tmp_path / "back.json"), "--to", "coco",
                 "--images", str(crops)]) == 0
    assert "-> " in capsys.readouterr().out
    back = load_coco(tmp_path / "back.json", images_root=crops)
    assert [i.image_path.name for i in back] == ["001.bmp", "002.bmp"] and back.instance_count == 2


def _zheng_crops(zheng_dir, folder, count=12):
    """The first ``count`` Zheng crops (images only) with their classes, as a COCO file in ``folder``
    (a folder without Zheng's own CSV, so classes can only come back through what we write)."""
    import shutil

    from bloodview.core.annotation import Dataset

    zheng = load_mask_pngs(zheng_dir)
    folder.mkdir()
    chosen = zheng.images[:count]
    for image in chosen:
        shutil.copy(zheng_dir / image.image_path, folder / image.image_path.name)
    save_coco(Dataset(chosen, zheng.classes, folder), folder / "cells.json")
    return {i.image_path.name: [c.class_name for c in i.instances] for i in chosen}


def test_zheng_classes_survive_a_round_trip_through_mask_pngs_in_their_own_folder(zheng_dir, tmp_path):
    """Regression: ``convert X OUT --to mask-png`` wrote masks but no classes, so reading them back
    (``--images``) made every cell a "cell"."""
    from bloodview.cli.main import main

    crops = tmp_path / "crops"
    classes = _zheng_crops(zheng_dir, crops)
    assert len(set(sum(classes.values(), []))) > 1  # several classes among the crops, one per crop
    assert main(["convert", str(crops / "cells.json"), str(tmp_path / "masks"), "--to", "mask-png"]) == 0
    assert (tmp_path / "masks" / "labels.csv").read_text().splitlines()[0] == "image,class"
    assert main(["convert", str(tmp_path / "masks"), str(tmp_path / "back.json"), "--to", "coco",
                 "--images", str(crops)]) == 0
    back = load_coco(tmp_path / "back.json", images_root=crops)
    assert {i.image_path.name: [c.class_name for c in i.instances] for i in back} == classes
    assert all(i.image_label == classes[i.image_path.name][0] for i in back)


def test_zheng_classes_survive_masks_written_beside_their_images(zheng_dir, tmp_path):
    from bloodview.cli.main import main

    crops = tmp_path / "crops"
    classes = _zheng_crops(zheng_dir, crops)
    assert main(["convert", str(crops / "cells.json"), str(crops), "--to", "mask-png"]) == 0
    back = load_mask_pngs(crops)
    assert {i.image_path.name: [c.class_name for c in i.instances] for i in back} == classes


def test_an_image_with_cells_of_several_classes_gets_no_label_row(tmp_path, caplog):
    """The reader gives every cell of an image one class: a row for a mixed image would rename cells."""
    from bloodview.core.annotation import Dataset, ImageAnnotation
    from bloodview.core.classes import ClassCatalogue
    from bloodview.core.geometry import rectangle
    from bloodview.core.instance import Instance

    for stem in ("mixed", "one", "empty", "plain"):
        Image.new("RGB", (40, 30)).save(tmp_path / f"{stem}.jpg")
    dataset = Dataset([
        ImageAnnotation("mixed.jpg", 40, 30, [Instance(rectangle(2, 2, 12, 12), "neutrophil"),
                                              Instance(rectangle(20, 2, 30, 12), "lymphocyte")]),
        ImageAnnotation("one.jpg", 40, 30, [Instance(rectangle(2, 2, 12, 12), "eosinophil")]),
        ImageAnnotation("empty.jpg", 40, 30, [], image_label="basophil"),
        ImageAnnotation("plain.jpg", 40, 30, []),
    ], ClassCatalogue.pbc(), tmp_path)
    save_mask_pngs(dataset, tmp_path / "masks")
    assert (tmp_path / "masks" / "labels.csv").read_text() == "image,class\none.jpg,eosinophil\nempty.jpg,basophil\n"
    assert "1 images hold cells of several classes" in caplog.text and "mixed.jpg" in caplog.text
    back = {i.image_path.name: i for i in load_mask_pngs(tmp_path, masks_dir=tmp_path / "masks")}
    assert [c.class_name for c in back["one.jpg"]] == ["eosinophil"]
    assert [c.class_name for c in back["mixed.jpg"]] == ["cell", "cell"]
    assert back["empty.jpg"].image_label == "basophil" and back["plain.jpg"].image_label is None


def test_touching_cells_come_back_as_separate_cells_from_a_0_255_mask(tmp_path):
    """Found converting predictions on BCCD fields: 39 cells written to a 0/255 mask came back
    as 22, touching red cells merged into one component each."""
    from bloodview.core.annotation import Dataset, ImageAnnotation
    from bloodview.core.geometry import rectangle
    from bloodview.core.instance import Instance

    Image.new("RGB", (60, 30), "white").save(tmp_path / "a.jpg")
    cells = [Instance(rectangle(2, 2, 20, 20), "rbc"), Instance(rectangle(20, 2, 38, 20), "rbc"),  # side by side
             Instance(rectangle(35, 5, 55, 25), "rbc"),  # overlaps the second
             Instance(rectangle(2, 22, 8, 28), "rbc")]  # alone
    dataset = Dataset([ImageAnnotation("a.jpg", 60, 30, cells)], root=tmp_path)
    dataset.classes.add("rbc")
    save_mask_pngs(dataset, tmp_path / "masks")
    mask = read_label_image(tmp_path / "masks" / "a.png")
    assert set(np.unique(mask)) == {0, 255}
    (image,) = load_mask_pngs(tmp_path, masks_dir=tmp_path / "masks", add_unknown_classes=True)
    assert len(image.instances) == 4
    back = sorted(image.instances, key=lambda i: i.bbox)
    for before, after in zip(sorted(cells, key=lambda i: i.bbox), back):
        assert mask_iou(before.to_mask(30, 60), after.to_mask(30, 60)) > 0.75
