"""Undo commands: ``EditCommand`` wraps a core edit for the QUndoStack; ``segment_actions`` builds the
segment edits the user asks for by name (split at playhead, merge with next, ...)."""
