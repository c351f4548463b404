"""Make ``docs/screenshot.png``: the workstation on a demo session with some annotation done.

Run under a display (``xvfb-run -a .venv/bin/python docs/make_screenshot.py``); it builds a small demo
project in a temporary folder (or uses ``--project``), opens it as annotator "alice", codes a few
segments, records a short continuous rating, compares with the gold tiers and saves the window.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).with_name("screenshot.png")


def annotate(window) -> None:
    """A few minutes of work, done through the same actions a user triggers."""
    from dyadlab.app.commands import segment_actions as seg

    ws, bench = window.ws, window.bench
    mine = [t for t in ws.visible_tiers() if ws.can_edit(t)]
    emotion = [t for t in mine if t.name == "emotion"]
    for tier, spans in zip(emotion, ([(0.4, 3.1, "neutral"), (3.1, 6.8, "happy"), (7.5, 10.9, "sad")],
                                     [(0.0, 2.2, "neutral"), (2.6, 5.0, "angry"), (5.0, 9.4, "neutral")]),
                           strict=False):
        for start, end, value in spans:
            seg.create_segment(ws, tier, round(start * 1e6), round(end * 1e6), value=value)
    valence = next(t for t in mine if t.name == "valence")
    seg.create_segment(ws, valence, 1_000_000, 4_000_000)
    seg.label_selected(ws, "4")
    rater = bench.rater
    rater.set_recording(True)
    for i in range(0, 200):
        t = i * 40_000
        for d in rater.dims:
            d.value = 3.0 + 1.4 * __import__("math").sin(i / 17 + len(d.name))
        rater.on_time(t, True)
    rater.set_recording(False)
    ws.show_annotator(next(a.id for a in ws.data.annotators.values() if a.name == "gold"))
    window.compare.setCurrentIndex(window.compare.findData(ws.shown_annotator_id))
    ws.set_active_tier(emotion[0].id)
    ws.select(ws.segments(emotion[0].id)[1])
    bench.playback.seek(4_520_000)
    bench.timeline.fit()
    place_face_keypoints(window)


def place_face_keypoints(window) -> None:
    """Pose points on the focused view at the current frame, where the demo drew the face."""
    import numpy as np

    bench = window.bench
    view = bench.grid.focused.view
    frame = bench.player.frame_for(view.id)
    geometry = np.load(window.project.root / "media" / "demo01" / "A_geometry.npz")
    g = {k: float(geometry[k][frame]) for k in ("face_x", "face_y", "pupil_left_x", "pupil_left_y",
                                                  "pupil_right_x", "pupil_right_y", "mouth_x", "mouth_y")}
    half = float(geometry["head_half_height"])
    nose_y = (g["pupil_left_y"] + g["mouth_y"]) / 2
    points = {  # mediapipe-pose indices
        0: (g["face_x"], nose_y), 2: (g["pupil_right_x"], g["pupil_right_y"]),
        5: (g["pupil_left_x"], g["pupil_left_y"]), 9: (g["mouth_x"] + 18, g["mouth_y"]),
        10: (g["mouth_x"] - 18, g["mouth_y"]), 7: (g["face_x"] + 0.78 * half, g["pupil_left_y"] + 12),
        8: (g["face_x"] - 0.78 * half, g["pupil_left_y"] + 12),
        11: (g["face_x"] + 1.35 * half, g["face_y"] + 1.75 * half),
        12: (g["face_x"] - 1.35 * half, g["face_y"] + 1.75 * half),
    }
    bench.keypoints.set_enabled(True)
    for index, (x, y) in points.items():
        bench.keypoints.move_point(view, index, x, y)
    bench.keypoints.select(11)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--project", type=Path, help="an existing demo project to copy (default: generate one)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    from dyadlab.app import theme
    from dyadlab.app.main_window import MainWindow
    from dyadlab.app.screenshot import save_window

    app = QApplication(sys.argv[:1])
    app.setOrganizationName("DyadLabScreenshot")
    theme.apply("dark", app)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "demo"
        if args.project:
            shutil.copytree(args.project, root)
        else:
            from dyadlab.core.demo import generate_demo

            generate_demo(root, sessions=1, seconds=12.0, seed=7).close()
        window = MainWindow()
        window.resize(1600, 960)
        window.show()
        window.open_project(root, annotator="alice")
        annotate(window)
        path = save_window(window, args.out)
        window.close()
    print(f"{path}: {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
