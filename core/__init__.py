"""DyadLab core: everything that is not a widget.

Usable from a notebook, the ``dyadlab`` command line and the GUI alike. Nothing in here imports
``PySide6.QtWidgets``; heavy libraries (torch, mediapipe, opensmile) are imported lazily inside the
functions that need them so that ``import dyadlab.core`` stays fast.
"""

from typing import TYPE_CHECKING

from dyadlab.core.errors import DyadLabError

if TYPE_CHECKING:
    from dyadlab.core.project import Project, create_project, open_project

_LAZY = {"Project", "create_project", "open_project"}


def __getattr__(name: str):
    """Load the project API (and with it SQLAlchemy) on first use, so that importing any
    ``dyadlab.core`` module — the CLI's ``--help``, the GUI before its window shows — stays fast."""
    if name in _LAZY:
        from dyadlab.core import project

        return getattr(project, name)
    raise AttributeError(f"module 'dyadlab.core' has no attribute {name!r}")


__all__ = ["DyadLabError", "Project", "create_project", "open_project"]
__version__ = "0.1.0"
