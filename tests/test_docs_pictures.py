"""The pictures in the user documentation exist and come from the real program.

Fast: reads the Markdown files and the screenshot script's source; runs no model.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
SCRIPT = DOCS / "make_screenshots.py"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")
# ![alt](target "title") and [text](target), and <img src="target">
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
IMG_TAG = re.compile(r"<img\b[^>]*\bsrc=[\"']([^\"']+)[\"']", re.IGNORECASE)
# pictures in docs/images made by another real command, named where it is documented
OTHER_PRODUCERS = {"bootstrap_montage.png": DOCS / "bootstrap.md", "adaptation_curve.png": DOCS / "adaptation.md",
                   "adaptation_curve_no_rehearsal.png": DOCS / "adaptation.md",
                   "adaptation_curve_rehearsal.png": DOCS / "adaptation.md",
                   "adaptation_curve_last_layer.png": DOCS / "adaptation.md",
                   "adaptation_curve_classes_only.png": DOCS / "adaptation.md",
                   "bccd_platelet_boxes.png": DOCS / "model-card.md"}


def markdown_files() -> list[Path]:
    return [REPO / "README.md", *sorted(DOCS.rglob("*.md"))]


def image_references(markdown: Path) -> list[tuple[str, Path]]:
    text = markdown.read_text(encoding="utf-8")
    found = []
    for target in LINK.findall(text) + IMG_TAG.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # http:, https:, mailto:
            continue
        path = target.split("#", 1)[0].split("?", 1)[0]
        if path.lower().endswith(IMAGE_SUFFIXES):
            found.append((target, (markdown.parent / path).resolve()))
    return found


def test_the_link_parser_sees_images_and_links():
    text = '![a](images/x.png) [b](model-card/y.png "t") <img src="z.svg"> [c](https://e.org/w.png) [d](f.md)'
    targets = [t for t in LINK.findall(text) + IMG_TAG.findall(text)]
    assert targets == ["images/x.png", "model-card/y.png", "https://e.org/w.png", "f.md", "z.svg"]


def test_references_resolve_from_the_markdown_files_folder(tmp_path):
    (tmp_path / "docs" / "images").mkdir(parents=True)
    (tmp_path / "docs" / "images" / "here.png").write_bytes(b"png")
    page = tmp_path / "docs" / "page.md"
    page.write_text("![a](images/here.png)\n![b](images/gone.png)\n[site](https://x.org/y.png)\n")
    found = {target: path.is_file() for target, path in image_references(page)}
    assert found == {"images/here.png": True, "images/gone.png": False}


def test_every_image_the_documentation_shows_exists():
    references = [(md, target, path) for md in markdown_files() for target, path in image_references(md)]
    assert len(references) >= 8, "the README and docs show pictures; the parser found too few"
    missing = [f"{md.relative_to(REPO)}: {target}" for md, target, path in references if not path.is_file()]
    assert not missing, "documentation shows pictures that do not exist:\n" + "\n".join(missing)


def script_tree() -> ast.Module:
    return ast.parse(SCRIPT.read_text(encoding="utf-8"), filename=str(SCRIPT))


def test_screenshot_script_has_no_stand_in_predictor():
    tree = script_tree()
    names = [node.name for node in ast.walk(tree)
             if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
    invented = [name for name in names if re.search(r"demo|fake|dummy|mock|stub", name, re.IGNORECASE)]
    assert not invented, f"docs/make_screenshots.py defines stand-ins: {invented}"
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "bloodview.model.predict" in imported, "the script must load the real predictor"
    windows = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
               and getattr(node.func, "id", getattr(node.func, "attr", None)) == "MainWindow"]
    assert windows, "the script must open the real main window"
    for call in windows:
        keywords = {k.arg for k in call.keywords}
        assert "predictor_factory" not in keywords, "the window must detect with its own (real) model loader"


def test_screenshot_script_feeds_the_retrain_dialog_no_invented_progress():
    tree = script_tree()
    called = {getattr(node.func, "attr", getattr(node.func, "id", None))
              for node in ast.walk(tree) if isinstance(node, ast.Call)}
    assert "_on_event" not in called and "parse_progress_line" not in called, \
        "the retrain picture must come from the training process's own progress"
    assert "click" in called, "the retrain must be started from the dialog's button"


def test_screenshot_script_defaults_to_the_shipped_model():
    from bloodview.model.store import default_model_dir, is_model_dir

    spec = importlib.util.spec_from_file_location("make_screenshots", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.build_parser().parse_args([]).model
    assert model == default_model_dir()
    if not is_model_dir(model):
        pytest.skip(f"no shipped model in {model}")
    assert any(model.glob("*.h5")) or any(model.glob("*.keras")), f"{model} has no weights"


def test_every_picture_in_docs_images_has_a_known_real_producer():
    tree = script_tree()
    written = {node.value for node in ast.walk(tree)
               if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.endswith(".png")}
    for name, doc in OTHER_PRODUCERS.items():
        assert f"--montage docs/images/{name}" in doc.read_text(encoding="utf-8") or \
            f"--png docs/images/{name}" in doc.read_text(encoding="utf-8") or \
            f"--plot docs/images/{name}" in doc.read_text(encoding="utf-8"), f"{doc} no longer says how {name} is made"
    unknown = [p.name for p in sorted((DOCS / "images").glob("*.png"))
               if p.name not in written and p.name not in OTHER_PRODUCERS]
    assert not unknown, f"pictures in docs/images made by no known command: {unknown}"
