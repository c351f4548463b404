"""Entry point of the PyInstaller bundle: the ``dyadlab`` command, plus what a frozen app must emulate.

Why a separate script: in a bundle ``sys.executable`` is the ``dyadlab`` binary, not a Python interpreter,
yet DyadLab starts helper processes the way it does from a virtual environment:

* ``sys.executable -m dyadlab.core.jobs.supervise ...`` (the job runner) and ``-m dyadlab.trainer ...``
  (training jobs): handled here by running the module as ``__main__``, as ``python -m`` would;
* ``multiprocessing`` spawn workers (feature extraction): ``freeze_support()`` turns the re-executed
  binary into the worker.

A bundle built without PyTorch (the CPU build made from a CUDA torch, see README.md) reports the missing
library in one sentence instead of a traceback.
"""

from __future__ import annotations

import multiprocessing
import runpy
import sys

TORCH_MODULES = ("torch", "torchaudio")


def _run_module(argv: list[str]) -> int:
    module, sys.argv = argv[1], [argv[1], *argv[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
    return 0


def main() -> int:
    multiprocessing.freeze_support()
    try:
        if len(sys.argv) > 2 and sys.argv[1] == "-m":
            return _run_module(sys.argv[1:])
        from dyadlab.core.cli.main import main as dyadlab_main

        return dyadlab_main()
    except ModuleNotFoundError as exc:
        if exc.name not in TORCH_MODULES:
            raise
        print(f"dyadlab: this build of DyadLab does not include {exc.name} (PyTorch), which this command "
              "needs; use the CUDA build or a build made with the CPU PyTorch wheel (packaging/README.md)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
