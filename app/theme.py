"""Dark and light themes: one palette for Qt widgets and the colours the timeline and views paint with.

Annotators stare at this for hours, so the default is dark with muted track backgrounds and a few
saturated accents (playhead, selection, class colours from the scheme). Everything that paints asks
``current()`` for colours instead of hard-coding them, so switching theme is one call (``apply``, then
``decorate`` for the window's few accented widgets).

No application-wide style sheet: with one, Qt polishes, sizes and paints *every* widget through
``QStyleSheetStyle``, and opening the 100-session bench project (bench/large_project.py) took ~0.3 s
longer. The palette carries the colours; ``decorate`` gives the toolbars their small style sheet (it
reaches only their buttons) and sets the status bar's, the time label's and error labels' looks directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QStatusBar, QToolBar, QToolButton, QWidget


@dataclass(frozen=True)
class Theme:
    name: str
    window: str
    base: str
    panel: str
    text: str
    text_dim: str
    accent: str
    track: str
    track_alt: str
    track_readonly: str
    grid: str
    playhead: str
    selection: str
    waveform: str
    trace: str
    error: str
    participants: tuple[str, ...]
    indicator: str = ""  # the Window colour Fusion darkens into check/radio box outlines ("": the window's)


DARK = Theme("dark", window="#1e2127", base="#16181d", panel="#252932", text="#d7dae0", text_dim="#8a909c",
             accent="#4aa3ff", track="#20242b", track_alt="#1b1e24", track_readonly="#2a2325", grid="#2f343d",
             playhead="#ff5c5c", selection="#ffffff", waveform="#5fb3b3", trace="#ffd166", error="#ff6b6b",
             participants=("#4aa3ff", "#f0a04b", "#9ccc65", "#ba68c8", "#4dd0e1", "#e57373"), indicator="#6f7684")
LIGHT = Theme("light", window="#f3f4f6", base="#ffffff", panel="#e8eaee", text="#1f2328", text_dim="#5f6673",
              accent="#1f6feb", track="#fbfbfc", track_alt="#f1f3f5", track_readonly="#f6eeee", grid="#d8dce2",
              playhead="#d62828", selection="#000000", waveform="#2a7f7f", trace="#b7791f", error="#c62828",
              participants=("#1f6feb", "#d9822b", "#5b8c2a", "#8e44ad", "#00838f", "#c62828"))
THEMES = {t.name: t for t in (DARK, LIGHT)}
CHECKED_SHEET = "QToolButton:checked {{ background: {accent}; color: white; border-radius: 3px; }}"
TOOLBAR_SHEET = "QToolBar {{ border: none; spacing: 4px; padding: 2px 6px; }}\n" + CHECKED_SHEET
TIME_LABEL = "TimeLabel"  # object names decorate() looks for
ERROR_LABEL = "ErrorLabel"
# Fusion draws a check box's (and a list item's check box's, a radio button's) outline in the palette's Window
# colour darkened by 140 and fills it with Base: in the dark theme both are near black, so an unchecked box is
# invisible ("Tick the models to run" over a list with no boxes to tick). These classes get a palette whose
# Window is lighter — a class palette costs nothing when painting, unlike a style sheet or a Python style.
# Only list views: every check list is one; a table's Window also fills its corners and draws its grid.
INDICATOR_CLASSES = ("QCheckBox", "QRadioButton", "QListView")
_current: Theme = DARK


def current() -> Theme:
    return _current


def participant_color(index: int) -> str:
    return _current.participants[index % len(_current.participants)]


def apply(name: str, app: QApplication | None = None) -> Theme:
    """Switch the application palette (Fusion style) and the painting colours to theme ``name``."""
    global _current
    _current = THEMES.get(name, DARK)
    app = app or QApplication.instance()
    if app is None:
        return _current
    t = _current
    app.setStyle("Fusion")
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: t.window, QPalette.ColorRole.WindowText: t.text,
        QPalette.ColorRole.Base: t.base, QPalette.ColorRole.AlternateBase: t.panel,
        QPalette.ColorRole.Text: t.text, QPalette.ColorRole.Button: t.panel,
        QPalette.ColorRole.ButtonText: t.text, QPalette.ColorRole.Highlight: t.accent,
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: t.panel,
        QPalette.ColorRole.ToolTipText: t.text, QPalette.ColorRole.PlaceholderText: t.text_dim,
        QPalette.ColorRole.Link: t.accent,
    }
    for role, color in roles.items():
        pal.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(t.text_dim))
    app.setPalette(pal)
    indicators = QPalette(pal)
    indicators.setColor(QPalette.ColorRole.Window, QColor(t.indicator or t.window))
    for class_name in INDICATOR_CLASSES:
        app.setPalette(indicators, class_name)
    return _current


def _set_color(widget: QWidget, role: QPalette.ColorRole, color: str) -> None:
    palette = widget.palette()
    palette.setColor(role, QColor(color))
    widget.setPalette(palette)


def decorate(root: QWidget) -> None:
    """Give the current theme's accents to the widgets under ``root`` that have them: toolbars (spacing,
    padding, checked buttons in the accent colour), other checkable tool buttons, the status bar (dim text),
    the transport's time label (monospace) and error labels. Call it after building those widgets and after
    ``apply`` switched the theme."""
    t = _current
    for bar in root.findChildren(QToolBar):
        bar.setStyleSheet(TOOLBAR_SHEET.format(accent=t.accent))
    for button in root.findChildren(QToolButton):
        if button.isCheckable() and not isinstance(button.parentWidget(), QToolBar):
            button.setStyleSheet(CHECKED_SHEET.format(accent=t.accent))
    for bar in root.findChildren(QStatusBar):
        _set_color(bar, QPalette.ColorRole.WindowText, t.text_dim)
    for label in root.findChildren(QLabel, TIME_LABEL):
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPixelSize(13)
        label.setFont(font)
        label.setContentsMargins(8, 0, 8, 0)
    for label in root.findChildren(QLabel, ERROR_LABEL):
        _set_color(label, QPalette.ColorRole.WindowText, t.error)
