"""A dock whose panel is built the first time it is shown or asked for.

Most docks sit in tab groups behind the one in front (Participants behind Project; the Inspector and
Agreement behind Live inference; Keypoints, Models and Assist behind theirs). Their panels are hundreds of
widgets between them; building and laying them out on every project open cost the window ~0.1 s before anyone
looked at them. A ``LazyDock`` holds
an empty placeholder until its tab is raised (``visibilityChanged``) or code asks for ``widget()``, then
builds the panel once. Only panels that do nothing while unseen may be lazy: the Jobs panel, for one,
drives the job runner and is built at once.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDockWidget, QWidget

from dyadlab.app import theme


class LazyDock(QDockWidget):
    def __init__(self, title: str, parent: QWidget, make: Callable[[], QWidget]) -> None:
        super().__init__(title, parent)
        self._make: Callable[[], QWidget] | None = make
        super().setWidget(QWidget())
        self.visibilityChanged.connect(self._visibility_changed)

    @property
    def built(self) -> bool:
        return self._make is None

    def _visibility_changed(self, visible: bool) -> None:
        # QMainWindow.restoreState shows tabbed docks for a moment while it rebuilds the tab groups: look
        # again once the events queued now have run, and build only if the dock is still on screen
        if visible and self._make is not None:
            QTimer.singleShot(0, self._build_if_shown)

    def _build_if_shown(self) -> None:
        if self.isVisible():
            self.widget()

    def widget(self) -> QWidget:
        """The panel (built now if it was not yet)."""
        if self._make is not None:
            make, self._make = self._make, None
            placeholder = super().widget()
            panel = make()
            theme.decorate(panel)  # the window's decorate() ran before this panel existed
            super().setWidget(panel)
            if placeholder is not None:
                placeholder.deleteLater()
        return super().widget()


def built_panel(dock: QDockWidget) -> QWidget | None:
    """The dock's panel if it exists (a plain dock's always does), without building a lazy one."""
    if isinstance(dock, LazyDock) and not dock.built:
        return None
    return dock.widget()
