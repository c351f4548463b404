"""How a time reads wherever the user sees one: the transport clock, the ruler, the palette, status messages.

In ``core`` (plain Python, no Qt) so that rules which speak to the user in times, such as a drag clipped at a
neighbouring segment, can word their message without a widget.
"""

from __future__ import annotations


def format_time(seconds: float, *, precision: int = 3) -> str:
    """``[h:]m:ss[.fff]`` of ``seconds``, rounded to ``precision`` decimals *before* it is split into hours,
    minutes and seconds: a time just under a minute reads 1:00.000, never 0:60.000."""
    units = round(abs(seconds) * 10**precision)  # whole units of the last digit shown
    sign = "-" if seconds < 0 and units else ""
    whole, fraction = divmod(units, 10**precision)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    body = f"{minutes:d}:{secs:02d}" + (f".{fraction:0{precision}d}" if precision else "")
    return f"{sign}{hours:d}:{body.zfill(len(body) + 1) if minutes < 10 else body}" if hours else sign + body
