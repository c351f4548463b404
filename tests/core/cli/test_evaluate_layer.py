"""``dyadlab evaluate`` only calls the trainer's evaluation: scoring a model is the trainer's work.

Before, the command assembled the scoring itself from ten trainer modules (datasets, engine, checkpoint,
``train.make_dataset``...); now ``trainer.evaluation.evaluate_model`` does it and a notebook can call it too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import dyadlab.core.cli.evaluate as evaluate_cli


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return ({a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
            | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module})


def test_the_evaluate_command_uses_only_the_trainers_evaluation_module() -> None:
    trainer = {m for m in _imported_modules(Path(evaluate_cli.__file__)) if m.startswith("dyadlab.trainer")}
    assert trainer == {"dyadlab.trainer.evaluation"}
