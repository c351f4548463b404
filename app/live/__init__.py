"""Live inference in the GUI: the Qt adapter of ``core.inference.live``, overlays, and the controller."""
