"""The ``bloodview`` command's own behaviour: version, help, errors for people."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest

from bloodview import __version__
from bloodview.cli import main as cli
from bloodview.errors import FormatError


def test_version_flag_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_no_arguments_and_a_bare_path_mean_gui():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    for name in ("gui", "info"):
        sub.add_parser(name)
    assert cli._default_to_gui(parser, []) == ["gui"]
    assert cli._default_to_gui(parser, ["smears/"]) == ["gui", "smears/"]
    assert cli._default_to_gui(parser, ["--debug", "a.jpg"]) == ["--debug", "gui", "a.jpg"]
    assert cli._default_to_gui(parser, ["info", "x"]) == ["info", "x"]


def test_user_errors_are_one_sentence_without_traceback(monkeypatch, capsys):
    def failing(args):
        raise FormatError("bad.json", "not valid JSON")

    def fake_parser():
        parser = argparse.ArgumentParser()
        parser.add_argument("--debug", action="store_true")
        sub = parser.add_subparsers()
        sub.add_parser("info").set_defaults(func=failing)
        return parser

    monkeypatch.setattr(cli, "build_parser", fake_parser)
    assert cli.main(["info"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "bloodview: error: bad.json: not valid JSON"
    with pytest.raises(FormatError):
        cli.main(["--debug", "info"])


def test_a_file_system_error_names_the_file_like_every_other_error(tmp_path, capsys):
    """Regression: 'bloodview: error: nodir/x.md No such file or directory' (no colon after the name)."""
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "report.json").write_text('{"classification": {}}')
    target = tmp_path / "nodir" / "x.md"
    assert cli.main(["evaluate", "--compare", str(tmp_path / "r"), "--out", str(target)]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == f"bloodview: error: {target}: No such file or directory"


def test_module_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "bloodview", "--version"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and __version__ in out.stdout


@pytest.mark.parametrize("debug", [False, True])
def test_the_app_keeps_tensorflows_runtime_warnings_off_the_terminal_unless_debugging(monkeypatch, debug):
    """The model loads on a worker thread (stderr cannot be filtered there): ~24 op_level_cost_estimator
    warnings per Detect reached the terminal the app was started from; --debug keeps them."""
    import bloodview.gui.app as app

    seen = {}
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    def fake_run(*args, **kwargs) -> int:
        seen["level"] = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
        return 0

    monkeypatch.setattr(app, "run", fake_run)
    assert cli.main((["--debug"] if debug else []) + ["gui", "--screenshot", "x.png"]) == 0
    assert seen["level"] == (None if debug else "3")
