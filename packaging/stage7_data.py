"""The training data of the default model's stage 7 (docs/model-card.md): PBC crops + BCCD fields.

Usage: python packaging/stage7_data.py --pbc pbc_all_bootstrap.json --bccd bccd_boot.json
       --bccd-test ../shared/data/bccd/ImageSets/Main/test.txt --out train_data.json [--repeat 6]

- ``--pbc``: the bootstrap COCO of ``pbc/`` and ``pbc_extra/`` merged, file names relative to
  ``../shared/data`` (``pbc/<class>/…``, ``pbc_extra/<class>/…``); its train images all, every 4th
  val image (a quicker validation loss), each given PBC's pixel size 0.1029 µm.
- ``--bccd``: ``bloodview bootstrap JPEGImages --boxes Annotations --pixel-size auto`` of BCCD; the
  fields not in ``--bccd-test`` are repeated ``--repeat`` times as training images, with their
  ``WBC`` (a white cell of unknown type: a partial label) and platelet outlines; red-cell boxes are
  left out. Pixel size: the median of the fields measured on three or more red cells, given.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import Counter
from pathlib import Path

PBC_UM = 0.1029


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pbc", type=Path, required=True)
    parser.add_argument("--bccd", type=Path, required=True)
    parser.add_argument("--bccd-test", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=6)
    args = parser.parse_args()

    pbc = json.loads(args.pbc.read_text())
    bccd = json.loads(args.bccd.read_text())
    test = set(args.bccd_test.read_text().split())
    names = {c["id"]: c["name"] for c in pbc["categories"]}
    wbc = next(c for c in bccd["categories"] if c["name"] == "wbc")
    out = {"info": {}, "licenses": [], "images": [], "annotations": [], "categories": pbc["categories"] + [wbc]}
    ids = {"image": 0, "annotation": 0}

    def add(image: dict, annotations: list[dict]) -> None:
        ids["image"] += 1
        out["images"].append(image | {"id": ids["image"]})
        for annotation in annotations:
            ids["annotation"] += 1
            out["annotations"].append(annotation | {"id": ids["annotation"], "image_id": ids["image"]})

    by_image: dict[int, list] = {}
    for annotation in pbc["annotations"]:
        by_image.setdefault(annotation["image_id"], []).append(annotation)
    val_seen = 0
    for image in pbc["images"]:
        if image.get("split") == "val":
            val_seen += 1
            if val_seen % 4:
                continue
        given = {"pixel_size": {"um_per_pixel": PBC_UM, "source": "given"}}
        add(image | {"bloodview": image.get("bloodview", {}) | given}, by_image.get(image["id"], []))

    measured = [im["bloodview"]["pixel_size"]["um_per_pixel"] for im in bccd["images"]
                if im.get("bloodview", {}).get("pixel_size", {}).get("cells_measured", 0) >= 3]
    bccd_um = statistics.median(measured)
    kept = {c["id"] for c in bccd["categories"] if c["name"] in ("wbc", "platelet")}
    assert {c["id"] for c in bccd["categories"] if c["name"] == "platelet"} <= set(names), "platelet ids differ"
    by_image = {}
    for annotation in bccd["annotations"]:
        if annotation["category_id"] in kept:
            by_image.setdefault(annotation["image_id"], []).append(annotation)
    fields = [im for im in bccd["images"] if Path(im["file_name"]).stem not in test]
    for _ in range(args.repeat):
        for image in fields:
            given = {"pixel_size": {"um_per_pixel": bccd_um, "source": "given"}}
            add(image | {"file_name": "bccd/JPEGImages/" + image["file_name"], "split": "train",
                         "bloodview": image.get("bloodview", {}) | given}, by_image.get(image["id"], []))
    args.out.write_text(json.dumps(out))
    print(f"{len(out['images'])} images ({len(fields)} BCCD fields x {args.repeat}, {bccd_um:.4f} µm/px); "
          f"cells per class {dict(Counter(a['category_id'] for a in out['annotations']))}")


if __name__ == "__main__":
    main()
