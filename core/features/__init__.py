"""Analysis features: aligned face crops, frame-centred audio windows and features, pose and hands.

Models are trained and run on these, never on raw media, so they are computed once per (session,
participant) by ``analyze_project`` (worker processes, progress, warnings) and kept in the on-disk
feature cache, keyed by media content and parameters. The trainer reads them through ``FeatureStore``:

    store = FeatureStore(project)
    crops, valid, times_us = store.load(session_id, participant_id, "faces")

Importing this package is light (numpy only); mediapipe, OpenCV, torch and openSMILE load inside the
functions that use them.
"""

from dyadlab.core.features.cache import ARRAY_KINDS, CacheMiss, FeatureCache, FeatureStore, LoadedFeature
from dyadlab.core.features.pipeline import AnalysisSummary, analyze_project

__all__ = ["ARRAY_KINDS", "AnalysisSummary", "CacheMiss", "FeatureCache", "FeatureStore", "LoadedFeature",
           "analyze_project"]
