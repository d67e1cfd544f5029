"""What follows from the model chosen in the toolbar's selector, beyond Detect using it.

Three things a technician would otherwise not see go wrong:

* **A lost model is said, not swapped silently.** The model chosen last is remembered
  (QSettings ``model``; at the first start the model in use, though nobody chose it, so that
  a model added to the store later and listed before it does not take its place unseen).
  When its folder is gone (deleted, a share not mounted, another model store) the selector
  falls back to the store's first model. Detection would then count with another model
  than yesterday's without a word, so the fall-back is told in a message naming both. The
  setting is kept: the model is chosen again once its folder is back. The same holds when
  Model → Reload model list (or a finished retrain) finds the chosen model gone. A folder still
  there but left out of the list (its ``model.json`` written by a newer bloodview on another PC
  sharing the store, or damaged) is said with that reason, not as "deleted or moved". A folder
  renamed or moved within the store is no loss: the chosen model's name and date are remembered
  too (QSettings ``model_origin``), and the model listed with them is chosen again, said in the
  status bar. The shipped
  default is the exception: remembered by the folder of the install that wrote the setting, it
  is this install's default after the app was installed elsewhere (a new venv or version, a
  second checkout), without a word; nobody chose that copy, they chose "the default".
* **The Retrain dialog adapts the model in use.** The dialog is modeless and stays
  open after a retrain; the loop is retrain, switch to the new model, correct more,
  retrain. A dialog that kept the model it was opened with would adapt, and compare
  against, the older model under the words "Adapt the current model". So an idle
  dialog follows the selector (a running one keeps the model it started from, and
  follows once it ends). Likewise it trains on the images open now, when another folder or
  project was opened while it stood idle.
* **A newly chosen model loads in the background too**, as the first one does
  (:mod:`bloodview.gui.workers.warm_up`, once per model and session): switching to
  the new model and detecting again would otherwise pay TensorFlow's load on the
  first Detect. A model chosen while another warms up is warmed up after it.
* **Only the model in use stays in memory.** Each loaded model holds a hundred MB or more; the
  ones switched away from are let go (:mod:`bloodview.gui.workers.loaded_models`) once no
  detection run or warm-up is under way, never under a thread still using one. Choosing one of
  them again loads it again, in the background.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PyQt6.QtCore import QTimer

if TYPE_CHECKING:
    from bloodview.gui.model_actions import ModelActions

log = logging.getLogger(__name__)

MODEL_KEY = "model"  # QSettings: the folder of the model chosen last
ORIGIN_KEY = "model_origin"  # QSettings: that model's name@date, to find it again in a renamed folder


class ModelChoice:
    """Listens to the selector, the warm-up and the Retrain dialog of one :class:`ModelActions`."""

    def __init__(self, models: ModelActions, remembered: Path | None):
        self.models = models
        models.selector.currentIndexChanged.connect(self._chosen)
        models.warm.finished.connect(self._warmed)
        models.runner.finished.connect(lambda _cancelled: self._idle())  # after the run's own slot
        models.window.session.opened.connect(self._opened)
        now = models.model_dir()
        if remembered is None or models.index_of(remembered) >= 0:
            self._remember_origin()
        if remembered is not None and models.index_of(remembered) < 0:
            # after the window shows: a message box before it would come from nowhere
            QTimer.singleShot(0, lambda: self.lost(remembered))
        elif now is not None and now != remembered:
            # the first start's model is the one in use, chosen or not; another install's default is
            # remembered as this one's, so the setting names a folder that is there
            models.window.settings.setValue(MODEL_KEY, str(now))

    def lost(self, model_dir: Path) -> None:
        """Tell that ``model_dir``, chosen before, is not in the model store (any more); a model of the same
        name and date in another folder (the folder renamed or moved within the store) is chosen instead."""
        if self._found_elsewhere(model_dir):
            return
        now = self.models.model_dir()
        using = (f"Detection now uses {self.models.selector.currentText()} ({now})." if now is not None
                 else "No other model is installed.")
        log.warning("the chosen model %s is not in the model store; using %s", model_dir, now)
        window = self.models.window
        unreadable = _unreadable(model_dir)
        if unreadable is not None:  # there, but this bloodview cannot read it (a newer one wrote it, a bad copy)
            window.show_status(f"Model {model_dir.name} cannot be used; using {self.models.selector.currentText()}")
            window.prompts.info(window, "Model cannot be used",
                                f"The model chosen last, {model_dir.name}, cannot be used: {unreadable}\n\n{using}\n\n"
                                "Choose another in the Model selector; once the folder is fixed, Model → Reload "
                                "model list finds it again.")
            return
        window.show_status(f"Model {model_dir.name} not found; using {self.models.selector.currentText()}")
        window.prompts.info(window, "Model not found",
                            f"The model chosen last, {model_dir.name}, is not in the model store any more "
                            f"({model_dir}: deleted, moved, or on a drive that is not connected).\n\n{using}\n\n"
                            "Choose another in the Model selector; once the folder is back, Model → Reload "
                            "model list finds it again.")

    def _warmed(self, model_dir: str, _seconds: float, error: str) -> None:
        """The background load of a model ended. When the model in use failed to load (its weights
        half-copied, a newer bloodview's folder), the status bar says so now: the error was only
        logged, and the user learnt it at Detect."""
        now = self.models.model_dir()
        if error and now is not None and Path(model_dir) == now:
            self.models.window.show_status(
                f"Model {self.models.selector.currentText()} cannot be used: {error.split(': ', 1)[-1]}")
        self._idle()  # a model chosen meanwhile is next

    def follow(self) -> None:
        """An idle Retrain dialog adapts (and compares against) the model now chosen."""
        dialog = self.models.retrain_dialog
        if dialog is None or dialog.is_busy():
            return
        info = self.models._safe_info()
        dialog.set_current_model(self.models.model_dir(), info.backbone if info else None)

    def _opened(self) -> None:
        """Other images were opened: an idle Retrain dialog trains on them, not on the images it was opened
        with (a running one goes on with the set it wrote)."""
        dialog = self.models.retrain_dialog
        if dialog is None or dialog.is_busy():
            return
        window = self.models.window
        dialog.set_images(window.session.dataset, tuple(window.session.broken), self.models.training_folder(),
                          window.scale.project_pixel_size())

    def changed(self) -> None:
        """The model in use changed (chosen, or fallen back to when the chosen one went)."""
        self.follow()
        self._idle()

    def release_unused(self) -> list[str]:
        """Let go of the models not in use, unless a detection run or a warm-up (each holding the predictor
        it uses) is under way: then at its end. Returns the model folders let go."""
        from bloodview.gui.workers.loaded_models import release_all_but

        models = self.models
        if models.runner.is_running() or models.warm.is_running():
            return []
        gone = release_all_but(models.model_dir())
        for folder in gone:
            models.warm.forget(Path(folder))  # chosen again, it loads again in the background
        return gone

    def _idle(self) -> None:
        """Nothing may be using a predictor now, or the model changed: let go of the others, load the chosen."""
        self.release_unused()
        self.models.warm_up()

    def _chosen(self, _index: int) -> None:
        self._remember_origin()
        self.changed()

    def _remember_origin(self) -> None:
        info = self.models._safe_info()
        if info is not None:
            self.models.window.settings.setValue(ORIGIN_KEY, info.origin)

    def _found_elsewhere(self, model_dir: Path) -> bool:
        """Choose the listed model whose name@date is the one remembered with the gone ``model_dir``."""
        from bloodview.errors import BloodviewError
        from bloodview.model.store import read_model_info  # TF-free

        window = self.models.window
        origin = window.settings.value(ORIGIN_KEY)
        if not origin or model_dir.exists():
            return False
        selector = self.models.selector
        for index in range(selector.count()):
            folder = selector.itemData(index)
            try:
                if folder and read_model_info(Path(folder)).origin == str(origin):
                    break
            except BloodviewError:
                continue
        else:
            return False
        log.info("the chosen model %s is now in %s", model_dir, selector.itemData(index))
        if selector.currentIndex() == index:  # already the fall-back: no signal remembers it
            window.settings.setValue(MODEL_KEY, str(selector.itemData(index)))
            self.changed()
        else:
            selector.setCurrentIndex(index)  # remembered by its new folder from now on
        window.show_status(f"Model {selector.itemText(index)} found in its new folder {selector.itemData(index)}")
        return True


def _unreadable(model_dir: Path) -> str | None:
    """Why the folder ``model_dir``, still there, is left out of the model list (its ``model.json`` unreadable,
    or written by a newer bloodview); None when the folder is gone or reads fine."""
    from bloodview.errors import BloodviewError
    from bloodview.model.store import MODEL_JSON, read_model_info  # TF-free

    if not (model_dir / MODEL_JSON).exists():
        return None
    try:
        read_model_info(model_dir)
    except BloodviewError as exc:
        return str(exc)
    return None
