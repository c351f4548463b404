"""DyadLab core: everything that is not a widget.

Usable from a notebook, the ``dyadlab`` command line and the GUI alike. Nothing in here imports
``PySide6.QtWidgets``; heavy libraries (torch, mediapipe, opensmile) are imported lazily inside the
functions that need them so that ``import dyadlab.core`` stays fast.
"""

from dyadlab.core.errors import DyadLabError
from dyadlab.core.project import Project, create_project, open_project

__all__ = ["DyadLabError", "Project", "create_project", "open_project"]
__version__ = "0.1.0"
