import pytest
from PIL import Image

from bloodview.bootstrap.inputs import scan_class_folders
from bloodview.core.classes import ClassCatalogue
from bloodview.errors import FormatError, UnknownClassError
from bloodview.io.class_folders import load_class_folders


def _write(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_class_folders_give_items_with_classes_splits_and_skip_counts(tmp_path):
    _write(tmp_path / "basophil" / "BA_1.jpg")
    _write(tmp_path / "Platelets" / "P_1.png")
    _write(tmp_path / "basophil" / "notes.txt")
    _write(tmp_path / "basophil" / ".DS_Store")
    (tmp_path / "manifest.csv").write_text("file,class,split\nBA_1.jpg,basophil,val\n")
    scan = scan_class_folders(tmp_path, ClassCatalogue.pbc())
    assert [(i.relative.as_posix(), i.class_name, i.split) for i in scan.items] == [
        ("Platelets/P_1.png", "platelet", None),
        ("basophil/BA_1.jpg", "basophil", "val"),
    ]
    assert scan.skipped_files["not an image"] == 1


def test_unknown_class_folder_names_the_known_classes(tmp_path):
    _write(tmp_path / "smudge" / "a.jpg")
    with pytest.raises(UnknownClassError) as info:
        scan_class_folders(tmp_path, ClassCatalogue.pbc())
    message = str(info.value)
    assert "smudge" in message and "neutrophil" in message


def test_extra_classes_are_accepted(tmp_path):
    _write(tmp_path / "smudge" / "a.jpg")
    scan = scan_class_folders(tmp_path, ClassCatalogue.pbc(), ["smudge"])
    assert scan.items[0].class_name == "smudge"
    assert "smudge" in scan.classes


@pytest.mark.parametrize("layout", ["missing", "no folders", "empty folders"])
def test_empty_inputs_are_refused_with_a_clear_message(tmp_path, layout):
    root = tmp_path / "data"
    if layout != "missing":
        root.mkdir()
    if layout == "empty folders":
        (root / "basophil").mkdir()
        _write(root / "basophil" / "readme.txt")
    with pytest.raises(FormatError) as info:
        scan_class_folders(root, ClassCatalogue.pbc())
    assert str(root) in str(info.value)


def test_an_empty_class_folder_is_skipped_with_a_note_as_info_skips_it(tmp_path):
    # regression: bootstrap stopped with "unknown cell class 'empty'" where info ignored the folder
    _write(tmp_path / "basophil" / "BA_1.jpg")
    (tmp_path / "empty").mkdir()
    _write(tmp_path / "neutrophil" / "readme.txt")  # a class folder with no image in it
    _write(tmp_path / "__MACOSX" / "basophil" / "._BA_1.jpg")
    scan = scan_class_folders(tmp_path, ClassCatalogue.pbc())
    assert [i.relative.as_posix() for i in scan.items] == ["basophil/BA_1.jpg"]
    assert [p.name for p in scan.skipped_folders] == ["empty", "neutrophil"]
    assert "empty" not in scan.classes
    Image.new("RGB", (8, 8)).save(tmp_path / "basophil" / "BA_1.jpg")
    assert [str(i.image_path) for i in load_class_folders(tmp_path).images] == ["basophil/BA_1.jpg"]
