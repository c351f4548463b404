"""Where DyadLab writes its log, and the text a user attaches to a problem report.

Why: when the app misbehaves on a user's machine, the two things a developer needs are what happened
(the log, with tracebacks of anything unexpected) and what it ran on (versions of DyadLab, Python, Qt,
torch, PyAV, numpy, SQLAlchemy and the OS). ``setup_logging()`` (called once by the CLI's ``main()`` and
the GUI's start-up) keeps a size-capped rotating log per user — 1 MB × 5 files under
``$XDG_STATE_HOME/dyadlab/`` (default ``~/.local/state/dyadlab/``), or ``$DYADLAB_LOG_DIR`` — and logs
uncaught exceptions there too. ``problem_report()`` returns versions plus the log's tail as plain text for
``dyadlab report`` and the GUI's "About / Report a problem" dialog.

Logging must never stop the app: an unwritable log folder only means no log file. Versions are read from
package metadata, not by importing torch or Qt, so a report costs milliseconds and works even when one of
them is broken (which may be the problem being reported).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import platform
import sys
import threading
from collections import deque
from pathlib import Path
from types import TracebackType

LOG_FILE = "dyadlab.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 5
LOGGER = "dyadlab"
FORMAT = "%(asctime)s %(process)d %(threadName)s %(levelname)s %(name)s: %(message)s"
# What a report lists: the distribution names as pip knows them.
PACKAGES = ("dyadlab", "PySide6", "torch", "torchaudio", "av", "numpy", "sqlalchemy", "alembic", "pandas",
            "pyqtgraph", "mediapipe", "opencv-contrib-python", "opensmile", "pympi-ling", "pyarrow", "onnxruntime")

_handler: logging.Handler | None = None
_lock = threading.Lock()


def log_dir() -> Path:
    """The folder holding the log: ``$DYADLAB_LOG_DIR``, else ``$XDG_STATE_HOME/dyadlab``, else
    ``~/.local/state/dyadlab``."""
    override = os.environ.get("DYADLAB_LOG_DIR")
    if override:
        return Path(override).expanduser()
    state = os.environ.get("XDG_STATE_HOME")
    base = Path(state).expanduser() if state else Path.home() / ".local" / "state"
    return base / "dyadlab"


def log_file() -> Path:
    return log_dir() / LOG_FILE


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Send DyadLab's log records (logger ``dyadlab``) to the rotating log file; idempotent.

    Returns the log file, or None when it cannot be written (then nothing changes). Uncaught exceptions
    in the main thread and in worker threads are logged before Python's usual handling runs.
    """
    global _handler
    with _lock:
        if _handler is not None:
            return Path(_handler.baseFilename) if isinstance(_handler, logging.FileHandler) else None
        path = log_file()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT,
                                                           encoding="utf-8", delay=False)
        except OSError:
            return None
        handler.setFormatter(logging.Formatter(FORMAT))
        logger = logging.getLogger(LOGGER)
        logger.addHandler(handler)
        if logger.level == logging.NOTSET or logger.level > level:
            logger.setLevel(level)
        _handler = handler
        _install_excepthooks()
    # the package's own version, not the dist-info's: scanning sys.path for that costs every start ~50 ms
    from dyadlab.core import __version__

    logging.getLogger(f"{LOGGER}.start").info("dyadlab %s started: %s", __version__, " ".join(sys.argv))
    return path


def _install_excepthooks() -> None:
    log = logging.getLogger(f"{LOGGER}.crash")
    previous_hook, previous_thread_hook = sys.excepthook, threading.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if not issubclass(kind, KeyboardInterrupt):
            log.critical("uncaught exception", exc_info=(kind, value, tb))
        previous_hook(kind, value, tb)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is not SystemExit and args.exc_value is not None:
            name = args.thread.name if args.thread is not None else "?"
            log.critical("uncaught exception in thread %s", name,
                         exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
        previous_thread_hook(args)

    sys.excepthook = hook
    threading.excepthook = thread_hook


def _version(distribution: str) -> str:
    from importlib import metadata  # only reports need it

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        if distribution == "dyadlab":  # a bundle without the dist-info still knows its own version
            from dyadlab.core import __version__

            return __version__
        return "not installed"


def _qt_runtime() -> str | None:
    """The Qt library version PySide6 runs on, when QtCore is already loaded (never imported here)."""
    qtcore = sys.modules.get("PySide6.QtCore")
    return qtcore.qVersion() if qtcore is not None else None


def log_tail(lines: int = 200, path: Path | None = None) -> list[str]:
    """The last ``lines`` lines of the log (current file only); [] when there is none."""
    path = path or (Path(_handler.baseFilename) if isinstance(_handler, logging.FileHandler) else log_file())
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            return [line.rstrip("\n") for line in deque(fh, maxlen=lines)]
    except OSError:
        return []


def problem_report(*, log_lines: int = 200) -> str:
    """Versions, platform and the log's tail as plain text, for a bug report (nothing secret in it:
    no project paths beyond what the log holds, no environment variables)."""
    if _handler is not None:
        _handler.flush()
    frozen = getattr(sys, "frozen", False)
    rows = [("DyadLab", _version("dyadlab")),
            ("Python", f"{platform.python_version()} ({platform.python_implementation()}, {sys.executable})"),
            ("Platform", f"{platform.platform()} ({platform.machine()})"),
            ("Build", "PyInstaller bundle" if frozen else "Python environment")]
    qt = _qt_runtime()
    if qt:
        rows.append(("Qt runtime", qt))
    rows += [(name, _version(name)) for name in PACKAGES if name != "dyadlab"]
    width = max(len(name) for name, _ in rows)
    text = ["DyadLab problem report", "======================", ""]
    text += [f"{name.ljust(width)}  {value}" for name, value in rows]
    tail = log_tail(log_lines)
    where = Path(_handler.baseFilename) if isinstance(_handler, logging.FileHandler) else log_file()
    text += ["", f"Log ({where}, last {len(tail)} lines)", "-" * 40]
    text += tail or ["(no log yet)"]
    return "\n".join(text) + "\n"


def stop_logging() -> None:
    """Detach and close the log file (tests, and a clean shutdown); ``setup_logging`` may run again."""
    global _handler
    with _lock:
        if _handler is not None:
            logging.getLogger(LOGGER).removeHandler(_handler)
            _handler.close()
            _handler = None
