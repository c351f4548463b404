"""One damaged packet must not cost a whole track (found on a real IEMOCAP AVI whose AC-3 audio has one bad
frame near its end: ffmpeg decoded 11.23 of 11.26 s with one warning, analysis lost the participant's audio).

The files are made here: an AVI encoded with PyAV, then one packet's payload zeroed, which its decoder
rejects ("Invalid data found when processing input") exactly as in the real file. Decoding skips the
packet, keeps time, says how much was lost and where, and analysis marks that time missing, not silent.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from dyadlab.core.errors import MediaError
from dyadlab.core.media.audio import AudioReader
from dyadlab.core.media.decoder import VideoDecoder
from dyadlab.core.media.frame_index import FrameIndex

from .damaged_media import RATE, damage_packet, encode_avi

FRAMES = 100  # 4 s at 25 fps
AUDIO_PACKET = 60  # the 60th AC-3 packet (1536 samples each; the first has pts 1): 1.888 s .. 1.920 s
VIDEO_PACKET = 50  # frame 50: 2.000 s


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("damaged-packets")
    full = encode_avi(folder / "full.avi", FRAMES)
    assert damage_packet(full, folder / "bad_audio.avi", "audio", AUDIO_PACKET) == (AUDIO_PACKET, 1)
    assert damage_packet(full, folder / "bad_video.avi", "video", VIDEO_PACKET) == (VIDEO_PACKET, 1)
    return {"full": full, "bad_audio": folder / "bad_audio.avi", "bad_video": folder / "bad_video.avi"}


def lost_range(reader: AudioReader) -> tuple[int, int]:
    [(start_us, end_us)] = reader.damage.ranges_us()
    return start_us * RATE // 1_000_000, end_us * RATE // 1_000_000


def test_audio_skips_the_damaged_packet_keeps_time_and_says_what_was_lost(files):
    with AudioReader(files["full"], channels=0) as reader:
        clean = reader.read_all()
    with AudioReader(files["bad_audio"], channels=0) as reader:
        samples = reader.read_all()
        a, b = lost_range(reader)
        description = reader.damage.describe()
        random_access = reader.read_samples(0, len(samples))  # the player's path (chunks, seeks)
    assert len(samples) == len(clean) == FRAMES * RATE // 25  # the whole track, nothing shifted
    assert (a, b) == ((AUDIO_PACKET - 1) * 1536, AUDIO_PACKET * 1536)
    assert not samples[a:b].any()  # the lost packet's time is a gap ...
    assert np.abs(samples[: a - 1600]).max() > 0.25 and np.abs(samples[b + 3072:]).max() > 0.25  # ... only it
    np.testing.assert_allclose(samples[: a - 1600], clean[: a - 1600], atol=1e-6)
    np.testing.assert_allclose(samples[b + 3072:], clean[b + 3072:], atol=1e-4)  # decoder state: ~1e-5
    assert description.startswith("1 damaged packet skipped: 0.032 s lost at 1.888 s (")
    np.testing.assert_array_equal(random_access, samples)


def test_a_track_whose_every_packet_is_damaged_still_fails_naming_the_file(files, tmp_path):
    bad = tmp_path / "all_bad.avi"
    shutil.copy(files["full"], bad)
    import av

    with av.open(str(files["full"])) as container:
        packets = [bytes(p) for p in container.demux(container.streams.audio[0]) if p.size]
    data = bytearray(bad.read_bytes())
    for payload in packets:
        at = data.find(payload)
        data[at:at + len(payload)] = bytes(len(payload))
    bad.write_bytes(bytes(data))
    with pytest.raises(MediaError, match="holds no decodable samples: every packet was rejected") as info:
        AudioReader(bad)
    assert info.value.path == bad


def test_analysis_decodes_the_video_past_a_damaged_packet(files):
    from dyadlab.core.features.frames import ViewDecoder

    decoder = ViewDecoder(FrameIndex.build(files["bad_video"]))
    shown = [i for i, _ in decoder.frames()]
    assert shown == [i for i in range(FRAMES) if i != VIDEO_PACKET]
    assert decoder.error.startswith("1 damaged packet skipped (") and \
        decoder.error.endswith(f"1 frames lost: {VIDEO_PACKET} (2.000 s)")


def test_the_player_shows_the_frames_after_a_damaged_one(files):
    with VideoDecoder(files["bad_video"], FrameIndex.build(files["bad_video"]), readahead=0) as decoder:
        with pytest.raises(MediaError, match=f"frame {VIDEO_PACKET} .* cannot be decoded"):
            decoder.get_frame(VIDEO_PACKET, timeout=20)
        after = decoder.get_frame(VIDEO_PACKET + 5, timeout=20)
    assert after.shape == (120, 160, 3)


def test_analysis_marks_the_lost_audio_missing_not_silent(files, project, tmp_path):
    from dyadlab.core.features.cache import FeatureStore
    from dyadlab.core.features.pipeline import analyze_project
    from dyadlab.core.io import run_import

    source = tmp_path / "recordings" / "pair01"
    source.mkdir(parents=True)
    shutil.copy(files["bad_audio"], source / "alice.avi")
    run_import("folder", project, source.parent)
    summary = analyze_project(project, what=["audio"], params={"audio": {"opensmile": [], "utterances": False}})
    assert not summary.failed
    [warning] = [w for w in summary.warnings if w.code == "damaged"]
    assert "1 damaged packet skipped: 0.032 s lost at 1.888 s" in warning.message
    with project.store.transaction() as tx:
        session = tx.sessions.list()[0]
        alice = tx.participants.list(session.id)[0]
    windows = FeatureStore(project).load(session.id, alice.id, "audio_windows")
    frames = np.flatnonzero(~np.asarray(windows.valid))
    times = np.asarray(windows.times_us)[frames]
    # 1600-sample (0.1 s) windows centred on the frames: those within 0.05 s of the lost 1.888-1.920 s
    assert frames.tolist() == [46, 47, 48, 49]
    assert ((times > 1_888_000 - 50_000) & (times < 1_920_000 + 50_000)).all()
    assert f"the windows of {len(frames)} frames touch the missing audio" in warning.message
