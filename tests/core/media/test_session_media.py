"""SessionMedia: a project session's views and tracks opened together, broken ones disabled on their own."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from dyadlab.core.errors import MediaError
from dyadlab.core.media.clock import SessionClock
from dyadlab.core.media.session_media import SessionMedia
from dyadlab.core.media.synthetic import read_code, split_codes
from dyadlab.core.model import CropRect


@pytest.fixture(scope="module")
def dyad(tmp_path_factory, video_25, video_2997, video_split, sine_wav, broken_files):
    """A dyad: a 25 fps wide view, a 29.97 fps view starting 0.5 s later, a split-screen file cropped
    into one view per participant, a missing file, an audio-only file used as a view; a stereo WAV with
    one participant per channel, and a silent video added as an audio track."""
    from dyadlab.core.project import create_project

    project = create_project(tmp_path_factory.mktemp("session_media") / "project")
    root = project.root
    for name, path in [("wide.mp4", video_25.path), ("close.mp4", video_2997.path), ("split.mp4", video_split.path),
                       ("mics.wav", sine_wav[0]), ("voice.wav", broken_files["audio_only"])]:
        shutil.copy(path, root / name)
    with project.store.transaction() as tx:
        s = tx.sessions.add("dyad")
        a = tx.participants.add(s.id, "A")
        b = tx.participants.add(s.id, "B")
        ids = {
            "wide": tx.views.add(s.id, "wide", "wide.mp4").id,
            "close": tx.views.add(s.id, "close", "close.mp4", offset_us=500_000).id,
            "left": tx.views.add(s.id, "A", "split.mp4", participant_id=a.id, crop=CropRect(0, 0, 160, 120)).id,
            "right": tx.views.add(s.id, "B", "split.mp4", participant_id=b.id, crop=CropRect(160, 0, 160, 120),
                                  offset_us=-40_000).id,
            "missing": tx.views.add(s.id, "gone", "gone.mp4").id,
            "voice": tx.views.add(s.id, "voice", "voice.wav").id,
            "mics": tx.audio.add(s.id, "mics", "mics.wav", offset_us=100_000, channel_participants=[a.id, b.id]).id,
            "silent": tx.audio.add(s.id, "silent", "close.mp4").id,
        }
    yield project, s.id, ids, (a.id, b.id)
    project.close()


@pytest.fixture(scope="module")
def session(dyad):
    project, session_id, ids, participants = dyad
    media = SessionMedia(project, session_id)
    yield media, ids, participants
    media.close()


def test_views_map_session_time_to_their_own_frames(session):
    media, ids, _ = session
    assert [v.name for v in media.views] == ["wide", "close", "A", "B", "gone", "voice"]
    assert media.frame_for(ids["wide"], 1_000_000) == 25
    assert media.frame_for(ids["close"], 499_999) is None  # not started yet
    assert media.frame_for(ids["close"], 500_000) == 0
    assert media.frame_for(ids["close"], 500_000 + 33_367) == 1
    assert media.time_of_frame(ids["close"], 3) == 600_100
    t = 1_500_000
    for key in ("wide", "close"):
        n = media.frame_for(ids[key], t)
        assert read_code(media.decoder(ids[key]).get_frame(n)) == n
    assert media.frame_for(ids["right"], 0) == 1  # offset -40 ms: one frame ahead


def test_split_screen_views_share_one_decoder_and_show_their_half(session):
    media, ids, _ = session
    left, right = media.decoder(ids["left"]), media.decoder(ids["right"])
    assert left.decoder is right.decoder
    assert left.size == right.size == (160, 120)
    n = media.frame_for(ids["left"], 1_000_000)
    assert read_code(left.get_frame(n)) == split_codes(n)[0]
    m = media.frame_for(ids["right"], 1_000_000)
    assert m == n + 1 and read_code(right.get_frame(m)) == split_codes(m)[1]


def test_broken_views_are_disabled_alone_with_a_clear_error(session):
    media, ids, _ = session
    assert media.decoder(ids["missing"]) is None and media.frame_for(ids["missing"], 0) is None
    assert "not found" in str(media.view_error(ids["missing"]))
    assert "gone.mp4" in str(media.view_error(ids["missing"]))
    assert "no video stream" in str(media.view_error(ids["voice"]))
    assert media.frame_index(ids["voice"]) is None
    assert media.view_error(ids["wide"]) is None
    with pytest.raises(KeyError):
        media.decoder(9999)


def test_audio_tracks_offsets_participants_and_errors(session):
    media, ids, (a, b) = session
    assert "no audio stream" in str(media.audio_error(ids["silent"]))
    with pytest.raises(MediaError):
        media.audio(ids["silent"])
    mics = media.audio(ids["mics"])
    assert mics.offset_us == 100_000 and mics.channels == 2
    assert np.all(mics.read(0, 100_000) == 0)  # before the track starts
    voice_b = media.participant_audio(b, sample_rate=16_000)
    assert voice_b.channels == 1
    spectrum = np.abs(np.fft.rfft(voice_b.read(1_100_000, 2_100_000)))
    assert int(np.argmax(spectrum)) == 1000  # participant B is the right channel (1 kHz)
    assert media.participant_audio(a) is media.participant_audio(a)  # readers are shared


def test_duration_covers_every_view_and_track_and_drives_a_clock(session):
    media, ids, _ = session
    # wide: 4.8 s, close: 0.5 + 3.337 s, mics: 0.1 + 6 s
    assert media.duration_us == 6_100_000
    clock = SessionClock(media.duration_us)
    # at 0 the close view has not started: its first step lands on frame 0, the fifth on frame 4
    clock.step(media.frame_index(ids["close"]), media.view(ids["close"]).offset_us, 5)
    assert media.frame_for(ids["close"], clock.time_us) == 4


def test_close_stops_every_thread(dyad):
    project, session_id, ids, _ = dyad
    media = SessionMedia(project, session_id)
    decoders = {media.decoder(ids[k]).decoder for k in ("wide", "close", "left")}
    media.close()
    assert all(not d._thread.is_alive() for d in decoders)
    assert media.decoder(ids["wide"]) is None
