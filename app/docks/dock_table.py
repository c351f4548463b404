"""Every dock of the main window in one table, arranged by one loop.

Each row says what the dock is (key, title), how its panel is made from the ``AppContext``, which group it
belongs to, whether it is built lazily (``LazyDock``) and what it connects once it exists. The groups are
the window's calm default arrangement, chosen so that no tab title is elided at 1600×1000:

- **project** (left): Project browser | Participants | Jobs
- **annotate** (right, top): the Label palette alone, then Rating | Keypoints | Agreement
- **models** (right, bottom): Live | Inspector | Proposals, then Next to label | Models

Within a group, a row with ``tab=False`` starts a new stack (placed under the previous one in its area) and
rows with ``tab=True`` become tabs behind it. The dock keys are the names the rest of the app, the layout
memory and the tests use; changing a title does not change a key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

from dyadlab.app.context import AppContext
from dyadlab.app.docks.lazy_dock import LazyDock, built_panel
from dyadlab.app.layout_tools import settle_layout

LEFT, RIGHT = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
GROUP_AREAS: dict[str, Qt.DockWidgetArea] = {"project": LEFT, "annotate": RIGHT, "models": RIGHT}


@dataclass(frozen=True)
class DockSpec:
    key: str
    title: str
    factory: Callable[[AppContext], QWidget]
    group: str
    tab: bool = True  # a tab behind the group's current stack (False: a new stack under the previous one)
    lazy: bool = True  # built when first shown or asked for; False for panels that work while unseen, and
    # for the front dock of a stack (shown at once: there is nothing to save)
    connect: Callable[[AppContext, QDockWidget], None] | None = None  # wiring that needs the dock itself


# -- factories and their wiring (each reads only the context) ------------------------------------------

def _project(ctx: AppContext) -> QWidget:
    from dyadlab.app.docks.project_dock import ProjectBrowser

    browser = ProjectBrowser(ctx.workspace)
    browser.open_session.connect(ctx.open_session)
    return browser


def _participants(ctx: AppContext) -> QWidget:
    from dyadlab.app.docks.participant_dock import ParticipantPanel

    return ParticipantPanel(ctx.workspace)


def _jobs(ctx: AppContext) -> QWidget:
    from dyadlab.app.docks.job_control import registry_changed
    from dyadlab.app.docks.jobs_dock import JobsPanel

    panel = JobsPanel(ctx.jobs)
    panel.job_finished.connect(lambda _job_id, _state: registry_changed(ctx))  # a trained model appears
    return panel


def _palette(ctx: AppContext) -> QWidget:
    from dyadlab.app.docks.palette_dock import PalettePanel

    return PalettePanel(ctx.workspace)


def _rating(ctx: AppContext) -> QWidget:
    from dyadlab.app.docks.rating_dock import RatingPanel

    return RatingPanel(ctx.workspace, ctx.bench.rater)


def _keypoints(ctx: AppContext) -> QWidget:
    from dyadlab.app.docks.keypoint_dock import KeypointPanel

    panel = KeypointPanel(ctx.bench.keypoints, ctx.bench.focused_view)
    panel.bind(ctx.keymap.actions)
    return panel


def _follow_keypoints(ctx: AppContext, dock: QDockWidget) -> None:
    def sync(_t: int = 0) -> None:  # editing off, a panel on screen still names the frame shown, but not mid-play
        panel = built_panel(dock)
        if panel is not None and (ctx.bench.keypoints.enabled
                                  or (not dock.visibleRegion().isEmpty() and not ctx.playback.playing)):
            panel.sync()

    editor, was_on = ctx.bench.keypoints, [ctx.bench.keypoints.enabled]

    def raise_when_turned_on() -> None:  # K (or the menu) brings the point list to the front, once per turn-on
        if editor.enabled and not was_on[0]:
            ctx.show_dock("Keypoints")
        was_on[0] = editor.enabled

    ctx.playback.time_changed.connect(sync)
    ctx.playback.state_changed.connect(sync)  # paused: where playing stopped
    dock.visibilityChanged.connect(lambda shown: shown and sync())  # its tab brought to the front again
    editor.changed.connect(raise_when_turned_on)


def _agreement(ctx: AppContext) -> QWidget:
    from dyadlab.app.docks.agreement_dock import AgreementPanel

    return AgreementPanel(ctx.workspace)


def _live(ctx: AppContext) -> QWidget:
    from dyadlab.app.docks.live_dock import LivePanel

    panel = LivePanel(ctx.bench.live)
    ctx.bench.live.refresh_models()
    return panel


def _inspector(ctx: AppContext) -> QWidget:
    from dyadlab.app.docks.inspector_dock import InspectorPanel

    return InspectorPanel(ctx.workspace, ctx.jump_to)


def _bind_inspector(ctx: AppContext, dock: QDockWidget) -> None:
    ctx.keymap.bind("inspect.next", lambda: dock.widget().step(1))  # a key press builds a lazy panel too
    ctx.keymap.bind("inspect.previous", lambda: dock.widget().step(-1))


def _assist(ctx: AppContext) -> QWidget:
    from dyadlab.app.docks.assist_dock import AssistPanel

    return AssistPanel(ctx.workspace, ctx.playback.seek, ctx.keymap.key_text)


def _bind_assist(ctx: AppContext, dock: QDockWidget) -> None:
    ctx.keymap.bind("assist.accept", lambda: dock.widget().accept())
    ctx.keymap.bind("assist.edit", lambda: dock.widget().accept(select=True))
    ctx.keymap.bind("assist.reject", lambda: dock.widget().reject())


def _queue(ctx: AppContext) -> QWidget:
    from dyadlab.app.docks.queue_dock import QueuePanel

    panel = QueuePanel(ctx.workspace, ctx.playback.seek, ctx.keymap.key_text, jobs=ctx.jobs)
    panel.model_replaced.connect(lambda old, new: _swap_live_model(ctx, old, new))
    return panel


def _swap_live_model(ctx: AppContext, old: int, new: int) -> None:
    """A retrained model replaces the old one in the live overlays and on the timeline (where shown)."""
    from dyadlab.app.docks.job_control import follow_replacement, registry_changed

    registry_changed(ctx)
    live = ctx.bench.live
    if old in live.selected:
        live.set_selected([new if m == old else m for m in live.selected])
    follow_replacement(ctx, old, new)


def _bind_queue(ctx: AppContext, dock: QDockWidget) -> None:
    ctx.keymap.bind("queue.jump", lambda: dock.widget().jump())
    ctx.keymap.bind("queue.accept", lambda: dock.widget().accept())
    ctx.keymap.bind("queue.skip", lambda: dock.widget().skip())

    def ended(job_id: int, _state: str) -> None:
        panel = built_panel(dock)
        if panel is not None:
            panel.job_ended(job_id)

    ctx.docks["Jobs"].widget().job_finished.connect(ended)


def _models(ctx: AppContext) -> QWidget:
    from dyadlab.app.docks.job_control import registry_changed
    from dyadlab.app.docks.models_dock import ModelsPanel

    panel = ModelsPanel(ctx.workspace.project)
    panel.changed.connect(lambda: registry_changed(ctx, but=panel))  # renamed, added, deleted: every list follows
    return panel


DOCKS: tuple[DockSpec, ...] = (
    DockSpec("Project", "Project", _project, "project", tab=False, lazy=False),
    DockSpec("Participants", "Participants", _participants, "project"),
    DockSpec("Jobs", "Jobs", _jobs, "project", lazy=False),  # drives the job runner while unseen
    DockSpec("Palette", "Label palette", _palette, "annotate", tab=False, lazy=False),
    DockSpec("Rating", "Rating", _rating, "annotate", tab=False, lazy=False),
    DockSpec("Keypoints", "Keypoints", _keypoints, "annotate", connect=_follow_keypoints),
    DockSpec("Agreement", "Agreement", _agreement, "annotate"),
    DockSpec("Live", "Live", _live, "models", tab=False, lazy=False),
    DockSpec("Inspector", "Inspector", _inspector, "models", connect=_bind_inspector),
    DockSpec("Assist", "Proposals", _assist, "models", connect=_bind_assist),
    DockSpec("Queue", "Next to label", _queue, "models", tab=False, lazy=False, connect=_bind_queue),
    DockSpec("Models", "Models", _models, "models"),
)
SPEC_BY_KEY = {spec.key: spec for spec in DOCKS}


def _make_dock(window: QMainWindow, spec: DockSpec, ctx: AppContext) -> QDockWidget:
    if spec.lazy:
        dock: QDockWidget = LazyDock(spec.title, window, lambda: spec.factory(ctx))
    else:
        dock = QDockWidget(spec.title, window)
        dock.setWidget(spec.factory(ctx))
    dock.setObjectName(f"{spec.key}Dock")
    return dock


def _place(window: QMainWindow, docks: dict[str, QDockWidget]) -> None:
    """Dock every panel in its group: a new stack under the previous one, or a tab behind its group's stack."""
    stacks: dict[str, QDockWidget] = {}  # group -> its current stack's front dock
    for spec in DOCKS:
        dock = docks[spec.key]
        if spec.tab and spec.group in stacks:
            window.tabifyDockWidget(stacks[spec.group], dock)
        else:
            window.addDockWidget(GROUP_AREAS[spec.group], dock, Qt.Orientation.Vertical)
            stacks[spec.group] = dock
    _raise_fronts(docks)


def _raise_fronts(docks: dict[str, QDockWidget]) -> None:
    """The first tab of every stack in front."""
    for spec in DOCKS:
        if not spec.tab:
            docks[spec.key].raise_()


def build_docks(window: QMainWindow, ctx: AppContext) -> dict[str, QDockWidget]:
    """Create every dock of ``DOCKS`` in its group; returns them by key (also kept in ``ctx.docks``)."""
    ctx.docks.clear()
    for spec in DOCKS:
        ctx.docks[spec.key] = _make_dock(window, spec, ctx)
    _place(window, ctx.docks)
    for spec in DOCKS:
        if spec.connect is not None:
            spec.connect(ctx, ctx.docks[spec.key])
    return ctx.docks


def size_docks(window: QMainWindow, docks: dict[str, QDockWidget]) -> None:
    """Default proportions (used until the user's own layout is remembered, and by View > Reset layout)."""
    width, height = window.width(), window.height()
    window.resizeDocks([docks["Project"], docks["Palette"]], [int(width * 0.2), int(width * 0.21)],
                       Qt.Orientation.Horizontal)
    window.resizeDocks([docks["Palette"], docks["Rating"], docks["Live"]],
                       [int(height * 0.17), int(height * 0.4), int(height * 0.43)], Qt.Orientation.Vertical)


def reset_layout(window: QMainWindow, docks: dict[str, QDockWidget]) -> None:
    """Put every dock back where the table says, shown, in front of its group, at the default proportions."""
    for dock in docks.values():
        dock.setFloating(False)
        window.removeDockWidget(dock)
    _place(window, docks)
    for dock in docks.values():
        dock.show()
    _raise_fronts(docks)
    settle_layout()  # the proportions are computed from the re-docked areas' real sizes
    size_docks(window, docks)
