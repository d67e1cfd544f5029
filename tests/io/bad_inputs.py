"""Valid annotation files of every format bloodview reads, and Hypothesis strategies that damage them.

Shared by ``tests/io/test_readers_total.py`` (a few dozen examples per reader)
and ``benchmarks/bad_inputs.py`` (10,000 through the CLI). Each :class:`Case`
is one reader's input written by bloodview's own writers (plus the shapes other
tools write: rectangles, circles, RLE, crowd regions) into its own folder, with
the file a mutation damages. :func:`mutation` draws one damage for that file:
a value anywhere replaced by any JSON value (or any XML/text token), a key or
element removed or added, the text truncated or spliced with hostile bytes.
"""

from __future__ import annotations

import copy
import io
import json
import random
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st
from PIL import Image

from bloodview.core.annotation import Dataset, ImageAnnotation, SignOffEvent
from bloodview.core.classes import ClassCatalogue
from bloodview.core.geometry import rectangle
from bloodview.core.instance import Instance, Source
from bloodview.core.measure import PixelSize


@dataclass
class Case:
    """One reader's valid input: ``target`` is the file mutations damage."""

    reader: str
    fmt: str  # format name for load_annotations / ``--from``
    path: Path  # what is read (file or folder)
    target: Path
    kind: str  # json | xml | text | png
    images: Path | None = None
    gt: Path | None = None  # ground truth, for COCO results
    home: Path | None = None  # the case's own folder (nothing in it may change on reading)

    def read(self) -> Any:
        from bloodview.io.coco import load_coco_results
        from bloodview.io.detect import load_annotations

        if self.fmt == "coco-results":
            return load_coco_results(self.path, self.gt)
        return load_annotations(self.path, images=self.images, fmt=self.fmt)

    def convert_args(self, out: Path) -> list[str]:
        """Arguments for ``bloodview convert`` (or ``evaluate`` for a results file)."""
        if self.fmt == "coco-results":
            return ["evaluate", "--gt", str(self.gt), "--pred", str(self.path), "--out", str(out)]
        extra = ["--images", str(self.images)] if self.images is not None else []
        return ["convert", str(self.path), str(out), "--to", "coco", *extra]


def _png(path: Path, size: tuple[int, int] = (64, 48)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (230, 200, 210)).save(path)


def sample_dataset(root: Path) -> Dataset:
    """Two images with every kind of cell our writers store (outline, parts, box, crowd, records)."""
    _png(root / "a.png")
    _png(root / "b.png", (40, 30))
    classes = ClassCatalogue.pbc()
    classes.add("rbc", display_name="RBC")
    a = ImageAnnotation("a.png", 64, 48, [
        Instance(np.array([[1, 1], [20, 1], [22, 15], [0, 12]], float), "neutrophil", score=0.9,
                 source=Source.MODEL),
        Instance([rectangle(30, 5, 40, 15), rectangle(42, 5, 50, 15)], "platelet", reviewed=True,
                 source=Source.HUMAN),
        Instance(rectangle(5, 20, 25, 40), "lymphocyte", box_only=True),
        Instance(rectangle(40, 30, 60, 46), "rbc"),
    ], split="train", pixel_size=PixelSize(0.1, "given"))
    a.sign_off_history = [SignOffEvent(True, "anna", "2026-01-02T03:04:05+00:00")]
    a.signed_off = False
    crowd = Instance(rectangle(2, 2, 12, 12), "erythroblast", source=Source.HUMAN)
    crowd.extra["iscrowd"] = True
    b = ImageAnnotation("b.png", 40, 30, [crowd, Instance(rectangle(20, 10, 38, 28), "monocyte")],
                        image_label="monocyte")
    return Dataset([a, b], classes, root)


def build_cases(folder: Path) -> dict[str, Case]:
    """Write one valid input per reader under ``folder`` (one sub-folder each)."""
    from bloodview.io import coco, coco_results, labelme, makesense_coco, mask_png, project, via, voc, yolo

    cases: dict[str, Case] = {}

    def place(name: str) -> tuple[Path, Dataset]:
        where = folder / name
        where.mkdir(parents=True)
        return where, sample_dataset(where)

    where, ds = place("coco")
    data = coco.coco_dict(ds, where)
    data["annotations"][2].pop("segmentation")  # a bbox-only annotation, as detection sets write
    (where / "coco.json").write_text(json.dumps(data), encoding="utf-8")
    cases["coco"] = Case("coco", "coco", where / "coco.json", where / "coco.json", "json")

    where, ds = place("results")
    coco.save_coco(ds, where / "gt.json")
    results = coco_results.coco_results_list(ds)
    results[1]["segmentation"] = [[1, 1, 10, 1, 10, 10]]
    results[2].pop("segmentation")
    (where / "results.json").write_text(json.dumps(results), encoding="utf-8")
    cases["coco-results"] = Case("coco-results", "coco-results", where / "results.json", where / "results.json",
                                 "json", gt=where / "gt.json")

    where, ds = place("via")
    data = via.via_dict(ds)
    (b_png,) = [entry for entry in data.values() if entry["filename"] == "b.png"]  # keyed as VIA 2: name + size
    b_png["regions"] = [  # VIA 2: regions as a list, other shapes, a checkbox attribute
        {"shape_attributes": {"name": "rect", "x": 2, "y": 2, "width": 10, "height": 8},
         "region_attributes": {"type": {"monocyte": True}}},
        {"shape_attributes": {"name": "circle", "cx": 20, "cy": 15, "r": 5}, "region_attributes": {"label": "RBC"}},
        {"shape_attributes": {"name": "ellipse", "cx": 30, "cy": 15, "rx": 5, "ry": 3, "theta": 0.3},
         "region_attributes": {"label": "platelet"}},
        {"shape_attributes": {"name": "point", "cx": 3, "cy": 3}, "region_attributes": {"label": "platelet"}},
    ]
    (where / "via.json").write_text(json.dumps({"_via_img_metadata": data}), encoding="utf-8")
    cases["via"] = Case("via", "via", where / "via.json", where / "via.json", "json")

    where, ds = place("makesense-vgg")
    via.save_via(ds, where / "vgg.json", provenance=False)
    cases["makesense-vgg"] = Case("makesense-vgg", "via", where / "vgg.json", where / "vgg.json", "json")

    where, ds = place("makesense-coco")
    makesense_coco.save_makesense_coco(ds, where / "ms.json")
    cases["makesense-coco"] = Case("makesense-coco", "makesense-coco", where / "ms.json", where / "ms.json", "json")

    where, ds = place("labelme")
    written = labelme.save_labelme(ds, where)
    data = json.loads(written[0].read_text(encoding="utf-8"))
    data["shapes"] += [
        {"label": "platelet", "points": [[2, 2], [9, 9]], "shape_type": "rectangle", "group_id": None},
        {"label": "RBC", "points": [[30, 30], [33, 34]], "shape_type": "circle", "group_id": 7},
        {"label": "RBC", "points": [[1, 40], [5, 44], [1, 46]], "shape_type": "polygon", "group_id": 7},
        {"label": "platelet", "points": [[3, 3]], "shape_type": "point"},
    ]
    written[0].write_text(json.dumps(data), encoding="utf-8")
    cases["labelme"] = Case("labelme", "labelme", written[0], written[0], "json")

    where, ds = place("voc")
    voc.save_voc(ds, where)
    xml = where / "a.xml"
    xml.write_text(xml.read_text(encoding="utf-8").replace("<difficult>0</difficult>", "<difficult>1</difficult>", 1),
                   encoding="utf-8")
    cases["voc"] = Case("voc", "voc", xml, xml, "xml")

    where, ds = place("yolo")
    yolo.save_yolo(ds, where / "yolo")
    labels = where / "yolo" / "labels"
    for image in ("a.png", "b.png"):
        (where / image).rename(where / "yolo" / image)
    (labels / "a.txt").write_text((labels / "a.txt").read_text() + "4 0.1 0.1 0.3 0.1 0.2 0.3\n", encoding="utf-8")
    cases["yolo"] = Case("yolo", "yolo", where / "yolo", labels / "a.txt", "text", images=where / "yolo")
    cases["yolo-names"] = Case("yolo-names", "yolo", where / "yolo", where / "yolo" / "classes.txt", "text",
                               images=where / "yolo")

    where, ds = place("masks")
    mask_png.save_mask_pngs(ds, where)
    (where / "labels.csv").write_text("image,class\na.png,neutrophil\nb.png,lymphocyte\n", encoding="utf-8")
    cases["mask-png"] = Case("mask-png", "mask-png", where, where / "a_mask.png", "png")
    cases["mask-csv"] = Case("mask-csv", "mask-png", where, where / "labels.csv", "text")

    where, ds = place("project")
    project.save_project(ds, where / "proj")
    annotation = sorted((where / "proj" / "annotations").glob("a-*.json"))[0]
    cases["project"] = Case("project", "project", where / "proj", where / "proj" / "project.json", "json")
    cases["project-image"] = Case("project-image", "project", where / "proj", annotation, "json")
    for case in cases.values():
        case.home = folder / case.path.relative_to(folder).parts[0]
    return cases


# --- damage ---------------------------------------------------------------
HOSTILE_STRINGS = (
    "", " ", "a.png", "../../etc/passwd", "/etc/passwd", "C:\\x.png", "NaN", "-1", "1e309", "0",
    "polygon", "rect", "circle", "ellipse", "RBC", "label", "\x00", "\ud7ff\u202e", "é" * 3, "9" * 400,
)
HOSTILE_TOKENS = (  # spliced into the text as is
    "9" * 5000, "[" * 5000, "{" * 3000, "NaN", "-Infinity", "1e99999", "\x00", "\xff\xfe", "\"", "}", "]",
    ",", "<!DOCTYPE x [<!ENTITY a \"aaaa\">]>", "&a;", "<", "\r\n", "-0", "0x10",
)

scalars = (
    st.none() | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([0, 1, -1, 2**31, 2**63, -(2**63), 10**30])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(HOSTILE_STRINGS) | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=10,
)


def json_paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a JSON document (the root is ``()``), depth first."""
    places = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            places += json_paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            places += json_paths(child, prefix + (index,))
    return places


def _replace(doc: Any, place: tuple, value: Any, delete: bool = False) -> Any:
    if not place:
        return value
    parent = doc
    for step in place[:-1]:
        parent = parent[step]
    if delete:
        del parent[place[-1]]
    else:
        parent[place[-1]] = value
    return doc


@st.composite
def json_mutation(draw: Callable, text: str) -> bytes:
    """``text`` (a JSON document) with one value replaced, removed or added, or the text damaged."""
    doc = json.loads(text)
    places = json_paths(doc)
    how = draw(st.sampled_from(["replace"] * 6 + ["delete", "add", "text"]))
    if how == "text":
        return draw(text_mutation(text))
    place = places[draw(st.integers(0, len(places) - 1))]
    if how == "delete" and place:
        doc = _replace(doc, place, None, delete=True)
    elif how == "add":
        containers = [p for p in places if isinstance(_get(doc, p), (dict, list))]
        target = _get(doc, containers[draw(st.integers(0, len(containers) - 1))])
        value = draw(json_values)
        if isinstance(target, dict):
            target[draw(st.sampled_from(["regions", "label", "bloodview", "x", "id", "size"]) | st.text(max_size=6))] = value
        else:
            target.insert(draw(st.integers(0, len(target))), value)
    else:
        doc = _replace(doc, place, draw(json_values))
    return json.dumps(doc).encode("utf-8")


def _get(doc: Any, place: tuple) -> Any:
    for step in place:
        doc = doc[step]
    return doc


@st.composite
def text_mutation(draw: Callable, text: str) -> bytes:
    """Text truncated, a span replaced by a hostile token or random bytes, a line dropped or doubled."""
    data = text.encode("utf-8")
    how = draw(st.sampled_from(["truncate", "splice", "bytes", "line", "token"]))
    if how == "truncate":
        return data[: draw(st.integers(0, max(0, len(data) - 1)))]
    if how == "line":
        lines = text.splitlines(keepends=True)
        index = draw(st.integers(0, len(lines) - 1))
        lines[index:index + 1] = [] if draw(st.booleans()) else [lines[index]] * 2
        return "".join(lines).encode("utf-8")
    if how == "token":
        return _token_swap(draw, text)
    start = draw(st.integers(0, len(data)))
    end = min(len(data), start + draw(st.integers(0, 12)))
    if how == "bytes":
        insert = draw(st.binary(min_size=1, max_size=8))
    else:
        insert = draw(st.sampled_from(HOSTILE_TOKENS) | st.text(max_size=8)).encode("utf-8", "surrogatepass")
    return data[:start] + insert + data[end:]


def _token_swap(draw: Callable, text: str) -> bytes:
    """One whitespace-separated token (a number, a name, an XML value) replaced by another."""
    tokens = [m.span() for m in re.finditer(r"[^\s<>]+", text)]
    if not tokens:
        return text.encode("utf-8")
    start, end = tokens[draw(st.integers(0, len(tokens) - 1))]
    value = draw(st.sampled_from(HOSTILE_STRINGS + ("nan", "inf", "-inf", "1e999", "-5", "3.5", "100", "1" * 40))
                 | st.text(max_size=8))
    return (text[:start] + value + text[end:]).encode("utf-8", "surrogatepass")


@st.composite
def xml_mutation(draw: Callable, text: str) -> bytes:
    """An element's text replaced by any text, an element removed or doubled, or the text damaged."""
    how = draw(st.sampled_from(["value"] * 4 + ["remove", "double", "text"]))
    if how == "text":
        return draw(text_mutation(text))
    root = ET.fromstring(text)
    parents = [(parent, child) for parent in root.iter() for child in parent]
    parent, child = parents[draw(st.integers(0, len(parents) - 1))]
    if how == "value":
        child.text = draw(st.sampled_from(HOSTILE_STRINGS + ("nan", "inf", "-inf", "1e999", "-5", "0.5"))
                          | st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=8))
    elif how == "remove":
        parent.remove(child)
    else:
        parent.insert(list(parent).index(child), copy.deepcopy(child))
    return ET.tostring(root, encoding="utf-8")


@st.composite
def png_mutation(draw: Callable, data: bytes) -> bytes:
    """A mask PNG truncated, its bytes damaged, or replaced by another image (wrong size, 16-bit, RGBA, text)."""
    how = draw(st.sampled_from(["truncate", "bytes", "image", "text"]))
    if how == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))]
    if how == "bytes":
        start = draw(st.integers(0, len(data) - 1))
        return data[:start] + draw(st.binary(min_size=1, max_size=16)) + data[start + 16:]
    if how == "text":
        return draw(st.sampled_from([b"", b"not a png", b"\x89PNG\r\n\x1a\n"]))
    mode = draw(st.sampled_from(["L", "I;16", "RGBA", "1", "P"]))
    size = draw(st.sampled_from([(64, 48), (48, 64), (1, 1), (65, 48)]))
    array = np.asarray(random.Random(draw(st.integers(0, 1000))).choices([0, 255], k=size[0] * size[1]))
    image = Image.fromarray(array.reshape(size[1], size[0]).astype(np.uint8)).convert(mode)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def mutation(case: Case, original: bytes) -> st.SearchStrategy[bytes]:
    """The strategy of damaged versions of ``case.target`` (whose valid bytes are ``original``)."""
    if case.kind == "png":
        return png_mutation(original)
    text = original.decode("utf-8")
    if case.kind == "json":
        return json_mutation(text)
    if case.kind == "xml":
        return xml_mutation(text)
    return text_mutation(text)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` and its bytes (to prove a read changed nothing)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
