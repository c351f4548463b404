"""Dockable panels: project browser with annotation progress, participant attributes, label palette,
continuous rating and keypoints. Each reads the workspace and changes data only through edits."""
