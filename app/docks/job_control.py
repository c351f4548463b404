"""How the main window gets its background-job parts: keeping every list of models current when the registry
changes, the "Train model…" and "Analyse" actions (bound by ``action_table``), and stopping the polling on
close. The Jobs and Models docks themselves are rows of ``dock_table``.

Why one module: the window stays a thin shell (it only creates ``win.jobs``, the project's ``JobRunner``, when
a project opens) and the menus/action table only name these functions, so the job feature is added to the
window in a few lines and lives here, next to its panels.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

from dyadlab.app.docks.jobs_dock import JobsPanel
from dyadlab.app.docks.lazy_dock import built_panel
from dyadlab.app.errors import reporter

if TYPE_CHECKING:
    from dyadlab.app.context import AppContext
    from dyadlab.app.dialogs.train_dialog import TrainDialog
    from dyadlab.app.main_window import MainWindow


def registry_changed(owner: MainWindow | AppContext, but: QWidget | None = None) -> None:
    """The project's models changed: the Models panel, the Live panel's list, the Inspector's choice of
    model and the model boxes of Proposals and Next to label re-read them (a model trained from the GUI
    shows up when its job ends, not after a reopen). Panels not built yet read the registry when they are;
    ``but`` is the panel that made the change. ``owner`` is the window or the ``AppContext`` (both hold
    ``docks`` and ``bench``)."""
    for key, refresh in (("Models", "refresh"), ("Inspector", "refresh_choices"), ("Assist", "refresh_models"),
                         ("Queue", "refresh_models")):
        dock = owner.docks.get(key)
        panel = built_panel(dock) if dock is not None else None
        if panel is not None and panel is not but:
            getattr(panel, refresh)()
    live = getattr(getattr(owner, "bench", None), "live", None)
    if live is not None:
        live.refresh_models()


def jobs_panel(win: MainWindow) -> JobsPanel:
    return win.docks["Jobs"].widget()


def _show_job(win: MainWindow, job_id: int) -> None:
    panel = jobs_panel(win)
    panel.refresh()
    panel.select_job(job_id)
    win.docks["Jobs"].show()
    win.docks["Jobs"].raise_()
    reporter.notice(f"job #{job_id} queued; follow it in the Jobs panel")


def open_train_dialog(win: MainWindow) -> TrainDialog:
    """Show the (non-modal) Train dialog; a job it submits is selected in the Jobs panel."""
    from dyadlab.app.dialogs.train_dialog import TrainDialog

    dialog = TrainDialog(win.jobs, win)
    dialog.accepted.connect(lambda: _show_job(win, dialog.job.id) if dialog.job else None)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    win.train_dialog = dialog
    return dialog


def submit_analysis(win: MainWindow) -> int:
    """Queue ``dyadlab analyze PROJECT`` (faces and audio of every session; cached, so a rerun is quick)."""
    command = [sys.executable, "-m", "dyadlab.core.cli", "analyze", str(win.project.root.resolve()), "--quiet"]
    job = win.jobs.submit("analyze", command, {"what": ["faces", "audio"]})
    _show_job(win, job.id)
    return job.id


def follow_replacement(ctx: AppContext, old: int, new: int) -> int | None:
    """A retrained model ``new`` replaced ``old``: where the timeline shows ``old``'s curves, predict the
    open session with ``new`` (a low-priority ``dyadlab infer`` job) and, once its curves are there, show
    them in place of ``old``'s. Returns the job id (None: the timeline showed nothing of ``old``)."""
    timeline = ctx.bench.timeline
    session = ctx.workspace.session
    if session is None or not any(t.source.model_id == old for t in timeline.prediction_tracks):
        return None
    command = [sys.executable, "-m", "dyadlab.core.cli", "infer", str(ctx.workspace.project.root.resolve()),
               "--model", str(new), "--sessions", str(session.id), "--quiet"]
    job = ctx.jobs.submit("infer", command, {"model_id": new, "replaces": old, "session": session.id})
    panel = ctx.docks["Jobs"].widget()

    def ended(job_id: int, state: str) -> None:
        if job_id != job.id:
            return
        panel.job_finished.disconnect(ended)
        if state == "succeeded":
            timeline.replaced_models[old] = new  # per session: only where ``new`` has curves
            timeline.refresh_predictions()

    panel.job_finished.connect(ended)
    return job.id


def stop_jobs(win: MainWindow) -> None:
    """The project is closing: stop polling and let go of the runner; the jobs keep running."""
    if "Jobs" in win.docks:
        jobs_panel(win).stop()
    if win.jobs is not None:
        win.jobs.close()
