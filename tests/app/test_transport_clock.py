"""The transport clock at the end of a minute reads 1:00.000 (it read 0:60.000)."""

from __future__ import annotations


def test_the_transport_clock_at_the_end_of_a_minute(qapp) -> None:
    from PySide6.QtGui import QAction

    from dyadlab.app.transport import BUTTONS, TransportBar

    bar = TransportBar({action_id: QAction(action_id) for action_id, _ in BUTTONS}, lambda _speed: None)
    bar.show_time(59_999_700, 1499, 1500, "A")
    assert bar.time_label.text().startswith("1:00.000   frame 1499/1499")
