"""Training labels that name a group of classes instead of one: "a white cell, type unknown".

Box-only fields from other sources (BCCD's ``WBC`` boxes, a lab's own "white cell"
marks) say *that* a cell is a leukocyte, not *which* one. Dropping them teaches the
network that such cells are background; guessing a class teaches it the guess.
Instead each such cell gets a *group* id above the model's classes, and the losses
treat it as partial supervision (as in learning from partial labels, e.g. Cour et
al., JMLR 2011):

- class loss: ``-log`` of the summed probability of the group's classes, so the
  network learns "some white class" and keeps its own choice between them;
- box and mask losses: the mean over the group's classes of each class's loss,
  since a cell's outline does not depend on which white class it is.

A one-class label is the special case of a one-member group, so every id is a row
of one table. NumPy only; the table becomes a constant of the training graph.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bloodview.core.classes import ClassCatalogue, is_white_cell_name

WHITE_CELL_GROUP = "white cell"


def white_class_ids(class_names: Sequence[str]) -> list[int]:
    """Class ids (1-based, as in training) of the model's white-cell classes (the differential's)."""
    catalogue = ClassCatalogue(())
    return [i + 1 for i, name in enumerate(class_names) if catalogue.add(name).white_cell]


def group_names(class_names: Sequence[str]) -> list[str]:
    """The groups a model with these classes can learn from (only when it has two or more white classes)."""
    return [WHITE_CELL_GROUP] if len(white_class_ids(class_names)) >= 2 else []


def group_id(name: str, class_names: Sequence[str]) -> int | None:
    """The training id of a group label (``WBC``, ``white cell``, ``leukocyte``), or None."""
    if not is_white_cell_name(name) or WHITE_CELL_GROUP not in group_names(class_names):
        return None
    return len(class_names) + 1  # num_classes: the first id after the model's own


def membership_table(class_names: Sequence[str]) -> np.ndarray:
    """float32 ``[num_classes + groups, num_classes]``: row ``id`` marks the classes label ``id`` allows.

    Rows ``0..num_classes-1`` are one-hot (background and each class); one row per group follows.
    """
    num_classes = len(class_names) + 1
    rows = [np.eye(num_classes, dtype=np.float32)]
    if WHITE_CELL_GROUP in group_names(class_names):
        row = np.zeros((1, num_classes), dtype=np.float32)
        row[0, white_class_ids(class_names)] = 1.0
        rows.append(row)
    return np.concatenate(rows, axis=0)
