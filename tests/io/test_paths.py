"""File names inside annotation files may not reach outside the data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from bloodview.core.annotation import Dataset, ImageAnnotation
from bloodview.errors import FormatError
from bloodview.io.paths import flat_export_names, member_path, output_relative


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.jpg", "a.jpg"),
        ("./sub/a.jpg", "sub/a.jpg"),
        ("sub/../b.jpg", "b.jpg"),
        ("sub\\win\\c.jpg", "sub/win/c.jpg"),
        (" spaced name.jpg ", "spaced name.jpg"),
        # an absolute path (a PC that recorded where its images were) is read inside the data folder
        ("/abs/a.jpg", "abs/a.jpg"),
        ("C:\\a.jpg", "a.jpg"),
        ("\\\\server\\share\\a.jpg", "a.jpg"),
    ],
)
def test_names_inside_the_data_folder(name, expected):
    assert member_path(name, "ann.json").as_posix() == expected


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../a.jpg", "points outside the data folder"),
        ("sub/../../a.jpg", "points outside the data folder"),
        ("..\\..\\a.jpg", "points outside the data folder"),
        ("", "empty or missing file name"),
        (None, "empty or missing file name"),
        ("./", "empty file name"),
    ],
)
def test_names_refused_with_the_annotation_file_named(name, message):
    with pytest.raises(FormatError, match=f"ann.json: .*{message}"):
        member_path(name, "ann.json")


def test_output_relative_never_leaves_the_output_folder():
    assert output_relative(Path("sub/a.jpg")) == Path("sub/a.jpg")
    assert output_relative(Path("../smears/a.jpg")) == Path("a.jpg")
    assert output_relative(Path("/data/a.jpg")) == Path("a.jpg")


def test_flat_names_keep_colliding_images_apart():
    dataset = Dataset([ImageAnnotation("x/a.jpg", 1, 1), ImageAnnotation("y/a.jpg", 1, 1),
                       ImageAnnotation("y/b.jpg", 1, 1)])
    assert flat_export_names(dataset) == ["x/a.jpg", "y/a.jpg", "b.jpg"]
