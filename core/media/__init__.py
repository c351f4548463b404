"""Media engine: probing, frame indexes, decoding, audio and the session clock (no widgets)."""
