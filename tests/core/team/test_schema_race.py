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

from ...builders.barrier import BARRIER

CLIENTS = 4
# One client: import first (slow, and not what races), meet the others at the barrier, then open the store.
CLIENT = """
import json, sys, time
from pathlib import Path
from dyadlab.core.store import Store
url, folder, me, n = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
""" + BARRIER + """try:
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


# The same, one level up: every client creates its own project folder on the one fresh server database, as
# a team does when each member runs `dyadlab import`/`create` against the shared server at the same time —
# the schema, the project's name and the shipped label schemes are each written exactly once.
PROJECT_CLIENT = CLIENT.replace("from dyadlab.core.store import Store", "from dyadlab.core.project import create_project") \
    .replace("""    store = Store(url)
except Exception as exc:
    print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
else:
    print(json.dumps({"revision": store.revision}))
    store.close()""", """    project = create_project(folder / f"project-{me}", name=f"team-{me}", database=url)
except Exception as exc:
    print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
else:
    with project.store.transaction() as tx:
        print(json.dumps({"schemes": sorted(s.name for s in tx.schemes.list()), "name": tx.settings.get("name")}))
    project.close()""")


def test_team_members_creating_projects_on_a_fresh_database_together(server_url: str, tmp_path: Path) -> None:
    from dyadlab.core.labels.schemes import load_scheme_file, shipped_scheme_files

    assert PROJECT_CLIENT != CLIENT and "create_project" in PROJECT_CLIENT and "Store(url)" not in PROJECT_CLIENT
    clients = [subprocess.Popen([sys.executable, "-c", PROJECT_CLIENT, server_url, str(tmp_path), str(i),
                                 str(CLIENTS)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=os.environ.copy()) for i in range(CLIENTS)]
    results = []
    for client in clients:
        out, err = client.communicate(timeout=180)
        assert client.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    shipped = sorted(load_scheme_file(f)[0] for f in shipped_scheme_files())
    assert all("error" not in r for r in results), results
    assert all(r["schemes"] == shipped for r in results)
    assert len({r["name"] for r in results}) == 1  # the first one to write it named the shared project
