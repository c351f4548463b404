"""What an FFmpeg (PyAV) error says, in words a user can read.

Why: ``str()`` of PyAV's errors is ``[Errno 1094995529] Invalid data found when processing input: '/path'``
— a negative-tag errno as a huge number, then the path that DyadLab's own error already names. The message
shown in a view, ``dyadlab info`` or an import report keeps only FFmpeg's sentence.
"""

from __future__ import annotations


def av_reason(exc: BaseException) -> str:
    """FFmpeg's own sentence for ``exc`` (an av.error.FFmpegError); ``str(exc)`` for any other error."""
    strerror = getattr(exc, "strerror", None)
    if isinstance(strerror, str) and strerror:
        return strerror[0].lower() + strerror[1:]
    return str(exc)
