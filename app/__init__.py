"""DyadLab's Qt front end: the workstation window, its views, docks and undo commands.

Everything here is presentation and wiring; annotation rules live in ``dyadlab.core.edits`` and the
media engine in ``dyadlab.core.media``. Start with ``application.run_app`` and ``main_window``.
"""

from dyadlab.app import import_costs as _import_costs

_import_costs.install()
