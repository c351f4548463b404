"""Creating the QApplication and the main window; the headless report mode of ``dyadlab gui``.

The window is shown *before* the project is opened (pyqtgraph, the media engine and the database
load afterwards), so it appears well within the 2 s start-up budget; ``bench/startup.py`` measures
that with ``DYADLAB_STARTUP_PROBE=1``, which prints the time the window was first painted and exits.
With no display the window is built offscreen, the project summary is written to
``PROJECT/report.md`` and the process exits 0. Uncaught exceptions in the event loop are logged and
shown, never fatal (``errors.install_excepthook``). A screenshot run is unattended: without
``--annotator`` it works as the annotator last chosen on this machine, or fails at once saying so —
it never waits on the annotator dialog.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from dyadlab.core.errors import DyadLabError

PROBE_ENV = "DYADLAB_STARTUP_PROBE"


def _report_first_paint(app, window) -> int:
    """Print when the window has been painted (for bench/startup.py) and exit."""
    from PySide6.QtCore import QEventLoop

    app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)
    window.repaint()  # synchronous: the window's pixels exist when this returns
    print(f"window-shown {time.time():.6f}", flush=True)
    window.close()
    return 0


def run_app(project_dir: Path | None, *, annotator: str | None = None, headless: bool = False,
            screenshot: Path | None = None) -> int:
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from dyadlab.app import theme
    from dyadlab.app.errors import install_excepthook, reporter
    from dyadlab.app.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("DyadLab")
    app.setOrganizationName("DyadLab")
    theme.apply(str(QSettings().value("theme", "dark")), app)
    install_excepthook()
    if screenshot is not None and project_dir is not None and annotator is None and not headless:
        from dyadlab.app.dialogs.annotator_dialog import LAST_KEY

        annotator = str(QSettings().value(LAST_KEY) or "") or None
        if annotator is None:
            print("dyadlab gui: error: --screenshot without --annotator: no annotator was chosen on this machine "
                  "before (pass --annotator NAME)", file=sys.stderr)
            return 2
    window = MainWindow()
    window.resize(1600, 960)
    window.show()
    if os.environ.get(PROBE_ENV):
        return _report_first_paint(app, window)
    app.processEvents()
    if headless:
        reporter.show_dialogs = False
    if project_dir is not None and not headless and Path(project_dir).is_file():
        # the desktop entry's ``dyadlab gui %f``: a file (a recording, or a project's database) is
        # handled once the event loop runs, since a recording is answered with a question
        QTimer.singleShot(0, lambda: window.file_actions.open_given(Path(project_dir)))
        project_dir = None
    try:
        if project_dir is not None:
            window.open_project(project_dir, annotator=annotator or ("viewer" if headless else None),
                                read_only=headless and annotator is None)
    except DyadLabError as exc:
        if headless:
            print(f"dyadlab gui: error: {exc}", file=sys.stderr)
            return 1
        QMessageBox.critical(window, "Cannot open project", str(exc))
    if screenshot is not None or headless:
        app.processEvents()
        if screenshot is not None:
            from dyadlab.app.screenshot import save_window

            save_window(window, screenshot)
            print(f"screenshot written to {screenshot}")
        if headless and window.project is not None:
            from dyadlab.core.summary import project_summary

            text = project_summary(window.project)
            report = window.project.root / "report.md"
            report.write_text(text + "\n", encoding="utf-8")
            print(text)
            print(f"\n(headless: window built offscreen; report written to {report})")
        window.close()
        return 0
    return app.exec()
