"""Start several client processes at the same instant: the racing tests' barrier, one copy.

Each client is a ``python -c`` script (importing first is slow and not what races); ``BARRIER`` is the
piece of it that waits. It expects ``folder`` (a ``Path`` shared by the clients), ``me`` (this client's
name) and ``n`` (how many clients) to be defined, and returns once all ``n`` have arrived.
"""

BARRIER = """
(folder / f"ready-{me}").touch()
deadline = time.monotonic() + 60
while len(list(folder.glob("ready-*"))) < n:
    if time.monotonic() > deadline:
        raise TimeoutError("the other clients never got ready")
    time.sleep(0.0005)
"""
