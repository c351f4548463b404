"""File menu and start page actions: new, open, open recent, the demo project, import, export, close.

Annotators are not command-line users, so everything ``dyadlab demo / import / import-labels / export /
infer --export`` does is here too, calling the same code: creating a project by importing into it runs
``core.project_setup.import_creating_project`` behind a progress dialog (no project is open yet, so no
Jobs panel); importing into or exporting from the open project is a job in the Jobs panel running the
CLI command itself, and the project is re-read when an import job ends. The actions live as long as the
window; ``fill`` puts them into the File menu each time the menu bar is rebuilt.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, QStandardPaths
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox

from dyadlab.app import recent_projects
from dyadlab.app.dialogs import choosers
from dyadlab.app.errors import reporter
from dyadlab.core.formats import CORPUS_FORMATS, EXPORT_FORMATS, LABEL_FORMATS

if TYPE_CHECKING:
    from dyadlab.app.dialogs.session_media_dialog import SessionMediaDialog
    from dyadlab.app.dialogs.task_progress import TaskProgress
    from dyadlab.app.main_window import MainWindow

DEMO_SESSIONS, DEMO_SECONDS = 2, 30.0  # small enough to build in well under a minute on a laptop
DEMO_FOLDER_KEY = "demo/folder"
CLI = [sys.executable, "-m", "dyadlab.core.cli"]
CORPUS_MENU = {"folder": "Media folder…", "iemocap": "IEMOCAP release…", "udiva": "UDIVA recordings…"}
LABEL_FILTER = "Label files (*.eaf *.TextGrid *.textgrid *.csv *.parquet *.pq);;All files (*)"


def demo_folder() -> Path:
    """Where the demo project lives (built there on first use)."""
    stored = QSettings().value(DEMO_FOLDER_KEY)
    if stored:
        return Path(str(stored))
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(base) / "demo-project"


def _is_recording(path: Path) -> bool:
    """A video or audio file of a kind the folder importer takes (what ``dyadlab gui FILE`` offers to import)."""
    from dyadlab.core.io.corpora.mediafiles import AUDIO_SUFFIXES, VIDEO_SUFFIXES

    return path.is_file() and path.suffix.lower() in (*VIDEO_SUFFIXES, *AUDIO_SUFFIXES)


class FileActions(QObject):
    """The window's File actions; enabled according to whether a project is open."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.task: TaskProgress | None = None
        self.media_dialog: SessionMediaDialog | None = None
        self.new = self._action("file.new", "&New project…", self.new_project, QKeySequence.StandardKey.New)
        self.open = self._action("file.open", "&Open project…", self.open_dialog, QKeySequence.StandardKey.Open)
        self.demo = self._action("file.demo", "Open the &demo project", self.open_demo)
        self.close = self._action("file.close", "&Close project", self.close_project, QKeySequence.StandardKey.Close)
        self.imports = {fmt: self._action(f"file.import.{fmt}", CORPUS_MENU.get(fmt, fmt),
                                          lambda fmt=fmt: self.import_corpus(fmt)) for fmt in CORPUS_FORMATS}
        self.import_labels = self._action("file.import.labels", "Labels (ELAN, TextGrid, CSV, Parquet)…",
                                          self.import_label_file)
        self.exports = {fmt: self._action(f"file.export.{fmt}", f"Labels as {LABEL_FORMATS[fmt].title}…",
                                          lambda fmt=fmt: self.export_labels(fmt)) for fmt in EXPORT_FORMATS}
        self.predictions = {(per, suffix): self._action(f"file.export.predictions.{per}.{suffix}",
                                                        f"Predictions per {per} as {suffix.upper()}…",
                                                        lambda per=per, suffix=suffix:
                                                        self.export_predictions(suffix, per))
                            for per in ("frame", "utterance") for suffix in ("csv", "parquet")}
        self.keypoints = self._action("file.export.keypoints", "Corrected keypoints (CSV, Parquet, COCO JSON)…",
                                      self.export_keypoints)
        self.session_media = self._action("file.session_media", "Session &media and sync…",
                                          self.open_session_media)
        self.analyze = self._action("file.analyze", "&Analyse sessions…", self.open_analyze)
        self.project_actions = [self.close, self.session_media, self.analyze, *self.imports.values(), self.import_labels, *self.exports.values(),
                                *self.predictions.values(), self.keypoints]
        self.update()

    def _action(self, name: str, text: str, slot, key: QKeySequence.StandardKey | None = None) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if key is not None:
            action.setShortcut(QKeySequence(key))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def update(self) -> None:
        for action in self.project_actions:
            action.setEnabled(self.win.project is not None)
        dialog = getattr(self, "media_dialog", None)
        if dialog is not None and dialog.ws is not self.win.ws:  # its project closed or was re-opened
            dialog.close()
            dialog.deleteLater()
            self.media_dialog = None

    # -- the menu ---------------------------------------------------------------------------------------

    def fill(self, menu: QMenu) -> None:
        """Put the actions at the top of ``menu`` (the File menu), before what it already holds."""
        first = menu.actions()[0] if menu.actions() else None
        recent = QMenu("Open &recent", menu)
        recent.setObjectName("file.recent")
        recent.aboutToShow.connect(lambda: self.fill_recent(recent))
        self.fill_recent(recent)
        imports = QMenu("&Import", menu)
        imports.setObjectName("file.import")
        imports.addActions(list(self.imports.values()))
        imports.addSeparator()
        imports.addAction(self.import_labels)
        exports = QMenu("&Export", menu)
        exports.setObjectName("file.export")
        exports.addActions(list(self.exports.values()))
        exports.addSeparator()
        exports.addActions(list(self.predictions.values()))
        exports.addSeparator()
        exports.addAction(self.keypoints)
        for item in (self.new, self.open, recent.menuAction(), self.demo, None, imports.menuAction(),
                     exports.menuAction(), None, self.session_media, None, self.close, None):
            if item is None:
                menu.insertSeparator(first) if first is not None else menu.addSeparator()
            elif first is not None:
                menu.insertAction(first, item)
            else:
                menu.addAction(item)
        imports.setEnabled(self.win.project is not None)
        exports.setEnabled(self.win.project is not None)

    def fill_recent(self, menu: QMenu) -> None:
        """One item per remembered project; one that cannot be opened is greyed and says why."""
        menu.clear()
        entries = recent_projects.recent_projects()
        for entry in entries:
            text = entry.label if entry.problem is None else f"{entry.label}  ({entry.problem})"
            action = menu.addAction(text)
            action.setData(str(entry.root))
            action.setEnabled(entry.problem is None)
            action.triggered.connect(lambda _c=False, root=entry.root: self.open_project(root))
        if not entries:
            menu.addAction("No recent projects").setEnabled(False)

    # -- opening and closing ----------------------------------------------------------------------------

    def open_project(self, root: Path) -> None:
        problem = recent_projects.problem_of(Path(root))
        if problem is not None:
            QMessageBox.warning(self.win, "Open project", f"Cannot open {root}: {problem}.")
            return
        try:
            self.win.open_project(Path(root))
        except Exception as exc:  # noqa: BLE001 - shown to the user; the window stays usable
            reporter.report(exc, "Open project")

    def open_dialog(self) -> None:
        folder = choosers.choose_folder(self.win, "Open a DyadLab project folder")
        if folder:
            self.open_project(Path(folder))

    def close_project(self) -> None:
        self.win.close_project()

    def open_given(self, path: Path) -> None:
        """What the desktop entry hands over (``dyadlab gui %f``): a project folder or its database file
        opens; a recording offers a new project made from the recordings in its folder."""
        from dyadlab.core.project import DB_NAME

        path = Path(path)
        if path.is_file() and path.name == DB_NAME:
            path = path.parent
        if _is_recording(path):
            self.offer_import(path)
            return
        self.open_project(path)

    def offer_import(self, recording: Path) -> None:
        """``recording`` is not a project: offer File ▸ New project… filled in to import its folder."""
        folder = recording.parent
        others = [f for f in folder.iterdir() if _is_recording(f)]
        box = QMessageBox(QMessageBox.Icon.Question, "Open a recording",
                          f"{recording.name} is a recording, not a DyadLab project.\n\nCreate a project that "
                          f"imports the {len(others)} recording{'s' if len(others) != 1 else ''} in {folder} "
                          f"(one session; each file names a participant)?", parent=self.win)
        box.setObjectName("OfferImportBox")
        create = box.addButton("New project…", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is create:
            self.new_project(media=folder, root=folder.with_name(f"{folder.name}-dyadlab"))

    def new_project(self, media: Path | None = None, root: Path | None = None) -> None:
        from dyadlab.app.dialogs.new_project_dialog import NewProjectDialog

        dialog = NewProjectDialog(self.win)
        if media is not None:
            dialog.media.setText(str(media))
        if root is not None:
            dialog.folder.setText(str(root))
        if dialog.exec() != NewProjectDialog.DialogCode.Accepted:
            return
        root, source, fmt = dialog.root(), dialog.media_source(), dialog.media_format()
        if source is None:
            from dyadlab.core.project import create_project

            try:
                create_project(root).close()
            except Exception as exc:  # noqa: BLE001
                reporter.report(exc, "New project")
                return
            self.open_project(root)
            return
        self._create_by_import(root, source, fmt, skip_bad=False)

    def _create_by_import(self, root: Path, source: Path, fmt: str, *, skip_bad: bool) -> None:
        """Create ``root`` by importing ``source``; when only some files are bad, offer to import the rest."""
        from dyadlab.core.project_setup import bad_files, import_creating_project

        def failed(exc: BaseException) -> None:
            bad = bad_files(exc) if fmt == "folder" and not skip_bad else []
            if not bad:
                QMessageBox.critical(self.win, "New project", str(exc))
                return
            box = QMessageBox(QMessageBox.Icon.Warning, "New project", str(exc), parent=self.win)
            box.setObjectName("BadFilesBox")
            rest = box.addButton(f"Import the rest (skip {len(bad)} file{'s' if len(bad) != 1 else ''})",
                                 QMessageBox.ButtonRole.AcceptRole)
            box.addButton(QMessageBox.StandardButton.Cancel)
            box.exec()
            if box.clickedButton() is rest:
                self._create_by_import(root, source, fmt, skip_bad=True)

        def done(report) -> None:
            if report.warnings:
                QMessageBox.information(self.win, "New project", str(report))
            self.open_project(root)

        from dyadlab.app.dialogs.task_progress import TaskProgress

        self.task = TaskProgress(f"Creating {root.name} from {source.name}",
                                 lambda progress: import_creating_project(fmt, root, source, progress=progress,
                                                                          skip_bad=skip_bad),
                                 done, failed, self.win,
                                 cancelled=lambda: reporter.notice(f"New project: cancelled, {root} not created"))

    def open_demo(self) -> None:
        from dyadlab.core.project_setup import is_project

        root = demo_folder()
        if is_project(root):
            self.open_project(root)
            return

        def build(progress) -> None:
            from dyadlab.core.demo import generate_demo

            existed = root.exists()
            try:
                generate_demo(root, sessions=DEMO_SESSIONS, seconds=DEMO_SECONDS, progress=progress).close()
            except BaseException:  # cancelled or failed: a half-built demo must not look like a project
                if not existed:
                    shutil.rmtree(root, ignore_errors=True)
                raise

        self._run_task("Building the demo project (first time only)", build, lambda _r: self.open_project(root),
                       "Demo project")

    def _run_task(self, title: str, work, then, failure_title: str) -> None:
        from dyadlab.app.dialogs.task_progress import TaskProgress

        def failed(exc: BaseException) -> None:
            QMessageBox.critical(self.win, failure_title, str(exc))

        self.task = TaskProgress(title, work, then, failed, self.win,
                                 cancelled=lambda: reporter.notice(f"{failure_title}: cancelled"))

    def open_session_media(self):
        """The session media dialog of the shown session (non-modal; one at a time)."""
        from dyadlab.app.dialogs.session_media_dialog import SessionMediaDialog

        win = self.win
        if win.ws is None or win.ws.session is None:
            reporter.notice("open a session first")
            return None
        if self.media_dialog is not None:
            self.media_dialog.close()
            self.media_dialog.deleteLater()
        self.media_dialog = SessionMediaDialog(win.ws, win.open_session, win)
        self.media_dialog.show()
        return self.media_dialog

    def open_analyze(self) -> int | None:
        """The Analyse dialog; OK queues ``dyadlab analyze`` with its choices as a job."""
        from dyadlab.app.dialogs.analyze_dialog import AnalyzeDialog

        dialog = AnalyzeDialog(self.win.project, self.win)
        if dialog.exec() != AnalyzeDialog.DialogCode.Accepted:
            return None
        job_id = self._submit("analyze", dialog.arguments(), reload=False)
        self._recheck_analysis_when_done(job_id)
        return job_id

    def _recheck_analysis_when_done(self, job_id: int) -> None:
        """When the analysis job ends, the project panel checks the shown sessions' analysis again."""
        from dyadlab.app.docks.job_control import jobs_panel
        from dyadlab.app.docks.project_dock import ProjectBrowser

        def ended(done_id: int, _state: str) -> None:
            browser = self.win.findChild(ProjectBrowser)
            if done_id == job_id and browser is not None:
                browser.check_analysis()
            if done_id == job_id and self.win.bench is not None:
                self.win.bench.keypoints.reload_predictions()  # pose and hands may be new: the predicted layer

        jobs_panel(self.win).job_finished.connect(ended)

    # -- jobs on the open project -----------------------------------------------------------------------

    def _submit(self, kind: str, args: list[str], reload: bool) -> int:
        from dyadlab.app.docks.job_control import jobs_panel

        win = self.win
        job = win.jobs.submit(kind, [*CLI, *args], {"from": "file menu"})
        panel = jobs_panel(win)
        if reload:
            root, job_id = win.project.root, job.id

            def finished(done_id: int, state: str) -> None:
                if done_id != job_id:
                    return
                if state == "succeeded":
                    self.win.open_project(root, annotator=self.win.annotator)
                else:
                    QMessageBox.warning(self.win, "Import failed",
                                        f"Nothing was imported.\n\n{self.win.jobs.log_tail(job_id, 30)}")

            panel.job_finished.connect(finished)
        panel.refresh()
        panel.select_job(job.id)
        win.docks["Jobs"].show()
        win.docks["Jobs"].raise_()
        reporter.notice(f"job #{job.id} queued; follow it in the Jobs panel")
        return job.id

    def import_corpus(self, fmt: str) -> int | None:
        source = choosers.choose_folder(self.win, f"Import {CORPUS_MENU.get(fmt, fmt).rstrip('…')}")
        if not source:
            return None
        return self._submit("import", ["import", fmt, source, str(self.win.project.root.resolve()), "--quiet"],
                            reload=True)

    def import_label_file(self) -> int | None:
        """Pick a file; an ELAN/Praat file with free tier names or unknown labels goes through the mapping
        step (``TierMappingDialog``) first; the import then runs as a job (Cancel: nothing happens)."""
        from dyadlab.app.dialogs.tier_mapping_dialog import ask_label_mapping

        path = choosers.choose_file(self.win, "Import labels", LABEL_FILTER)
        if not path:
            return None
        ws = self.win.ws
        options = ask_label_mapping(self.win, self.win.project, Path(path), annotator=self.win.annotator,
                                    session=ws.session.name if ws is not None and ws.session is not None else None)
        if options is None:
            return None
        return self._submit("import-labels", ["import-labels", str(self.win.project.root.resolve()), path, *options],
                            reload=True)

    def export_labels(self, fmt: str) -> int | None:
        out = choosers.choose_folder(self.win, f"Export labels as {LABEL_FORMATS[fmt].title} into")
        if not out:
            return None
        return self._submit("export", ["export", str(self.win.project.root.resolve()), "-f", fmt, "-o", out],
                            reload=False)

    def export_predictions(self, suffix: str, per: str = "frame") -> int | None:
        """Pick a model and a file; a job runs ``dyadlab infer --export FILE --per frame|utterance`` (which
        computes what the cache lacks first)."""
        with self.win.project.store.transaction() as tx:
            models = tx.models.list()
        if not models:
            QMessageBox.information(self.win, "Export predictions", "This project has no models yet: train or "
                                    "register one (Jobs ▸ Train model…) first.")
            return None
        names = [f"{m.id}: {m.name}" for m in models]
        name, ok = QInputDialog.getItem(self.win, "Export predictions", "Model", names, 0, False)
        if not ok:
            return None
        model_id = models[names.index(name)].id
        out = choosers.choose_save_file(self.win, f"Export predictions per {per}", f"{suffix.upper()} (*.{suffix})")
        if not out:
            return None
        if Path(out).suffix.lower() != f".{suffix}":
            out = f"{out}.{suffix}"
        return self._submit("export", ["infer", str(self.win.project.root.resolve()), "--model", str(model_id),
                                       "--export", out, "--per", per, "--quiet"], reload=False)

    def export_keypoints(self) -> int | None:
        """Name a file (.csv, .parquet or .json for COCO); a job runs ``dyadlab export-keypoints``."""
        out = choosers.choose_save_file(self.win, "Export corrected keypoints",
                                        "CSV (*.csv);;Parquet (*.parquet);;COCO keypoints JSON (*.json)")
        if not out:
            return None
        if Path(out).suffix.lower() not in (".csv", ".parquet", ".json"):
            out = f"{out}.csv"
        return self._submit("export", ["export-keypoints", str(self.win.project.root.resolve()), out], reload=False)
