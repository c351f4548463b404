"""Active learning: where the annotator's next minute of labelling helps the model most.

``ranking`` scores stretches (uncertainty, disagreement, diversity) with plain numbers, ``queue`` reads a
project's predictions and labels into stretches and ranks them, ``retrain`` decides when a fine-tuned model
replaces the one behind the queue. No Qt here; the "Next to label" panel (``app/docks/queue_dock.py``) and
``dyadlab queue`` are thin shells over these.
"""
