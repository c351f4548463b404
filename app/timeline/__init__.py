"""The pyqtgraph timeline: ruler, waveform, tier and trace tracks sharing one x range and one playhead.
Tracks are told the time and ask to seek; they never play."""
