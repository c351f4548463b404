"""Model inference: load a registered model, run it on frames, cache and inspect its predictions.

The modules, in the order data flows (torch and the trainer are imported only inside functions):

- ``loader``: ``load_model(project, model_id) -> LoadedModel`` — checks the model against the project's label
  scheme and the inputs DyadLab can produce; ``register_checkpoint`` for a file the user names.
- ``inputs``: ``InputProvider`` — a participant's frames (``ParticipantTimeline``) and model inputs, from the
  feature cache or computed from the media with the analysis's own functions.
- ``runner``: ``ModelRunner`` / ``predict_frames`` — batches, recurrent context, NaN and error checks.
- ``predictions``: ``PredictionCache`` / ``ensure_predictions`` / ``utterance_predictions`` — the store's
  prediction cache (series per model × session × participant) and the model's utterance tier.
- ``live``: ``LiveInferenceWorker`` — the playback-time worker thread (bounded queue, newest request first).
- ``inspect``: ``inspect_model`` — confusion, WA/UA/F1 against an annotator, click-through, disagreements.
- ``assist``: ``propose`` / ``accept`` / ``reject`` — model-assisted labelling as undoable edits.
- ``export``: ``export_predictions`` — long-format per-frame probabilities (CSV/Parquet).
"""

from typing import Any

from dyadlab.core.inference.errors import InferenceError, ModelOutputError

_LAZY = {
    "LoadedModel": "loader", "load_model": "loader", "register_checkpoint": "loader",
    "InputProvider": "inputs", "ParticipantTimeline": "inputs",
    "FramePrediction": "runner", "ModelRunner": "runner", "predict_frames": "runner",
    "PredictionCache": "predictions", "PredictionRows": "predictions", "ensure_predictions": "predictions",
    "utterance_predictions": "predictions",
    "LiveInferenceWorker": "live", "LiveResult": "live", "ParticipantPrediction": "live",
    "Inspection": "inspect", "inspect_model": "inspect",
    "Proposal": "assist", "propose": "assist", "accept": "assist", "accept_edit": "assist", "reject": "assist",
    "export_predictions": "export",
}


def __getattr__(name: str) -> Any:
    """Import a submodule on first use of one of its names, so this package stays light to import."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"dyadlab.core.inference.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'dyadlab.core.inference' has no attribute {name!r}")


__all__ = ["InferenceError", "ModelOutputError", *_LAZY]
