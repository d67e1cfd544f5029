"""Retraining as a process, proved with FAKE trainer scripts (no TensorFlow).

Each fake prints the `--progress jsonl` lines of notes/MODEL_CONTRACT.md, or
crashes, or hangs, so progress, ETA, crash and cancel handling are tested in
well under a second each; the real trainer is tested in test_retrain_real.py.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from bloodview.gui.workers.train_process import TrainProcess, TrainRequest

pytestmark = pytest.mark.gui

GOOD = """
import json, sys, time, argparse
from pathlib import Path
p = argparse.ArgumentParser(); p.add_argument("cmd")
for a in ("--data", "--images", "--backbone", "--epochs", "--out", "--progress", "--steps-per-epoch", "--init"):
    p.add_argument(a)
args = p.parse_args()
E = int(args.epochs)
def say(**o): print(json.dumps(o), flush=True)
print("a stray library line", flush=True)
print("INFO loading data", file=sys.stderr, flush=True)
say(event="start", epochs=E, steps=2, backbone=args.backbone, model_dir=args.out)
for e in range(1, E + 1):
    for s in (1, 2):
        say(event="step", epoch=e, epochs=E, step=s, steps=2, losses={"loss": 3.0 / (e + s)}, eta_s=5)
    say(event="epoch", epoch=e, epochs=E, losses={"loss": 2.0 / e}, val_losses={"loss": 2.5 / e}, eta_s=0)
out = Path(args.out); out.mkdir(parents=True)
sys.path.insert(0, %(repo)r)
from bloodview.model.store import ModelInfo, write_model_info
write_model_info(ModelInfo(name=out.name, backbone=args.backbone, class_names=["neutrophil"], config={},
                           final_losses={"loss": 0.4}, date="2026-11-25"), out)
say(event="done", model_dir=str(out), final_losses={"loss": 0.4})
"""

CRASH = """
import json, os
print(json.dumps({"event": "start", "epochs": 2, "steps": 2}), flush=True)
print(json.dumps({"event": "step", "epoch": 1, "epochs": 2, "step": 1, "steps": 2, "losses": {"loss": 1}}), flush=True)
os.abort()
"""

ERROR = """
import json, sys
print("Traceback: ResourceExhaustedError OOM when allocating tensor", file=sys.stderr)
print(json.dumps({"event": "error", "message": "out of memory while allocating a tensor"}), flush=True)
sys.exit(3)
"""

HANG = """
import json, time
print(json.dumps({"event": "start", "epochs": 100, "steps": 2}), flush=True)
time.sleep(60)
"""

REPO = str(Path(__file__).resolve().parents[2])


def fake(tmp_path: Path, body: str) -> list[str]:
    script = tmp_path / "fake_trainer.py"
    script.write_text(textwrap.dedent(body % {"repo": REPO} if "%(repo)" in body else body))
    return [sys.executable, str(script)]


def run_to_end(qtbot, process: TrainProcess, args: list[str], timeout=20000):
    events = []
    process.progressEvent.connect(events.append)
    with qtbot.waitSignal(process.finished, timeout=timeout) as finished:
        process.start(args)
    return events, finished.args[0]


def request(tmp_path: Path, epochs=2) -> TrainRequest:
    return TrainRequest(tmp_path / "train.json", tmp_path, "resnet50", tmp_path / "store" / "m1", epochs,
                        steps_per_epoch=2)


def test_progress_lines_arrive_and_success_names_the_model(qtbot, tmp_path):
    process = TrainProcess(command=fake(tmp_path, GOOD))
    logs = []
    process.logLine.connect(logs.append)
    events, outcome = run_to_end(qtbot, process, request(tmp_path).args())
    assert [e.event for e in events] == ["start"] + ["step", "step", "epoch"] * 2 + ["done"]
    assert events[3].fraction == pytest.approx(0.5) and events[-2].val_losses == {"loss": 1.25}
    assert outcome.ok and Path(outcome.model_dir) == tmp_path / "store" / "m1"
    assert "a stray library line" in logs and "INFO loading data" in logs


def test_crash_is_reported_not_raised(qtbot, tmp_path):
    process = TrainProcess(command=fake(tmp_path, CRASH))
    events, outcome = run_to_end(qtbot, process, ["train"])
    assert len(events) == 2 and not outcome.ok and not outcome.cancelled
    assert "crashed" in outcome.message or "failed" in outcome.message


def test_error_line_and_exit_code_explain_the_failure(qtbot, tmp_path):
    process = TrainProcess(command=fake(tmp_path, ERROR))
    _events, outcome = run_to_end(qtbot, process, ["train"])
    assert not outcome.ok and outcome.exit_code == 3
    assert "out of memory while allocating a tensor" in outcome.message


def test_cancel_stops_a_running_trainer(qtbot, tmp_path):
    process = TrainProcess(command=fake(tmp_path, HANG))
    events = []
    process.progressEvent.connect(events.append)
    process.start(["train"])
    qtbot.waitUntil(lambda: bool(events), timeout=10000)
    with qtbot.waitSignal(process.finished, timeout=10000) as finished:
        process.cancel()
    assert finished.args[0].cancelled and not process.is_running()


def test_missing_program_is_reported(qtbot, tmp_path):
    process = TrainProcess(command=[str(tmp_path / "no-such-python")])
    with qtbot.waitSignal(process.finished, timeout=5000) as finished:
        process.start(["train"])
    assert not finished.args[0].ok and "could not be started" in finished.args[0].message


def test_request_arguments_follow_the_cli_contract(tmp_path):
    args = TrainRequest(Path("/d/train.json"), Path("/img"), "vgg19", Path("/s/new"), 5,
                        steps_per_epoch=10, init_model=Path("/s/old")).args()
    assert args[:1] == ["train"]
    pairs = dict(zip(args[1::2], args[2::2]))
    assert pairs == {"--data": "/d/train.json", "--images": "/img", "--backbone": "vgg19", "--epochs": "5",
                     "--out": "/s/new", "--progress": "jsonl", "--steps-per-epoch": "10", "--init": "/s/old"}


def test_the_adapt_request_leaves_the_schedule_to_the_trainer():
    args = TrainRequest(Path("/d/train.json"), Path("/img"), None, Path("/s/new"), None,
                        init_model=Path("/s/old")).args()
    assert "--epochs" not in args and "--steps-per-epoch" not in args and "--backbone" not in args
    pairs = dict(zip(args[1::2], args[2::2]))
    assert pairs == {"--data": "/d/train.json", "--images": "/img", "--out": "/s/new", "--progress": "jsonl",
                     "--init": "/s/old"}


CHECKPOINTING = """
import json, os, sys, time, argparse
from pathlib import Path
p = argparse.ArgumentParser(); p.add_argument("cmd")
for a in ("--data", "--images", "--backbone", "--epochs", "--out", "--progress", "--steps-per-epoch", "--init"):
    p.add_argument(a)
p.add_argument("--no-resume-hint", action="store_true")
args = p.parse_args()
Path(args.out).parent.mkdir(parents=True, exist_ok=True)
Path(args.out + ".args.json").write_text(json.dumps(vars(args)))
out = Path(args.out); (out / "checkpoints").mkdir(parents=True)
(out / "checkpoints" / "last.weights.h5").write_bytes(b"w" * 2_000_000)  # what train writes from epoch 1
print(json.dumps({"event": "start", "epochs": 10, "steps": 2}), flush=True)
print("Traceback: ResourceExhaustedError while allocating", file=sys.stderr, flush=True)
if %(how)r == "crash":
    os.abort()
time.sleep(60)
"""


def checkpointing(tmp_path: Path, how: str) -> list[str]:
    return fake(tmp_path, CHECKPOINTING % {"how": how})


def test_a_cancelled_run_leaves_no_checkpoints_in_the_model_store(qtbot, tmp_path):
    """Before, each cancelled retrain left its --out folder (tens of MB of checkpoints, no model.json):
    unlisted, so the person never saw it, but on the disk for good."""
    process = TrainProcess(command=checkpointing(tmp_path, "hang"))
    req = request(tmp_path)
    events = []
    process.progressEvent.connect(events.append)
    process.start(req.args(), out=req.out)
    qtbot.waitUntil(lambda: bool(events), timeout=10000)
    assert (req.out / "checkpoints" / "last.weights.h5").is_file()
    with qtbot.waitSignal(process.finished, timeout=10000) as finished:
        process.cancel()
    outcome = finished.args[0]
    assert outcome.cancelled and not req.out.exists()
    assert "Training was cancelled" in outcome.message and "(2 MB) were removed" in outcome.message
    # so the trainer's stop message does not send the person to --resume a folder that is gone
    assert json.loads(Path(f"{req.out}.args.json").read_text())["no_resume_hint"] is True


def test_a_crashed_run_is_removed_and_its_cause_kept(qtbot, tmp_path):
    process = TrainProcess(command=checkpointing(tmp_path, "crash"))
    req = request(tmp_path)
    with qtbot.waitSignal(process.finished, timeout=20000) as finished:
        process.start(req.args(), out=req.out)
    outcome = finished.args[0]
    assert not outcome.ok and not outcome.cancelled and not req.out.exists()
    assert "crashed" in outcome.message and "ResourceExhaustedError" in outcome.message  # why it ended
    assert "were removed" in outcome.message


def test_a_folder_there_before_the_run_or_holding_a_model_is_never_removed(qtbot, tmp_path):
    from bloodview.gui.workers.run_folder import MODEL_JSON, RunFolder
    from bloodview.model.store import MODEL_JSON as STORE_MODEL_JSON

    assert MODEL_JSON == STORE_MODEL_JSON
    mine = tmp_path / "store" / "m1"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("the person's own file")
    process = TrainProcess(command=checkpointing(tmp_path, "crash"))
    with qtbot.waitSignal(process.finished, timeout=20000) as finished:
        process.start(request(tmp_path).args(), out=mine)  # (train refuses such a folder; say it did not)
    assert (mine / "notes.txt").is_file() and "removed" not in finished.args[0].message
    assert json.loads(Path(f"{mine}.args.json").read_text())["no_resume_hint"] is False  # kept: resumable

    finished_model = tmp_path / "store" / "m2"
    run = RunFolder.claim(finished_model)
    finished_model.mkdir()
    (finished_model / MODEL_JSON).write_text("{}")
    assert run.discard_unfinished() == "" and finished_model.is_dir()
