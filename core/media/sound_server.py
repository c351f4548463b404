"""A private PulseAudio server with a null sink, so the real Qt audio output can run on machines without sound.

Qt Multimedia (6.12, FFmpeg backend) plays sound on Linux through the PulseAudio client library; a
PipeWire desktop answers the same protocol. A sound server with no hardware still runs a real output
stream: ``module-null-sink`` consumes samples in real time on its own clock, so ``QAudioSink`` pulls
data, reports its processed position and pauses exactly as on a sound card, and what it plays can be
recorded from the sink's monitor. Tests and ``bench/media.py`` start one here; the app never does.

The server is the Debian ``pulseaudio`` daemon run as a plain foreground process in a temp dir (its
socket, runtime dir and HOME there): no session bus, no systemd, no autospawn, and it works as root
(``--system=no`` with a private runtime path; root only gets a warning). ``norewinds=1`` matters: with
rewinds on, an idle null sink sleeps on a 2 s timer and a new stream stays silent until it wakes
(measured 0.2–2.0 s before the first sample plays); without rewinds playback starts within ~15 ms.
The sink works in float32 like ``QtAudioSink``, so its monitor (``monitor_source``) records exactly the
samples that were played.
Clients reach it through the environment in ``env`` (``PULSE_SERVER``), which must be set before Qt
first touches audio in that process (Qt connects once, on the first ``QMediaDevices`` use).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from dyadlab.core.errors import MediaError

SINK_NAME = "dyadlab_null"


class SoundServerError(MediaError):
    """The null sound server cannot be started (not installed, or it exited)."""


class NullSoundServer:
    """A PulseAudio daemon with one null sink at ``sample_rate``, living in a temp dir until ``stop``.

    Use as a context manager, or ``start()``/``stop()``. ``env`` holds the variables a client process
    needs (merge them into ``os.environ`` or a subprocess's environment).
    """

    def __init__(self, sample_rate: int = 48_000, *, start_timeout: float = 10.0) -> None:
        self.sample_rate = sample_rate
        self.start_timeout = start_timeout
        self.directory: Path | None = None
        self._process: subprocess.Popen | None = None
        self._exit_code: int | None = None

    @property
    def socket_path(self) -> Path:
        if self.directory is None:
            raise SoundServerError("the null sound server is not started")
        return self.directory / "native"

    @property
    def env(self) -> dict[str, str]:
        """Client environment: the server's socket, and no autospawn of a user daemon."""
        return {"PULSE_SERVER": f"unix:{self.socket_path}", "PULSE_RUNTIME_PATH": str(self.directory),
                "PULSE_SINK": SINK_NAME}

    @property
    def monitor_source(self) -> str:
        """The source that records what the null sink plays (``parec -d``)."""
        return f"{SINK_NAME}.monitor"

    @property
    def log(self) -> str:
        path = self.directory / "pulseaudio.log" if self.directory else None
        return path.read_text(errors="replace") if path is not None and path.exists() else ""

    def start(self) -> NullSoundServer:
        exe = shutil.which("pulseaudio")
        if exe is None:
            raise SoundServerError("the `pulseaudio` program is not installed, so the real audio output cannot run",
                                   hint="install the Debian package pulseaudio (`make apt` does)")
        self.directory = Path(tempfile.mkdtemp(prefix="dyadlab-pulse-"))
        env = {**os.environ, "HOME": str(self.directory), "XDG_RUNTIME_DIR": str(self.directory),
               "PULSE_RUNTIME_PATH": str(self.directory)}
        command = [exe, "-n", "--daemonize=no", "--system=no", "--use-pid-file=no", "--exit-idle-time=-1",
                   "--log-target=stderr",
                   "-L", f"module-null-sink sink_name={SINK_NAME} rate={self.sample_rate} format=float32le norewinds=1",
                   "-L", f"module-native-protocol-unix auth-anonymous=1 socket={self.socket_path}"]
        with open(self.directory / "pulseaudio.log", "wb") as log:
            self._process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + self.start_timeout
        while not self._accepts_connections():
            if self._process.poll() is not None or time.monotonic() > deadline:
                log_text = self.log
                self.stop()
                raise SoundServerError(f"pulseaudio did not start (exit code {self._exit_code}): "
                                       f"{log_text.strip()[-800:] or 'no output'}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Terminate the daemon (SIGTERM, then SIGKILL after 5 s) and delete its directory."""
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(5)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            self._exit_code = self._process.returncode
            self._process = None
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def _accepts_connections(self) -> bool:
        if not self.socket_path.exists():
            return False
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(self.socket_path))
            except OSError:
                return False
        return True

    def __enter__(self) -> NullSoundServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
