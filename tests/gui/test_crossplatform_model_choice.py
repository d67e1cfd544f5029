"""The shipped default model is recognised whatever letter case its remembered folder was written in.

Regression: the window remembers the chosen model by its folder, and recognises another install's
shipped default by the path's end, ``resources/models/default``. That match was case-sensitive,
but Windows and macOS are not: settings that name ``C:\\Program Files\\BloodView\\Resources\\Models\\Default``
(a path typed for ``$BLOODVIEW_DEFAULT_MODEL`` on a PC, or an installer's capitals) name the same
folder, and the window said "Model not found" and counted with another model.
"""

from __future__ import annotations

import pytest

from tests.gui.conftest import make_fake_model, new_window

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("remembered", [
    "C:\\Program Files\\BloodView\\Resources\\Models\\Default",
    "/Applications/BloodView.app/Contents/RESOURCES/models/DEFAULT",
])
def test_a_default_remembered_in_other_letter_case_is_this_installs_default(
        model_store, qtbot, tmp_path, monkeypatch, remembered):
    this_install = make_fake_model(tmp_path / "venv-1.4" / "resources" / "models", "default")
    monkeypatch.setenv("BLOODVIEW_DEFAULT_MODEL", str(this_install))
    (tmp_path / "settings.ini").write_text(f"[General]\nmodel={remembered.replace(chr(92), chr(92) * 2)}\n")
    window = new_window(qtbot, tmp_path)
    qtbot.wait(50)  # the "Model not found" message would come once the window shows
    assert window.settings.value("model") == str(this_install), "remembered as this install's default from now on"
    assert window.models.model_dir() == this_install and window.models.selector.currentText() == "default"
    assert not [m for m in window.prompts.messages if m[0] == "Model not found"]
