"""Dark and light themes: one palette for Qt widgets and the colours the timeline and views paint with.

Annotators stare at this for hours, so the default is dark with muted track backgrounds and a few
saturated accents (playhead, selection, class colours from the scheme). Everything that paints asks
``current()`` for colours instead of hard-coding them, so switching theme is one call.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication


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


DARK = Theme("dark", window="#1e2127", base="#16181d", panel="#252932", text="#d7dae0", text_dim="#8a909c",
             accent="#4aa3ff", track="#20242b", track_alt="#1b1e24", track_readonly="#2a2325", grid="#2f343d",
             playhead="#ff5c5c", selection="#ffffff", waveform="#5fb3b3", trace="#ffd166", error="#ff6b6b",
             participants=("#4aa3ff", "#f0a04b", "#9ccc65", "#ba68c8", "#4dd0e1", "#e57373"))
LIGHT = Theme("light", window="#f3f4f6", base="#ffffff", panel="#e8eaee", text="#1f2328", text_dim="#5f6673",
              accent="#1f6feb", track="#fbfbfc", track_alt="#f1f3f5", track_readonly="#f6eeee", grid="#d8dce2",
              playhead="#d62828", selection="#000000", waveform="#2a7f7f", trace="#b7791f", error="#c62828",
              participants=("#1f6feb", "#d9822b", "#5b8c2a", "#8e44ad", "#00838f", "#c62828"))
THEMES = {t.name: t for t in (DARK, LIGHT)}
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
    app.setStyleSheet(f"""
        QToolBar {{ border: none; spacing: 4px; padding: 2px 6px; }}
        QDockWidget::title {{ padding: 4px 6px; background: {t.panel}; }}
        QStatusBar {{ color: {t.text_dim}; }}
        QLabel#TimeLabel {{ font-family: monospace; font-size: 13px; padding: 0 8px; }}
        QLabel#ErrorLabel {{ color: {t.error}; }}
        QToolButton:checked {{ background: {t.accent}; color: white; border-radius: 3px; }}
    """)
    return _current
