"""Alembic revision scripts of the project schema, oldest first.

``HEAD_REVISION`` is the newest of them. Opening a project compares the database's stamp with it, so the
usual open (a database already at head) needs neither Alembic nor a scan of this folder — building
Alembic's ``ScriptDirectory`` imports every revision module and cost a fresh process ~0.3 s. A unit test
checks it against Alembic's own head: adding a migration without updating it fails that test.
"""

HEAD_REVISION = "0004"
