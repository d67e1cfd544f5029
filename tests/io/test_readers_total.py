"""Every reader is total over bad input: it reads the file or says, naming the file, why not.

Each reader gets its own valid file (written by bloodview, plus the shapes other
tools write) and Hypothesis damages it: any value at any place replaced by any
JSON value (strings, huge integers, NaN, lists, objects, null), keys removed or
added, the text truncated or spliced with hostile bytes, XML/YOLO/CSV tokens
swapped, mask PNGs truncated or swapped for other images. The read must either
succeed or raise a :class:`BloodviewError` whose message names the damaged file;
any other exception is a bug. Nothing on disk may change.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bloodview.cli.main import main
from bloodview.errors import BloodviewError
from tests.io.bad_inputs import build_cases, mutation, snapshot

READERS = ("coco", "coco-results", "via", "makesense-vgg", "makesense-coco", "labelme", "voc", "yolo",
           "yolo-names", "mask-png", "mask-csv", "project", "project-image")
EXAMPLES = 60


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return build_cases(tmp_path_factory.mktemp("bad_inputs"))


def test_valid_inputs_read(cases):
    """The undamaged inputs all read (else the damage tests would prove nothing)."""
    for name in READERS:
        dataset = cases[name].read()
        assert sum(len(image.instances) for image in dataset.images) > 0, name


@pytest.mark.parametrize("reader", READERS)
def test_reader_reads_or_names_the_file(cases, reader):
    case = cases[reader]
    original = case.target.read_bytes()
    folder = case.home
    logging.getLogger("bloodview").setLevel(logging.ERROR)  # clipped-outline warnings are expected

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(damaged=mutation(case, original))
    def check(damaged: bytes) -> None:
        case.target.write_bytes(damaged)
        before = snapshot(folder)
        try:
            case.read()
        except BloodviewError as exc:
            assert case.target.name in str(exc) or case.target.parent.name in str(exc), str(exc)
        finally:
            assert snapshot(folder) == before, "reading changed files on disk"
            case.target.write_bytes(original)

    try:
        check()
    finally:
        logging.getLogger("bloodview").setLevel(logging.NOTSET)
        case.target.write_bytes(original)


@settings(max_examples=40, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(data=st.data(), reader=st.sampled_from(["coco", "coco-results", "via", "labelme", "voc", "yolo",
                                               "project-image"]))
def test_convert_refuses_damaged_files_without_a_traceback(tmp_path, cases, data, reader):
    """Through the real ``bloodview convert``: exit 0 with a file written, or exit 1 and one error line."""
    case = cases[reader]
    original = case.target.read_bytes()
    damaged = data.draw(mutation(case, original))
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    case.target.write_bytes(damaged)
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            code = main(case.convert_args(out / "out.json"))
    finally:
        case.target.write_bytes(original)
    if code == 0:
        assert (out / "out.json").exists()
    else:
        assert code == 1
        assert stderr.getvalue().startswith("bloodview: error: "), stderr.getvalue()
        assert "Traceback" not in stderr.getvalue()


@pytest.mark.parametrize("key, value", [("images", 5), ("settings", [1])])
def test_project_file_with_wrong_container_types_is_refused(tmp_path, key, value):
    cases = build_cases(tmp_path / "c")
    case = cases["project"]
    data = json.loads(case.target.read_text(encoding="utf-8"))
    data[key] = value
    case.target.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(BloodviewError, match="project.json"):
        case.read()


@pytest.mark.parametrize("field", ["shape_attributes", "region_attributes"])
@pytest.mark.parametrize("value", ["polygon", 3, float("nan"), [1, 2], True])
def test_via_region_attributes_that_are_not_objects_are_refused(cases, field, value):
    """The issue's tracebacks: a VIA region whose shape or region attributes are not an object."""
    case = cases["makesense-vgg"]
    original = case.target.read_bytes()
    data = json.loads(original)
    data["a.png"]["regions"]["1"][field] = value
    case.target.write_text(json.dumps(data), encoding="utf-8")
    try:
        with pytest.raises(BloodviewError, match=rf"vgg\.json: a\.png region 1: '{field}' must be an object"):
            case.read()
    finally:
        case.target.write_bytes(original)


@pytest.mark.parametrize("category_id", [{"id": 1}, [7]])
def test_evaluate_refuses_detections_with_unhashable_category_ids(cases, tmp_path, capsys, category_id):
    """Found by benchmarks/bad_inputs.py: ``bloodview evaluate`` crashed on a category id that is an object."""
    case = cases["coco-results"]
    original = case.target.read_bytes()
    # as other tools write results: classes by id only (a detection's category_name, which we write, wins)
    data = [{k: v for k, v in entry.items() if k != "category_name"} for entry in json.loads(original)]
    data[0]["category_id"] = category_id
    case.target.write_text(json.dumps(data), encoding="utf-8")
    try:
        assert main(case.convert_args(tmp_path / "report")) == 1
    finally:
        case.target.write_bytes(original)
    err = capsys.readouterr().err
    assert err.startswith("bloodview: error: ") and "results.json" in err and "Traceback" not in err


def test_project_cell_without_outlines_is_refused(cases):
    """Found by benchmarks/bad_inputs.py: a cell with ``"polygons": []`` read, then crashed the writer."""
    case = cases["project-image"]
    original = case.target.read_bytes()
    data = json.loads(original)
    data["instances"][0]["polygons"] = []
    case.target.write_text(json.dumps(data), encoding="utf-8")
    try:
        with pytest.raises(BloodviewError, match=rf"{case.target.name}: a 'neutrophil' cell has no outline"):
            case.read()
    finally:
        case.target.write_bytes(original)
