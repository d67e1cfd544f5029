"""Neighbour platelets and red cells of PBC crops found, against cells marked by eye (issue "Every cell in the field").

Usage: .venv/bin/python benchmarks/pbc_platelets.py [--model resources/models/default] [--pbc DIR]
       (also a section of benchmarks/fields.py: ``--only pbc_platelets``)

PBC labels one centred cell per image; the platelets round it are what a technician sees unmarked
when the model misses them. ``benchmarks/fixtures/pbc_val_neighbour_platelets.json`` holds the
centre of every platelet wholly inside 40 PBC ``val`` images (every 12th, 23 platelets in 16 of
them), marked by eye. A platelet is FOUND when a platelet detection's box holds its centre (one
detection per platelet, best score first, as the BCCD centre rule of fields.py). Platelet
detections holding no marked centre and not on the centred cell are counted too ("unmatched"):
some are specks or fragments the marking left out on purpose, so they are reported, not scored.

``benchmarks/fixtures/pbc_val_red_cells.json`` holds the centres of the 278 red cells wholly inside
the same 40 images (its ``about`` says how they were checked). A red cell is FOUND when a red-cell
outline's box (the classical finder's, class ``rbc``) holds its centre, one outline each.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "pbc_val_neighbour_platelets.json"
RED_CELL_FIXTURE = FIXTURE.with_name("pbc_val_red_cells.json")
REPO = Path(__file__).resolve().parents[1]


def load_fixture(path: Path = FIXTURE) -> list[dict]:
    """The fixture's images: ``{"file": "class/name.jpg", "platelets": [[x, y], ...]}``
    (``"red_cells"`` in the red-cell fixture)."""
    return json.loads(path.read_text(encoding="utf-8"))["images"]


def marks_found(marks: list, detections: list) -> int:
    """How many marked centres lie in the box of a platelet detection, one detection each."""
    taken: set[int] = set()
    for d in sorted(detections, key=lambda one: -(one.score or 0.0)):
        x0, y0, x1, y1 = d.bbox
        inside = [(abs(x - (x0 + x1) / 2) + abs(y - (y0 + y1) / 2), i) for i, (x, y) in enumerate(marks)
                  if i not in taken and x0 <= x <= x1 and y0 <= y <= y1]
        if inside:
            taken.add(min(inside)[1])
    return len(taken)


def run_pbc_platelets(predict, root: Path, fixture: Path = FIXTURE, red_cells=None) -> dict:
    """``predict(rgb) -> cells`` on each fixture image; the share of marked platelets found.

    ``red_cells``: a second ``predict`` that returns the red cells too (:func:`count_red_cells`).
    """
    from bloodview.io.images import load_image

    marked = found = detections = 0
    for image in load_fixture(fixture):
        cells = predict(load_image(root / image["file"]))
        platelets = [c for c in cells if c.class_name == "platelet"]
        marked += len(image["platelets"])
        found += marks_found(image["platelets"], platelets)
        detections += len(platelets)
    result = {"images": len(load_fixture(fixture)), "platelets_marked": marked, "platelets_found": found,
              "share_found": found / marked if marked else None, "platelet_detections": detections}
    if red_cells is not None:
        result |= count_red_cells(red_cells, root)
    return result


def count_red_cells(predict, root: Path, fixture: Path = RED_CELL_FIXTURE) -> dict:
    """``predict(rgb) -> cells`` (red cells included) on each fixture image; the share of marked red cells found."""
    from bloodview.io.images import load_image

    marked = found = outlines = 0
    for image in load_fixture(fixture):
        red = [c for c in predict(load_image(root / image["file"])) if c.class_name == "rbc"]
        marked += len(image["red_cells"])
        found += marks_found(image["red_cells"], red)
        outlines += len(red)
    return {"red_cells_marked": marked, "red_cells_found": found,
            "red_cells_share_found": found / marked if marked else None, "red_cell_outlines": outlines}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(REPO / "resources/models/default"))
    parser.add_argument("--pbc", default=str(REPO.parent / "shared" / "data" / "pbc"))
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from bloodview.model.predict import Predictor

    predictor = Predictor.load(args.model, red_cells=True)
    predict = lambda rgb: predictor.predict([rgb])[0]  # noqa: E731
    result = run_pbc_platelets(predict, Path(args.pbc), red_cells=predict)
    print(json.dumps(result))
    print(f"PBC val neighbour platelets found (centre in a platelet box): {result['platelets_found']} of "
          f"{result['platelets_marked']}; platelet detections in the {result['images']} images: "
          f"{result['platelet_detections']} (the centred platelets of platelet crops included)")
    print(f"PBC val red cells wholly inside found (centre in a red-cell box): {result['red_cells_found']} of "
          f"{result['red_cells_marked']}; red-cell outlines: {result['red_cell_outlines']} (cut cells at the edges included)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
