"""Several clients opening the same fresh server database at once: exactly one creates the schema.

Why: when a team starts, everyone opens the new project at about the same moment. Without serialising,
each client sees an empty database and runs the migrations; all but one then fail on tables that the other
is half-way through creating ("relation already exists" or a unique violation in the catalog). Each client
here is its own OS process with its own connection, started together at a file barrier, as in real use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from dyadlab.core.store.migrations.versions import HEAD_REVISION

CLIENTS = 4
# One client: import first (slow, and not what races), meet the others at the barrier, then open the store.
CLIENT = """
import json, sys, time
from pathlib import Path
from dyadlab.core.store import Store
url, folder, me, n = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
(folder / f"ready-{me}").touch()
deadline = time.monotonic() + 60
while len(list(folder.glob("ready-*"))) < n:
    if time.monotonic() > deadline:
        raise TimeoutError("the other clients never got ready")
    time.sleep(0.0005)
try:
    store = Store(url)
except Exception as exc:
    print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
else:
    print(json.dumps({"revision": store.revision}))
    store.close()
"""


def test_clients_opening_a_fresh_database_together_all_get_the_schema(server_url: str, tmp_path: Path) -> None:
    clients = [subprocess.Popen([sys.executable, "-c", CLIENT, server_url, str(tmp_path), str(i), str(CLIENTS)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
               for i in range(CLIENTS)]
    results = []
    for client in clients:
        out, err = client.communicate(timeout=180)
        assert client.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert results == [{"revision": HEAD_REVISION}] * CLIENTS
    engine = create_engine(server_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD_REVISION]
            assert conn.execute(text("SELECT COUNT(*) FROM segments")).scalar_one() == 0
    finally:
        engine.dispose()
