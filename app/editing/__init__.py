"""Editing helpers that turn gestures into edits: drag arithmetic, real-time key coding, continuous
rating and keypoint editing. Rules stay in ``dyadlab.core.edits``."""
