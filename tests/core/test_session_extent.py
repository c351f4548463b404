"""How long a session lasts (``model.session_extent_us``): the rule the clock, the timeline and the workspace
share, moved out of the GUI's workspace (issue 18) so that a notebook or the CLI gets the same answer."""

from __future__ import annotations

from dyadlab.core import model

S = 1_000_000


def _view(duration_us: int | None, offset_us: int = 0) -> model.View:
    return model.View(id=1, session_id=1, participant_id=None, name="cam", path="cam.mp4", offset_us=offset_us,
                      duration_us=duration_us)


def _audio(duration_us: int | None, offset_us: int = 0) -> model.AudioTrack:
    return model.AudioTrack(id=1, session_id=1, name="mic", path="mic.wav", offset_us=offset_us,
                            duration_us=duration_us)


def test_a_session_lasts_until_its_last_media_ends_at_its_offset() -> None:
    session = model.Session(id=1, name="s", duration_us=10 * S)
    assert model.session_extent_us(session, [_view(8 * S, offset_us=4 * S)], [_audio(5 * S)]) == 12 * S
    assert model.session_extent_us(session, [_view(3 * S)], [_audio(2 * S, offset_us=S)]) == 10 * S


def test_a_session_without_media_or_length_gets_the_default() -> None:
    session = model.Session(id=1, name="s", duration_us=None)
    assert model.session_extent_us(session, [], []) == model.DEFAULT_SESSION_US
    assert model.session_extent_us(session, [_view(None)], [_audio(None)]) == model.DEFAULT_SESSION_US
