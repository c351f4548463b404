"""What a team project's PostgreSQL server enforces itself: row-level security, accounts, a change log.

Why on the server: in team mode every annotator's DyadLab connects straight to the database, so a rule
checked only inside DyadLab is no rule for someone with psql and an annotator's password. This module
holds the SQL that makes the server keep the rule table (``rules.py``) on its own:

- ``dyadlab_rules``: the server's copy of ``rules.RULES``, one row per table, role and write action
  (rewritten on every install), read by ``dyadlab_may``, the one SQL function that decides a row like
  ``rules.permits`` does. Its table comment holds ``fingerprint()`` of the install, so a client can tell
  when the server's rules are not the ones it greys its controls by (``installed_fingerprint``).
- Row-level security on every table in the rule table: everyone with an account reads; each write
  action has its own policy, which passes only when ``dyadlab_may`` says so for that action on the
  *old* row (USING) and the *new* one (WITH CHECK). The caller is ``current_user``, mapped to an account
  by ``annotators.login``: a client never says who it is. The table owner (the project's service login:
  migrations, imports, inference) is not subject to the policies.
- Accounts: per project, three NOLOGIN group roles (annotator, reviewer, admin) hold the table grants
  (also derived from the rule table: a role gets INSERT, UPDATE or DELETE on a table only where its
  scope for that action is not "none", and UPDATE only of the rule's columns where it names some); ``dyadlab_add_account`` / ``dyadlab_set_account_role`` / ``dyadlab_remove_account`` (SECURITY
  DEFINER, for the owner and the project's admins) create the login role, put it in its group and write
  the annotator row, in one transaction. Role changes and removals act on the next statement of every
  open connection, because every policy reads the account row.
- ``change_log``: written only by triggers (SECURITY DEFINER) on every audited table — who
  (``session_user`` and the account), when (server clock), what (table, operation, key, the row before
  and after) — and readable by accounts, writable by no one but the owner. At commit each entry is
  sealed into a SHA-256 hash chain (``seal_no``, ``prev_hash``, ``hash``), so an edit or deletion inside
  the log, even by the owner, shows up in ``dyadlab team log --verify``. The same triggers send the
  ``NOTIFY`` that wakes other clients' change watchers.

``install(conn)`` (run by migrations, as the owner) is idempotent: the change log kept (created if
missing), the rule table and every ``dyadlab_*`` function dropped and recreated (so no function of an
older install survives with its old arguments), policies and triggers recreated, grants re-applied when
the group roles exist.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from dyadlab.core.store.rules import AUDITED, RULES, WRITES, Op, Role, Rule

RULES_TABLE = "dyadlab_rules"
CHANGE_LOG = "change_log"
#: Tables only a server project has; ``schema.Base`` (and project copies) leave them out.
SERVER_ONLY_TABLES = frozenset({RULES_TABLE, CHANGE_LOG})
NOTIFY_CHANNEL = "dyadlab_segments"  # what ``changes.ChangeWatcher`` listens on
_NOTIFYING = ("segments", "tiers")
# pg_advisory_xact_lock key serialising the sealing of change-log entries at commit: "dyadlog\0".
SEAL_LOCK_KEY = 0x6479_6164_6C6F_6700

#: Primary key columns of each audited table (the change log's ``row_key``).
_KEYS = {"settings": ("key",), "series_blocks": ("series_id", "block")}

#: Per table, the policy expression deciding whether the caller may ``{op}`` a row (columns of that row).
_WRITE_CHECK = {
    "tiers": "dyadlab_may_owner(current_user, '{t}', '{op}', annotator_id, read_only)",
    "segments": "dyadlab_may_tier(current_user, '{t}', '{op}', tier_id)",
    "series": "dyadlab_may_series(current_user, '{t}', '{op}', tier_id, annotator_id, model_id)",
    "series_blocks": "dyadlab_may_block(current_user, '{t}', '{op}', series_id)",
    "annotators": "dyadlab_may(current_user, '{t}', '{op}', id, kind, false)",
}
# An InitPlan: evaluated once per statement.
_NO_OWNER_CHECK = "(SELECT dyadlab_may(current_user, '{t}', '{op}', NULL, NULL, false))"
_MEMBER_CHECK = "(SELECT dyadlab_account_role(current_user) IS NOT NULL)"


def _functions(schema: str) -> str:
    definer = f"SECURITY DEFINER SET search_path = {schema}, pg_temp"
    return f"""
CREATE OR REPLACE FUNCTION dyadlab_account_role(p_login name) RETURNS text
LANGUAGE sql STABLE {definer} AS $$
  SELECT role FROM annotators WHERE login = p_login AND kind = 'human'
$$;

CREATE OR REPLACE FUNCTION dyadlab_may(p_login name, p_table text, p_op text, p_owner integer,
                                       p_owner_kind text, p_locked boolean) RETURNS boolean
LANGUAGE sql STABLE {definer} AS $$
  SELECT COALESCE((
    SELECT CASE r.scope
      WHEN 'all' THEN true
      WHEN 'own' THEN p_owner = me.id AND p_owner_kind IN ('human', 'gold') AND NOT p_locked
      WHEN 'gold' THEN p_owner_kind = 'gold' AND NOT p_locked
      WHEN 'human' THEN p_owner_kind IN ('human', 'gold') AND NOT p_locked
      ELSE false END
    FROM annotators me JOIN {RULES_TABLE} r ON r.role = me.role AND r.table_name = p_table AND r.op = p_op
    WHERE me.login = p_login AND me.kind = 'human'), false)
$$;

CREATE OR REPLACE FUNCTION dyadlab_may_owner(p_login name, p_table text, p_op text, p_owner integer,
                                             p_locked boolean) RETURNS boolean
LANGUAGE sql STABLE {definer} AS $$
  SELECT dyadlab_may(p_login, p_table, p_op, p_owner, (SELECT kind FROM annotators WHERE id = p_owner),
                     COALESCE(p_locked, false))
$$;

CREATE OR REPLACE FUNCTION dyadlab_may_tier(p_login name, p_table text, p_op text, p_tier integer)
RETURNS boolean LANGUAGE sql STABLE {definer} AS $$
  SELECT COALESCE((SELECT dyadlab_may_owner(p_login, p_table, p_op, t.annotator_id, t.read_only)
                   FROM tiers t WHERE t.id = p_tier), false)
$$;

CREATE OR REPLACE FUNCTION dyadlab_may_series(p_login name, p_table text, p_op text, p_tier integer,
                                              p_annotator integer, p_model integer) RETURNS boolean
LANGUAGE sql STABLE {definer} AS $$
  SELECT CASE WHEN p_tier IS NOT NULL THEN
      COALESCE((SELECT dyadlab_may_owner(p_login, p_table, p_op, t.annotator_id,
                                         t.read_only OR p_model IS NOT NULL)
                FROM tiers t WHERE t.id = p_tier), false)
    ELSE dyadlab_may_owner(p_login, p_table, p_op, p_annotator, p_model IS NOT NULL) END
$$;

CREATE OR REPLACE FUNCTION dyadlab_may_block(p_login name, p_table text, p_op text, p_series integer)
RETURNS boolean LANGUAGE sql STABLE {definer} AS $$
  SELECT COALESCE((SELECT dyadlab_may_series(p_login, p_table, p_op, s.tier_id, s.annotator_id, s.model_id)
                   FROM series s WHERE s.id = p_series), false)
$$;

CREATE OR REPLACE FUNCTION dyadlab_group(p_role text) RETURNS name
LANGUAGE sql STABLE AS $$
  SELECT (CASE WHEN length('dyadlab_' || current_database() || '_' || p_role) <= 63
               THEN 'dyadlab_' || current_database() || '_' || p_role
               ELSE 'dyadlab_' || substr(md5(current_database()), 1, 16) || '_' || p_role END)::name
$$;

CREATE OR REPLACE FUNCTION dyadlab_is_owner(p_login name) RETURNS boolean
LANGUAGE sql STABLE {definer} AS $$
  SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_roles o ON o.oid = c.relowner
                 WHERE c.oid = 'annotators'::regclass AND o.rolname = p_login)
$$;

-- Create the three group roles when asked (needs CREATEROLE) and grant each what the rule table allows.
CREATE OR REPLACE FUNCTION dyadlab_apply_grants(p_create boolean) RETURNS boolean
LANGUAGE plpgsql {definer} AS $$
DECLARE
  g name; rl text; r record; seq text;
BEGIN
  FOREACH rl IN ARRAY ARRAY[{", ".join(f"'{r.value}'" for r in Role)}] LOOP
    g := dyadlab_group(rl);
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = g) THEN
      IF NOT p_create THEN RETURN false; END IF;
      EXECUTE format('CREATE ROLE %I NOLOGIN', g);
    END IF;
    EXECUTE format('GRANT SELECT ON alembic_version, {RULES_TABLE}, {CHANGE_LOG} TO %I', g);
    BEGIN
      EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), g);
    EXCEPTION WHEN insufficient_privilege THEN NULL;  -- the database's owner is someone else: they grant it
    END;
  END LOOP;
  -- Start from reading only (revoking a table's UPDATE also revokes its column UPDATE grants) ...
  FOR r IN SELECT DISTINCT table_name, role FROM {RULES_TABLE} LOOP
    g := dyadlab_group(r.role);
    EXECUTE format('GRANT SELECT ON %I TO %I', r.table_name, g);
    EXECUTE format('REVOKE INSERT, UPDATE, DELETE ON %I FROM %I', r.table_name, g);
  END LOOP;
  -- ... then grant each write action whose scope is not 'none', an UPDATE only of the rule's columns.
  FOR r IN SELECT table_name, role, op, columns FROM {RULES_TABLE} WHERE scope <> 'none' LOOP
    g := dyadlab_group(r.role);
    IF r.op = 'update' AND r.columns IS NOT NULL THEN
      EXECUTE format('GRANT UPDATE (%s) ON %I TO %I',
                     (SELECT string_agg(quote_ident(c), ', ') FROM unnest(r.columns) c), r.table_name, g);
    ELSE
      EXECUTE format('GRANT %s ON %I TO %I', upper(r.op), r.table_name, g);
    END IF;
    IF r.op = 'insert' AND EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()
                                   AND table_name = r.table_name AND column_name = 'id') THEN
      seq := pg_get_serial_sequence(quote_ident(r.table_name), 'id');
      IF seq IS NOT NULL THEN
        EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO %I', seq, g);
      END IF;
    END IF;
  END LOOP;
  BEGIN  -- only the project's accounts (and the owner) may connect at all
    EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', current_database());
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
  RETURN true;
END $$;

CREATE OR REPLACE FUNCTION dyadlab_require_admin() RETURNS void
LANGUAGE plpgsql STABLE {definer} AS $$
BEGIN
  -- session_user: inside a SECURITY DEFINER function current_user is the owner, not the caller.
  IF NOT dyadlab_is_owner(session_user) AND dyadlab_account_role(session_user) IS DISTINCT FROM 'admin' THEN
    RAISE EXCEPTION 'only the project owner or an admin may manage accounts (you are %)', session_user
      USING ERRCODE = 'insufficient_privilege';
  END IF;
END $$;

CREATE OR REPLACE FUNCTION dyadlab_keep_an_admin(p_leaving integer) RETURNS void
LANGUAGE plpgsql {definer} AS $$
BEGIN
  PERFORM id FROM annotators WHERE kind = 'human' AND role = 'admin' AND login IS NOT NULL FOR UPDATE;
  IF NOT EXISTS (SELECT 1 FROM annotators WHERE kind = 'human' AND role = 'admin' AND login IS NOT NULL
                 AND id <> p_leaving) THEN
    RAISE EXCEPTION 'this is the last admin account; make someone else admin first'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
END $$;

CREATE OR REPLACE FUNCTION dyadlab_set_group(p_login name, p_role text) RETURNS void
LANGUAGE plpgsql {definer} AS $$
DECLARE rl text;
BEGIN
  FOREACH rl IN ARRAY ARRAY[{", ".join(f"'{r.value}'" for r in Role)}] LOOP
    IF rl = p_role THEN
      EXECUTE format('GRANT %I TO %I', dyadlab_group(rl), p_login);
    ELSIF pg_has_role(p_login, dyadlab_group(rl), 'MEMBER') THEN
      EXECUTE format('REVOKE %I FROM %I', dyadlab_group(rl), p_login);
    END IF;
  END LOOP;
END $$;

-- A person's account: the login role (created when missing; p_password is a SCRAM verifier or NULL),
-- its group, and the annotator row it maps to (an existing person's row of that name is linked).
CREATE OR REPLACE FUNCTION dyadlab_add_account(p_name text, p_role text, p_password text) RETURNS integer
LANGUAGE plpgsql {definer} AS $$
DECLARE row_id integer; row_kind text; row_login text;
BEGIN
  PERFORM dyadlab_require_admin();
  IF p_role NOT IN ({", ".join(f"'{r.value}'" for r in Role)}) THEN
    RAISE EXCEPTION 'unknown role %', p_role USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF EXISTS (SELECT 1 FROM annotators WHERE login = p_name) THEN
    RAISE EXCEPTION 'the account % already exists in this project', p_name USING ERRCODE = 'unique_violation';
  END IF;
  SELECT id, kind, login INTO row_id, row_kind, row_login FROM annotators WHERE name = p_name FOR UPDATE;
  IF row_id IS NOT NULL AND row_kind <> 'human' THEN
    RAISE EXCEPTION '% is a % annotator, not a person; choose another account name', p_name, row_kind
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM dyadlab_apply_grants(true);
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_name) THEN
    IF p_password IS NULL THEN
      EXECUTE format('CREATE ROLE %I LOGIN', p_name);
    ELSE
      EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', p_name, p_password);
    END IF;
  ELSIF p_password IS NOT NULL THEN
    EXECUTE format('ALTER ROLE %I PASSWORD %L', p_name, p_password);
  END IF;
  PERFORM dyadlab_set_group(p_name, p_role);
  IF row_id IS NULL THEN
    INSERT INTO annotators (name, kind, role, login, created_at)
      VALUES (p_name, 'human', p_role, p_name, timezone('UTC', now())) RETURNING id INTO row_id;
  ELSE
    UPDATE annotators SET role = p_role, login = p_name WHERE id = row_id;
  END IF;
  RETURN row_id;
END $$;

CREATE OR REPLACE FUNCTION dyadlab_set_account_role(p_name text, p_role text) RETURNS void
LANGUAGE plpgsql {definer} AS $$
DECLARE row_id integer; old_role text;
BEGIN
  PERFORM dyadlab_require_admin();
  IF p_role NOT IN ({", ".join(f"'{r.value}'" for r in Role)}) THEN
    RAISE EXCEPTION 'unknown role %', p_role USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT id, role INTO row_id, old_role FROM annotators WHERE login = p_name FOR UPDATE;
  IF row_id IS NULL THEN
    RAISE EXCEPTION 'no account % in this project', p_name USING ERRCODE = 'no_data_found';
  END IF;
  IF old_role = 'admin' AND p_role <> 'admin' THEN PERFORM dyadlab_keep_an_admin(row_id); END IF;
  PERFORM dyadlab_apply_grants(true);
  PERFORM dyadlab_set_group(p_name, p_role);
  UPDATE annotators SET role = p_role WHERE id = row_id;
END $$;

-- The annotator row stays (its labels keep their author); the login loses the project at once.
CREATE OR REPLACE FUNCTION dyadlab_remove_account(p_name text) RETURNS void
LANGUAGE plpgsql {definer} AS $$
DECLARE row_id integer; old_role text; rl text;
BEGIN
  PERFORM dyadlab_require_admin();
  SELECT id, role INTO row_id, old_role FROM annotators WHERE login = p_name FOR UPDATE;
  IF row_id IS NULL THEN
    RAISE EXCEPTION 'no account % in this project', p_name USING ERRCODE = 'no_data_found';
  END IF;
  IF old_role = 'admin' THEN PERFORM dyadlab_keep_an_admin(row_id); END IF;
  UPDATE annotators SET login = NULL WHERE id = row_id;
  FOREACH rl IN ARRAY ARRAY[{", ".join(f"'{r.value}'" for r in Role)}] LOOP
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = dyadlab_group(rl))
       AND pg_has_role(p_name, dyadlab_group(rl), 'MEMBER') THEN
      EXECUTE format('REVOKE %I FROM %I', dyadlab_group(rl), p_name);
    END IF;
  END LOOP;
END $$;

-- The change log: one entry per changed row, written here and nowhere else.
CREATE OR REPLACE FUNCTION dyadlab_audit() RETURNS trigger
LANGUAGE plpgsql {definer} AS $$
DECLARE
  old_values jsonb; new_values jsonb; key jsonb := '{{}}'::jsonb; col text;
BEGIN
  IF TG_OP <> 'INSERT' THEN old_values := to_jsonb(OLD); END IF;
  IF TG_OP <> 'DELETE' THEN new_values := to_jsonb(NEW); END IF;
  IF TG_TABLE_NAME = 'series_blocks' THEN  -- frame blocks: their digest, not ~100 kB of hex per edit
    IF old_values IS NOT NULL THEN
      old_values := old_values - 'data' || jsonb_build_object('data_sha256', encode(sha256(OLD.data), 'hex'));
    END IF;
    IF new_values IS NOT NULL THEN
      new_values := new_values - 'data' || jsonb_build_object('data_sha256', encode(sha256(NEW.data), 'hex'));
    END IF;
  END IF;
  FOREACH col IN ARRAY TG_ARGV LOOP
    key := key || jsonb_build_object(col, COALESCE(new_values, old_values) -> col);
  END LOOP;
  INSERT INTO {CHANGE_LOG} (login, annotator_id, table_name, op, row_key, old_values, new_values)
  VALUES (session_user, (SELECT id FROM annotators WHERE login = session_user AND kind = 'human'),
          TG_TABLE_NAME, lower(TG_OP), key, old_values, new_values);
  IF TG_TABLE_NAME IN ({", ".join(f"'{t}'" for t in _NOTIFYING)}) THEN
    PERFORM pg_notify('{NOTIFY_CHANNEL}', '');  -- delivered at commit, once per transaction
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION dyadlab_entry_text(e {CHANGE_LOG}) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT concat_ws('|', e.id, extract(epoch FROM e.at), e.txid, e.login, e.annotator_id, e.table_name, e.op,
                   e.row_key::text, e.old_values::text, e.new_values::text)
$$;

CREATE OR REPLACE FUNCTION dyadlab_entry_hash(prev text, e {CHANGE_LOG}) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT encode(sha256(convert_to(COALESCE(prev, '') || '|' || dyadlab_entry_text(e), 'UTF8')), 'hex')
$$;

-- At commit: chain this transaction's entries after the last sealed one (a short critical section).
CREATE OR REPLACE FUNCTION dyadlab_seal() RETURNS trigger
LANGUAGE plpgsql {definer} AS $$
DECLARE e {CHANGE_LOG}; last_no bigint; last_hash text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM {CHANGE_LOG} WHERE id = NEW.id AND hash IS NULL) THEN
    RETURN NULL;  -- sealed with an earlier entry of this transaction
  END IF;
  PERFORM pg_advisory_xact_lock({SEAL_LOCK_KEY});
  SELECT seal_no, hash INTO last_no, last_hash FROM {CHANGE_LOG} WHERE seal_no IS NOT NULL
    ORDER BY seal_no DESC LIMIT 1;
  FOR e IN SELECT * FROM {CHANGE_LOG} WHERE txid = NEW.txid AND hash IS NULL ORDER BY id LOOP
    last_no := COALESCE(last_no, 0) + 1;
    UPDATE {CHANGE_LOG} SET seal_no = last_no, prev_hash = last_hash, hash = dyadlab_entry_hash(last_hash, e)
      WHERE id = e.id;
    last_hash := dyadlab_entry_hash(last_hash, e);
  END LOOP;
  RETURN NULL;
END $$;
"""


# Every dyadlab_* function of the project's schema, with whatever arguments an older install gave it; CASCADE
# takes the policies and triggers that call them along (``statements`` recreates them).
_DROP_FUNCTIONS = r"""
DO $$
DECLARE f text;
BEGIN
  FOR f IN SELECT p.oid::regprocedure::text FROM pg_proc p
           WHERE p.proname LIKE 'dyadlab\_%' AND p.pronamespace = current_schema()::regnamespace LOOP
    EXECUTE 'DROP FUNCTION IF EXISTS ' || f || ' CASCADE';
  END LOOP;
END $$"""

_TABLES = f"""
DROP TABLE IF EXISTS {RULES_TABLE};
CREATE TABLE {RULES_TABLE} (
  table_name text NOT NULL,
  role text NOT NULL,
  op text NOT NULL,
  scope text NOT NULL,
  columns text[],
  PRIMARY KEY (table_name, role, op)
);
CREATE TABLE IF NOT EXISTS {CHANGE_LOG} (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  txid bigint NOT NULL DEFAULT txid_current(),
  login text NOT NULL,
  annotator_id integer,
  table_name text NOT NULL,
  op text NOT NULL,
  row_key jsonb NOT NULL,
  old_values jsonb,
  new_values jsonb,
  seal_no bigint UNIQUE,
  prev_hash text,
  hash text
);
CREATE INDEX IF NOT EXISTS ix_change_log_unsealed ON {CHANGE_LOG} (txid) WHERE hash IS NULL;
"""


_POLICIES = ("dyadlab_read", "dyadlab_insert", "dyadlab_update", "dyadlab_delete")


def _policies(table: str) -> list[str]:
    check = {op: (_WRITE_CHECK.get(table) or _NO_OWNER_CHECK).format(t=table, op=op.value) for op in WRITES}
    statements = [f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"]
    statements += [f"DROP POLICY IF EXISTS {name} ON {table}" for name in _POLICIES]
    statements += [
        f"CREATE POLICY dyadlab_read ON {table} FOR SELECT USING ({_MEMBER_CHECK})",
        f"CREATE POLICY dyadlab_insert ON {table} FOR INSERT WITH CHECK ({check['insert']})",
        f"CREATE POLICY dyadlab_update ON {table} FOR UPDATE USING ({check['update']}) WITH CHECK ({check['update']})",
        f"CREATE POLICY dyadlab_delete ON {table} FOR DELETE USING ({check['delete']})",
    ]
    return statements


def _audit_trigger(table: str) -> list[str]:
    keys = ", ".join(f"'{k}'" for k in _KEYS.get(table, ("id",)))
    return [f"DROP TRIGGER IF EXISTS dyadlab_audit ON {table}",
            f"CREATE TRIGGER dyadlab_audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION dyadlab_audit({keys})"]


def statements(schema: str) -> list[str]:
    """Every statement of an install, in order (``schema``: where the project's tables are)."""
    out = [_DROP_FUNCTIONS, _TABLES, _functions(schema)]
    out += [f"INSERT INTO {RULES_TABLE} (table_name, role, op, scope, columns) VALUES "
            + ", ".join(f"('{table}', '{role.value}', '{op.value}', '{rule.scope(op).value}', {_sql_columns(rule, op)})"
                        for table, by_role in RULES.items() for role, rule in by_role.items() for op in WRITES)]
    for table in RULES:
        out += _policies(table)
    for table in AUDITED:
        out += _audit_trigger(table)
    out += [f"ALTER TABLE {CHANGE_LOG} ENABLE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS dyadlab_read ON {CHANGE_LOG}",
            f"CREATE POLICY dyadlab_read ON {CHANGE_LOG} FOR SELECT USING ({_MEMBER_CHECK})",
            f"ALTER TABLE {RULES_TABLE} ENABLE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS dyadlab_read ON {RULES_TABLE}",
            f"CREATE POLICY dyadlab_read ON {RULES_TABLE} FOR SELECT USING (true)",
            f"REVOKE ALL ON {CHANGE_LOG}, {RULES_TABLE} FROM PUBLIC",
            f"DROP TRIGGER IF EXISTS dyadlab_seal ON {CHANGE_LOG}",
            f"CREATE CONSTRAINT TRIGGER dyadlab_seal AFTER INSERT ON {CHANGE_LOG} DEFERRABLE INITIALLY DEFERRED "
            "FOR EACH ROW EXECUTE FUNCTION dyadlab_seal()"]
    # The account functions check the caller themselves; creating the group roles is the owner's (and theirs).
    out.append("REVOKE ALL ON FUNCTION dyadlab_apply_grants(boolean) FROM PUBLIC")
    out.append("SELECT dyadlab_apply_grants(false)")  # the groups exist already: a new table gets its grants
    return out


def _sql_columns(rule: Rule, op: Op) -> str:
    if op is not Op.UPDATE or rule.columns is None:
        return "NULL"
    return "ARRAY[" + ", ".join(f"'{c}'" for c in sorted(rule.columns)) + "]::text[]"


def install(conn: Connection) -> None:
    """Install or refresh the server's rules on ``conn`` (PostgreSQL, as the tables' owner, in its transaction),
    and record what was installed (``installed_fingerprint``)."""
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    _run(conn, [*statements(schema), f"COMMENT ON TABLE {RULES_TABLE} IS '{_FINGERPRINT_TAG}{fingerprint()}'"])


_FINGERPRINT_TAG = "dyadlab server rules "


def installed_fingerprint(conn: Connection) -> str | None:
    """The ``fingerprint()`` of the rules installed on the server ``conn`` reaches (None: before any install
    recorded one). A client whose own ``fingerprint()`` differs greys its controls by other rules than the
    server enforces."""
    comment = conn.execute(text(f"SELECT obj_description(to_regclass('{RULES_TABLE}'), 'pg_class')")).scalar()
    return comment[len(_FINGERPRINT_TAG):] if comment and comment.startswith(_FINGERPRINT_TAG) else None


def require_owner(conn: Connection, what: str) -> None:
    """Refuse clearly, before anything changes, when ``conn``'s login does not own the project's tables —
    only the owner may change policies, grants and functions (a migration ``what``)."""
    login, owner = conn.execute(text(
        "SELECT current_user, pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass('annotators')")).one()
    if login != owner:
        from dyadlab.core.errors import StoreError

        raise StoreError(f"this DyadLab must first bring the project's server up to date ({what}), which only "
                         f"the project owner {owner!r} may do; you are connected as {login!r}",
                         hint=f"ask the lab admin to open the project once as {owner!r} with this DyadLab "
                              "(e.g. `dyadlab info PROJECT`), then open it again")


def _run(conn: Connection, sql: list[str]) -> None:
    # The DB-API cursor without parameters: psycopg then leaves the ``%I`` of format() alone.
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        for statement in sql:
            cursor.execute(statement)
    finally:
        cursor.close()



def uninstall(conn: Connection) -> None:
    """Undo ``install`` (a downgrade): policies, triggers, functions and the server-only tables go.

    The group and login roles stay: they belong to the cluster, and a person may use them elsewhere.
    """
    sql = []
    for table in RULES:
        sql += [f"DROP POLICY IF EXISTS {name} ON {table}" for name in _POLICIES]
        sql.append(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    sql += [f"DROP TRIGGER IF EXISTS dyadlab_audit ON {table}" for table in AUDITED]
    sql += [f"DROP TABLE IF EXISTS {CHANGE_LOG}, {RULES_TABLE} CASCADE", _DROP_FUNCTIONS]  # with their functions' types
    _run(conn, sql)


def fingerprint() -> str:
    """A digest of everything ``install`` does. The newest migration that installs the rules records it
    (``SERVER_RULES``); a test fails when the rules or their SQL change without a new such migration, which
    is what brings an existing server up to date."""
    import hashlib

    return hashlib.sha256("\n".join(statements("public")).encode()).hexdigest()[:16]
