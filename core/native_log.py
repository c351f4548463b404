"""Keep native libraries' log lines (MediaPipe's TensorFlow Lite, absl, glog) out of the user's terminal.

Why: mediapipe 0.10.14 prints "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.", "WARNING: All
log messages before absl::InitializeLog() ..." and "W0000 ... inference_feedback_manager.cc:114] ..." from
C++ straight to file descriptor 2, in every process that starts a graph. ``GLOG_minloglevel`` and
``TF_CPP_MIN_LOG_LEVEL`` do not reach absl's messages from before ``absl::InitializeLog()`` (tried), so
the only dependable filter is the descriptor itself.

``native_stderr_to_log()`` points descriptor 2 at a pipe for the duration of a command and gives Python a
``sys.stderr`` of its own on the original terminal (so progress bars and error messages are untouched).
A reader thread sorts what arrives on the pipe: lines in the native libraries' formats go to the log file
(logger ``dyadlab.native``, debug level; error and fatal ones at warning level and on the terminal too),
anything else is passed through to the terminal unchanged. Worker processes spawned meanwhile inherit the
pipe as their descriptor 2, so their native lines are sorted by the same thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import threading
from collections.abc import Iterator

LOGGER = "dyadlab.native"
# glog/absl: "W0000 00:00:1796543682.805250   18121 file.cc:114] text"; TensorFlow Lite: "INFO: text"
_NATIVE_LINE = re.compile(rb"^(?:([IWEF])\d{4} [\d:.]+\s+\d+ [^\s:\]]+:\d+\]|(INFO|WARNING|ERROR): )")
_SERIOUS = {b"E", b"F", b"ERROR"}
# TensorFlow Lite writes its "INFO: " prefix and its text in two writes: with several worker processes on one
# pipe, another process's line can land between them and leave the text on a line of its own.
_TFLITE_TEXT = re.compile(rb"^(?:Created|Initialized) TensorFlow Lite\b")


def sort_native_line(line: bytes) -> tuple[int, bool]:
    """(log level, also show on the terminal) for one line that arrived on descriptor 2."""
    match = _NATIVE_LINE.match(line)
    if match is None:
        # a TensorFlow Lite message split from its prefix is still TensorFlow Lite's; anything else is not a
        # native library's line: the user sees it as before
        return logging.DEBUG, _TFLITE_TEXT.match(line) is None
    serious = (match.group(1) or match.group(2)) in _SERIOUS
    return (logging.WARNING, True) if serious else (logging.DEBUG, False)


@contextlib.contextmanager
def native_stderr_to_log() -> Iterator[None]:
    """Route native libraries' lines on descriptor 2 to the log while the block runs (see the module)."""
    try:
        if sys.stderr.fileno() != 2:
            raise ValueError("Python's stderr is not descriptor 2")  # captured (pytest) or redirected
        sys.stderr.flush()
        terminal = os.dup(2)
    except (AttributeError, OSError, ValueError):
        yield  # no descriptor 2 of our own (captured, or a GUI bundle without a console): nothing to route
        return
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    python_stderr = sys.stderr
    encoding = getattr(python_stderr, "encoding", None) or "utf-8"
    sys.stderr = open(os.dup(terminal), "w", encoding=encoding, errors="backslashreplace",  # noqa: SIM115
                      buffering=1)
    log = logging.getLogger(LOGGER)
    log.setLevel(logging.DEBUG)  # kept in the log file even when the app logs at info level
    pump = threading.Thread(target=_pump, args=(read_end, terminal, log), name="native-stderr", daemon=True)
    pump.start()
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
            sys.stderr.close()
        sys.stderr = python_stderr
        os.dup2(terminal, 2)
        # Processes that outlive the block (multiprocessing's resource tracker) keep the pipe open, so
        # the pump cannot wait for its end: it stops at a marker written after everything of ours.
        with contextlib.suppress(OSError):
            os.write(write_end, _END)
        os.close(write_end)
        pump.join(timeout=2.0)
        if not pump.is_alive():
            os.close(terminal)


_END = b"\0dyadlab-native-log-end\n"


def _pump(read_end: int, terminal: int, log: logging.Logger) -> None:
    pending = b""
    with contextlib.suppress(OSError):
        while chunk := os.read(read_end, 65536):
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                if line + b"\n" == _END:
                    return  # the read end stays open for late writers until the process ends
                _route(line, terminal, log)
        if pending:
            _route(pending, terminal, log)
        os.close(read_end)


def _route(line: bytes, terminal: int, log: logging.Logger) -> None:
    level, show = sort_native_line(line)
    if level > logging.DEBUG or not show:
        log.log(level, "%s", line.decode("utf-8", errors="replace").rstrip("\r"))
    if show:
        with contextlib.suppress(OSError):
            os.write(terminal, line + b"\n")
