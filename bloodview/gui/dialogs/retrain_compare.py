"""The Retrain dialog's second half: after training, the current and the new model side by side.

Kept apart from :mod:`bloodview.gui.dialogs.retrain_dialog` (which sets a retrain up and runs the
trainer) because judging the result is its own job: score both models on the held-out images
(``bloodview evaluate`` processes, :class:`EvaluateQueue`), show them (:class:`ModelComparisonView`),
say when the current model had learnt from held-out images (:mod:`bloodview.gui.seen_images`), and
only then emit ``modelTrained`` with the verdict. A failed or refused comparison is said in words and
never withholds the model.
"""

from __future__ import annotations

from pathlib import Path

from bloodview.gui.comparison import MIN_HELD_OUT_CELLS, too_few_cells_text
from bloodview.gui.seen_images import coco_images, flattery_text, learnt_from
from bloodview.gui.workers.evaluate_process import CANCELLED, EvaluateJob



class BeforeAfter:
    """Mixed into :class:`RetrainDialog`, whose attributes it uses: ``training_set``, ``current_model``,
    ``pixel_size``, ``evaluations``, ``comparison``, ``eta``, the buttons and ``modelTrained``."""

    def _compare(self, model_dir: str) -> None:
        """Score the current and the new model on the held-out images, or say why not."""
        held = self.training_set
        cells = held.held_out_cells if held is not None else 0
        if held is None or held.held_out is None or cells < MIN_HELD_OUT_CELLS:
            self._offer(model_dir, too_few_cells_text(cells))
            return
        reports = held.coco.parent / "comparison"
        models = [("current", self.current_model), ("new", Path(model_dir))]
        jobs = [EvaluateJob(name, model, held.held_out, held.images_root, reports / name, self.pixel_size)
                for name, model in models if model is not None]
        self._comparing = (model_dir, reports)
        self.comparison.show_message(f"Comparing the models on the {held.held_out_images} held-out images "
                                     f"({cells} cells)…")
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel comparison")
        self.evaluations.start(jobs)

    def _on_evaluated(self, outcomes: list) -> None:
        model_dir, reports = self._comparing or ("", Path())
        self._comparing = None
        failed = [o for o in outcomes if not o.ok]
        if any(o.message == CANCELLED for o in failed):
            self._offer(model_dir, "The comparison was cancelled; judge the new model on your own images.")
            return
        if failed:
            why = "\n".join(f"{o.job.name} model: {o.message}" for o in failed)
            self._offer(model_dir, f"Could not compare the models; judge the new model on your own images.\n{why}")
            return
        from bloodview.errors import BloodviewError

        current = reports / "current" if self.current_model is not None else None
        try:
            comparison = self.comparison.show_reports(current, reports / "new")
        except BloodviewError as exc:
            self._offer(model_dir, f"Could not read the comparison ({exc}); judge the new model on your own images.")
            return
        verdict, seen = comparison.verdict, self._held_out_seen()
        if seen:  # the current model's figures come partly from its own training images
            verdict = f"{verdict}\n{flattery_text(seen, self.training_set.held_out_images)}"
            self.comparison.verdict.setText(verdict)
            self.comparison.fit_text()
        self.flattered = bool(seen)
        self._offer(model_dir, verdict, shown=True)

    def _held_out_seen(self) -> int:
        """How many held-out images the current model (or one it was adapted from) learnt from."""
        held = self.training_set
        if held is None or held.held_out is None or self.current_model is None:
            return 0
        return len(learnt_from(self.current_model, coco_images(held.held_out, held.images_root)))

    def _offer(self, model_dir: str, verdict: str, shown: bool = False) -> None:
        """The comparison is on screen (or refused): now the new model may be offered."""
        if not shown:
            self.comparison.show_message(verdict)
        self.verdict = verdict
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancel training")
        self.start_button.setEnabled(True)
        self.modelTrained.emit(model_dir, verdict)

    def _caution(self, model_dir: str | None) -> None:
        """Say under the result when the new model learnt from too little to be trusted."""
        from bloodview.errors import BloodviewError
        from bloodview.gui.model_actions import training_caution
        from bloodview.model.store import read_model_info

        try:
            caution = training_caution(read_model_info(Path(model_dir or "")).training)
        except BloodviewError as exc:
            caution = f"its model.json cannot be read ({exc})"
        if caution:
            self.eta.setText(f"{self.eta.text()}\nCaution: the new model {caution}")

