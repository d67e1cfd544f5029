import numpy as np
from PIL import Image

from bloodview.bootstrap.montage import TILE, _outline_colour, draw_montage, pick_instances
from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.core.geometry import mask_to_polygons
from bloodview.core.instance import Instance, Source


def _dataset(tmp_path, syn):
    rgb, cell, _ = syn.white_cell_with_red_cells()
    Image.fromarray(rgb).save(tmp_path / "a.png")
    images = []
    for name, quality in (("neutrophil", 0.9), ("neutrophil", 0.3), ("platelet", 0.7)):
        instance = Instance(mask_to_polygons(cell), name, source=Source.BOOTSTRAP, quality=quality)
        images.append(ImageAnnotation("a.png", 360, 360, [instance]))
    return Dataset(images, root=tmp_path)


def test_montage_has_one_row_per_class_and_draws_the_outline(tmp_path, syn):
    dataset = _dataset(tmp_path, syn)
    path = draw_montage(dataset, tmp_path / "m.png", per_class=3)
    picture = np.asarray(Image.open(path).convert("RGB"))
    assert picture.shape[0] == 2 * TILE  # neutrophil and platelet rows
    outline = np.array(_outline_colour(dataset.classes["neutrophil"].color))
    first_tile = picture[:TILE, -3 * TILE:-2 * TILE].astype(int)
    near_outline = np.abs(first_tile - outline).sum(axis=2) < 60
    assert near_outline.sum() > 100  # the drawn outline, in the class colour
    empty_slot = picture[TILE:, -TILE:]
    assert (empty_slot == 255).all()  # platelet row has one cell, the rest is blank


def test_worst_pick_puts_low_quality_first(tmp_path, syn):
    picked = pick_instances(_dataset(tmp_path, syn), per_class=1, pick="worst")
    assert picked["neutrophil"][0][1].quality == 0.3
