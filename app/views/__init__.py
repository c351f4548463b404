"""Video: one ``VideoView`` per recorded view, laid out by ``VideoGrid``, fed frames by ``Player``, with
the keypoint overlay on top."""
