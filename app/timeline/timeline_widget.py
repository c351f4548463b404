"""The timeline: a time ruler, then per participant its waveform and label tiers, then predictions.

It is told the time (``set_time``) and asks to change it (``seek_requested``); it never plays.
All tracks share one x range (linked to the ruler), so wheel zoom and drag pan on any track move
them all, and each track draws its line of the one playhead. While the playhead runs off the
visible range the view pages along with it. Rows are rebuilt when the session or the shown
annotator changes, and a single tier redraws when the workspace says its segments changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QScrollArea, QVBoxLayout, QWidget

from dyadlab.app import theme
from dyadlab.app.layout_tools import clear_layout
from dyadlab.app.spectrograms import SpectrogramLoader
from dyadlab.app.timeline.audio_display import remember_display, remembered_display
from dyadlab.app.timeline.segments_item import SegmentStyle
from dyadlab.app.timeline.spectrogram_layer import ParticipantTiles
from dyadlab.app.timeline.tier_track import TierTrack
from dyadlab.app.timeline.time_axis import TimeAxis
from dyadlab.app.timeline.trace_overlay import TraceOverlay
from dyadlab.app.timeline.track import RulerTrack, Track
from dyadlab.app.timeline.waveform_track import BOTH, WAVEFORM, EnvelopeSource, WaveformTrack
from dyadlab.app.workspace import Workspace
from dyadlab.core import model
from dyadlab.core.edits.traces import find_trace_series, read_trace

if TYPE_CHECKING:
    from dyadlab.app.timeline.prediction_track import CurveSource

DEFAULT_SPAN_S = 20.0


class TimelineWidget(QWidget):
    seek_requested = Signal(int)  # µs

    def __init__(self, ws: Workspace, *, snap: Callable[[int], int]) -> None:
        super().__init__()
        self.ws, self.snap = ws, snap
        self.tier_tracks: dict[int, TierTrack] = {}
        self.waveforms: dict[int, WaveformTrack] = {}
        # what each participant's waveform shows (pyramid or error), kept across rebuilds of the rows
        self._wave_sources: dict[int, tuple[EnvelopeSource | None, str | None]] = {}
        self.spectrograms = SpectrogramLoader()  # tiles computed off the GUI thread, kept across rebuilds
        self.spectrograms.tiles_arrived.connect(self._spectrogram_arrived)
        self.spectrograms.failed.connect(self._spectrogram_arrived)
        self.overlays: dict[int, TraceOverlay] = {}  # tier id -> overlay
        self._series_tier: dict[int, int] = {}
        self.prediction_tracks: list = []  # PredictionTrack, imported with the prediction area
        self.replaced_models: dict[int, int] = {}  # old -> retrained model (job_control.follow_replacement)
        self.live_curves = None  # LiveCurveFeed: live results extending the curves while playing
        self._inputs = None  # core InputProvider: participants' frame times for the curves
        self._no_predictions: Track | None = None  # the "no model run yet" row, while there is no curve
        self._session_id: int | None = None  # the session the rows were built for
        self.follow = True
        self._t_s = 0.0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.ruler = RulerTrack(TimeAxis())
        self.ruler.vb.clicked.connect(self._seek_seconds)
        layout.addWidget(self.ruler)
        self.rows = QWidget()
        self.rows_layout = QVBoxLayout(self.rows)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.rows_layout.setSpacing(0)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.rows)
        layout.addWidget(self.scroll, 1)
        self.tracks: list[Track] = [self.ruler]
        self.ruler.vb.sigXRangeChanged.connect(self._follow_ruler)
        self.scroll.verticalScrollBar().valueChanged.connect(self._follow_ruler)
        # the viewport grew or shrank (split dragged, window resized, a dock closed): rows may come into view
        self.scroll.verticalScrollBar().rangeChanged.connect(self._follow_ruler)
        ws.session_opened.connect(self.rebuild)
        ws.tiers_changed.connect(self._tiers_changed)
        ws.segments_changed.connect(self._segments_changed)
        ws.selection_changed.connect(self._refresh_all)
        ws.series_changed.connect(self._series_changed)

    # -- building ----------------------------------------------------------------------------------

    def _follow_ruler(self, *_args) -> None:
        """Tracks on screen take the ruler's range now; the others when scrolled into view (or asked)."""
        top = self.scroll.verticalScrollBar().value()
        bottom = top + self.scroll.viewport().height()
        for track in self.tracks[1:]:
            if track.isHidden() or track.y() > bottom or track.y() + track.height() < top:
                track.vb.mark_stale()
            else:
                track.vb.catch_up()

    @contextmanager
    def laid_out_once(self) -> Iterator[None]:
        """Keep the ruler and the tracks hidden while the window around them is still settling.

        Hidden widgets get no resize events; every track is a pyqtgraph view linked to the ruler,
        and each resize of one (or of the ruler) re-maps the linked ranges. A window opening a project
        moves the timeline's edges ~10 times while its docks settle: the tracks see only the last.
        """
        shown = [w for w in (self.ruler, self.rows) if not w.isHidden()]
        for widget in shown:
            widget.hide()
        try:
            yield
        finally:
            for widget in shown:
                widget.show()

    def rebuild(self) -> None:
        clear_layout(self.rows_layout)
        self.prediction_tracks = []
        self._no_predictions = None
        session_id = self.ws.session.id if self.ws.session else None
        if session_id != self._session_id:  # another session: its own frame times and audio
            if self._inputs is not None:
                self._inputs.close()
                self._inputs = None
            self._wave_sources.clear()
        self._session_id = session_id
        self.tier_tracks.clear()
        self.waveforms.clear()
        self.overlays.clear()
        self._series_tier.clear()
        self.tracks = [self.ruler]
        data = self.ws.data
        if data is None:
            return
        duration_s = data.duration_us / 1e6
        tiers = self.ws.visible_tiers()
        self._shown = self._rows_key()
        for index, participant in enumerate(data.participants):
            color = theme.participant_color(index)
            wave = WaveformTrack(f"{participant.code} · audio", participant.role or "", color, None, "loading audio…")
            if participant.id in self._wave_sources:  # a rebuild keeps what was loaded
                wave.set_source(*self._wave_sources[participant.id])
            wave.set_spectrogram_source(ParticipantTiles(self.spectrograms, participant.id))
            wave.set_display(remembered_display(self._project_root(), participant.id))
            wave.display_chosen.connect(lambda display, pid=participant.id: self.set_audio_display(pid, display))
            self.waveforms[participant.id] = wave
            self._add(wave)
            for tier in tiers:
                if tier.participant_id == participant.id:
                    self._add_tier(tier, color)
        for tier in tiers:
            if tier.participant_id is None:
                self._add_tier(tier, theme.current().text_dim)
        self._add_predictions(tiers)
        from dyadlab.app.timeline.keypoint_marks import add_keypoint_marks

        add_keypoint_marks(self)  # a thin row per video view marking the frames with corrected keypoints
        self.rows_layout.addStretch(1)
        for track in self.tracks:
            track.set_extent(duration_s)
            if track is not self.ruler:
                track.vb.follow(self.ruler.vb)
        self.ruler.vb.setXRange(0.0, min(duration_s, DEFAULT_SPAN_S), padding=0.0)
        self.set_time(0)

    def _rows_key(self) -> list[int]:
        """Tier ids that decide the rows: the visible tiers, then every tier of the session (model tiers)."""
        data = self.ws.data
        return [t.id for t in self.ws.visible_tiers()] + [-1] + sorted(t.id for t in data.tiers) if data else []

    def _add_predictions(self, shown_tiers: list[model.Tier]) -> None:
        """Curves of every model with cached predictions here, then the models' utterance tiers (read-only)."""
        from dyadlab.app.timeline.prediction_track import prediction_sources

        data = self.ws.data
        colors = {p.id: theme.participant_color(i) for i, p in enumerate(data.participants)}
        self.prediction_tracks = []
        for source in prediction_sources(self.ws, self.replaced_models):
            track = self._prediction_track(source, colors)
            self.prediction_tracks.append(track)
            self._add(track)
        shown = {t.id for t in shown_tiers}
        for tier in data.tiers:
            owner = data.annotators.get(tier.annotator_id)
            if tier.id not in shown and owner is not None and owner.kind == "model" and tier.kind == "categorical":
                self._add_tier(tier, colors.get(tier.participant_id, theme.current().text_dim))
        if not self.prediction_tracks:
            placeholder = Track("Predictions", "no model run yet", theme.current().text_dim, 40,
                                background=theme.current().track_alt)
            self._add(placeholder)
            self._no_predictions = placeholder

    def _prediction_track(self, source: CurveSource, colors: dict[int, str]) -> Track:
        """A ``PredictionTrack`` of ``source`` in its participant's colour (the curves' frame times opened once)."""
        from dyadlab.app.timeline.prediction_track import PredictionTrack
        from dyadlab.core.inference.inputs import InputProvider

        if self._inputs is None:
            self._inputs = InputProvider(self.ws.project)
        return PredictionTrack(self.ws, source, colors.get(source.participant_id, theme.current().text_dim),
                               self._inputs)

    def add_prediction_tracks(self, sources: list[CurveSource]) -> None:
        """Curves for models' first rows, put after the curves there are (in place of "no model run yet"):
        a live model's first rows arrive while playing, where a whole ``rebuild`` stalls the window for
        ~0.1 s (the views miss frames). The next rebuild (``refresh_predictions`` when paused) settles the order."""
        data = self.ws.data
        if data is None or not sources:
            return
        colors = {p.id: theme.participant_color(i) for i, p in enumerate(data.participants)}
        anchor = self.prediction_tracks[-1] if self.prediction_tracks else self._no_predictions
        at = self.rows_layout.indexOf(anchor) + 1 if anchor is not None else self.rows_layout.count() - 1
        if self._no_predictions is not None:
            self.tracks.remove(self._no_predictions)
            self.rows_layout.removeWidget(self._no_predictions)
            self._no_predictions.deleteLater()
            self._no_predictions, at = None, at - 1
        for source in sources:
            track = self._prediction_track(source, colors)
            self.prediction_tracks.append(track)
            self.rows_layout.insertWidget(at, track)
            at += 1
            self.tracks.append(track)
            track.vb.clicked.connect(self._seek_seconds)
            track.set_extent(data.duration_us / 1e6)
            track.vb.follow(self.ruler.vb)

    def refresh_predictions(self) -> None:
        """Redraw the curves from the cache; rebuild when a model or participant got its first rows."""
        if self.ws.data is None:
            return
        from dyadlab.app.timeline.prediction_track import prediction_sources

        if [t.source for t in self.prediction_tracks] != prediction_sources(self.ws, self.replaced_models):
            span = self.visible_range()
            self.rebuild()
            self.ruler.vb.setXRange(*span, padding=0.0)
            return
        for track in self.prediction_tracks:
            track.reload()

    def show_live_result(self, result: object) -> None:
        """A live inference result: its rows extend the prediction curves (buffered, drawn at most 5 Hz)."""
        if self.live_curves is None:
            from dyadlab.app.timeline.prediction_track import LiveCurveFeed

            self.live_curves = LiveCurveFeed(self)
        self.live_curves.add(result)

    def release(self) -> None:
        """Close what the prediction curves opened and stop their live feed (the project is closing)."""
        self.spectrograms.close()
        if self._inputs is not None:
            self._inputs.close()
            self._inputs = None
        if self.live_curves is not None:
            self.live_curves.stop()

    def _add(self, track: Track) -> None:
        self.rows_layout.addWidget(track)
        self.tracks.append(track)
        if not isinstance(track, TierTrack):
            track.vb.clicked.connect(self._seek_seconds)

    def _add_tier(self, tier: model.Tier, color: str) -> None:
        track = TierTrack(self.ws, tier, snap=self.snap, seek=self.seek_requested.emit, color=color)
        self.tier_tracks[tier.id] = track
        self._add(track)
        if tier.kind == "dimensional":
            style = SegmentStyle.of(self.ws.scheme(tier), tier.name)
            assert style.scale is not None
            self.overlays[tier.id] = TraceOverlay(track, style.scale)
            self._load_trace(tier)

    def _load_trace(self, tier: model.Tier) -> None:
        series = find_trace_series(self.ws.project.store, tier)
        if series is None:
            return
        self._series_tier[series.id] = tier.id
        times, values = read_trace(self.ws.project.store, series)
        self.overlays[tier.id].set_stored(times, values)

    # -- updates -----------------------------------------------------------------------------------

    def _tiers_changed(self) -> None:
        if self._rows_key() != getattr(self, "_shown", None):
            span = self.visible_range()
            self.rebuild()
            self.ruler.vb.setXRange(*span, padding=0.0)
        self._refresh_all()

    def _segments_changed(self, tier_id: int) -> None:
        track = self.tier_tracks.get(tier_id)
        if track is not None:
            track.refresh()

    def _refresh_all(self) -> None:
        for track in self.tier_tracks.values():
            track.refresh()

    def _series_changed(self, series_id: int) -> None:
        tier_id = self._series_tier.get(series_id)
        if tier_id is None:
            for tier_id_candidate in self.overlays:
                tier = self.ws.tier(tier_id_candidate)
                if tier is not None:
                    self._load_trace(tier)
            return
        tier = self.ws.tier(tier_id)
        if tier is not None:
            self._load_trace(tier)

    def set_waveform(self, participant_id: int, source: EnvelopeSource | None, error: str | None = None) -> None:
        self._wave_sources[participant_id] = (source, error)
        track = self.waveforms.get(participant_id)
        if track is not None:
            track.set_source(source, error)

    def set_audio_media(self, media: object | None) -> None:
        """The session media whose participants' spectrograms the audio tracks show (None: closed)."""
        self.spectrograms.open(media)
        for track in self.waveforms.values():
            track.redraw()

    def _spectrogram_arrived(self, participant_id: int, *_args) -> None:
        track = self.waveforms.get(participant_id)
        if track is not None and track.display != WAVEFORM:
            track.redraw()

    def _project_root(self) -> Path:
        return self.ws.project.root

    def set_audio_display(self, participant_id: int, display: str) -> None:
        """Show the participant's waveform, spectrogram or both; remembered for this project."""
        remember_display(self._project_root(), participant_id, display)
        track = self.waveforms.get(participant_id)
        if track is not None:
            track.set_display(display)

    def show_spectrograms(self, on: bool) -> None:
        """Every audio track: the spectrogram beside the waveform (on), or the waveform alone (off)."""
        for participant_id, track in self.waveforms.items():
            if on and track.display == WAVEFORM:
                self.set_audio_display(participant_id, BOTH)
            elif not on and track.display != WAVEFORM:
                self.set_audio_display(participant_id, WAVEFORM)

    def spectrograms_shown(self) -> bool:
        return any(track.display != WAVEFORM for track in self.waveforms.values())

    def show_ghost(self, tier_id: int, start_us: int | None, end_us: int | None) -> None:
        track = self.tier_tracks.get(tier_id)
        if track is not None:
            track.items.set_ghost(None if start_us is None or end_us is None else (start_us / 1e6, end_us / 1e6))

    def show_live_trace(self, tier_id: int, times_s: np.ndarray, values: np.ndarray) -> None:
        overlay = self.overlays.get(tier_id)
        if overlay is not None:
            overlay.set_live(times_s, values)

    # -- time --------------------------------------------------------------------------------------

    def _seek_seconds(self, seconds: float) -> None:
        self.seek_requested.emit(self.snap(max(0, round(seconds * 1e6))))

    def visible_range(self) -> tuple[float, float]:
        (x0, x1), _ = self.ruler.vb.viewRange()
        return float(x0), float(x1)

    def set_time(self, t_us: int) -> None:
        self._t_s = t_us / 1e6
        for track in self.tracks:
            track.set_time(self._t_s)
        x0, x1 = self.visible_range()
        if self.follow and not x0 <= self._t_s <= x1:
            span = x1 - x0
            self.ruler.vb.setXRange(self._t_s - 0.1 * span, self._t_s + 0.9 * span, padding=0.0)

    def zoom(self, factor: float) -> None:
        self.ruler.vb.scaleBy(x=factor, center=pg.Point(self._t_s, 0.5))

    def fit(self) -> None:
        if self.ws.data is not None:
            self.ruler.vb.setXRange(0.0, self.ws.data.duration_us / 1e6, padding=0.0)
