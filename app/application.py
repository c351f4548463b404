"""Creating the QApplication and the main window; the headless report mode of ``dyadlab gui``."""

from __future__ import annotations

import sys
from pathlib import Path

from dyadlab.core.errors import DyadLabError


def run_app(project_dir: Path | None, *, annotator: str | None = None, headless: bool = False,
            screenshot: Path | None = None) -> int:
    from dyadlab.app.main_window import MainWindow
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("DyadLab")
    app.setOrganizationName("DyadLab")
    window = MainWindow()
    try:
        if project_dir is not None:
            window.open_project(project_dir, annotator=annotator)
    except DyadLabError as exc:
        if headless:
            print(f"dyadlab gui: error: {exc}", file=sys.stderr)
            return 1
        QMessageBox.critical(window, "Cannot open project", str(exc))
    window.resize(1400, 900)
    window.show()
    if screenshot is not None or headless:
        app.processEvents()
        if screenshot is not None:
            window.grab().save(str(screenshot))
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
