-- Roles and identity: who is acting is the database's knowledge, not the client's claim.
--
-- Group roles (the cluster's; created once, kept by the downgrade):
--   salesengine_people      what every person may touch at all (table privileges); rows are
--                           decided by the policies, from the users table's role
--   salesengine_rep / _manager / _technician   one per SalesEngine role, members of _people
--   salesengine_jobs        the jobs runner and the outreach service
--   salesengine_gateway     the SSH service account and the embedded demo: NOINHERIT, so it
--                           holds no privilege itself; it may only SET ROLE to a person
DO $roles$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['salesengine_people', 'salesengine_rep', 'salesengine_manager',
                           'salesengine_technician', 'salesengine_jobs'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'salesengine_gateway') THEN
    CREATE ROLE salesengine_gateway NOLOGIN NOINHERIT;
  END IF;
  -- The group roles' membership in _people (a notice, not an error, when already granted).
  FOREACH r IN ARRAY ARRAY['salesengine_rep', 'salesengine_manager', 'salesengine_technician']
  LOOP
    IF NOT pg_has_role(r, 'salesengine_people', 'MEMBER') THEN
      EXECUTE format('GRANT salesengine_people TO %I', r);
    END IF;
  END LOOP;
  -- The schema's owner runs the jobs too where it is not a superuser (Supabase's postgres):
  -- it must be able to SET ROLE salesengine_jobs.
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
     AND NOT pg_has_role(current_user, 'salesengine_jobs', 'MEMBER') THEN
    EXECUTE format('GRANT salesengine_jobs TO %I', current_user);
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO salesengine_people, salesengine_jobs',
                 current_schema());
  EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I '
                 'TO salesengine_people, salesengine_jobs', current_schema());
END
$roles$;

-- Nobody but the owner creates objects in the schema: a function a rep could create there
-- (say, an overload of to_jsonb) would run inside the owner's SECURITY DEFINER functions.
-- PostgreSQL 15 and later already keep PUBLIC out of `public`; older databases did not.
DO $create$
BEGIN
  EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', current_schema());
END
$create$;

-- Every role that connects checks the schema's revision before anything else.
GRANT SELECT ON alembic_version
  TO salesengine_people, salesengine_jobs, salesengine_gateway;

-- Each person's role. NULL for the system user (it never logs in).
ALTER TABLE users ADD COLUMN db_role text;
ALTER TABLE users ADD CONSTRAINT uq_users_db_role UNIQUE (db_role);

-- Who is acting, for policies: the user whose role is the current role (after SET ROLE, the
-- person's), active, and a person. NULL for anyone else (the jobs role, the gateway itself).
CREATE FUNCTION salesengine_me() RETURNS uuid LANGUAGE sql STABLE AS $fn$
  SELECT id FROM users
   WHERE db_role = current_user AND active AND role <> 'system'
$fn$;

-- That user's SalesEngine role as text: 'rep', 'manager' or 'technician' (NULL: no person).
-- Policies decide by it, not by group membership: roles are the cluster's, and one server may
-- hold several SalesEngine databases; the users table of this one is the truth here.
CREATE FUNCTION salesengine_my_role() RETURNS text LANGUAGE sql STABLE AS $fn$
  SELECT role::text FROM users
   WHERE db_role = current_user AND active AND role <> 'system'
$fn$;

CREATE FUNCTION salesengine_is_manager() RETURNS boolean LANGUAGE sql STABLE AS $fn$
  SELECT coalesce(salesengine_my_role() = 'manager', false)
$fn$;

-- Who is acting, from inside a SECURITY DEFINER function (where current_user is the
-- function's owner): the role taken by SET ROLE, else the role that logged in. Neither can
-- be claimed: SET ROLE needs membership.
CREATE FUNCTION salesengine_acting_role() RETURNS text LANGUAGE sql STABLE AS $fn$
  SELECT CASE WHEN current_setting('role') = 'none' THEN session_user::text
              ELSE current_setting('role') END
$fn$;

-- A user's database role, kept by the database whichever way the user is added (the CLI, the
-- demo, a manager in psql): created when missing ('se_' || login) or attached when named;
-- made a member of the group of the user's SalesEngine role; reachable by the gateway.
CREATE FUNCTION salesengine_user_db_role() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $fn$
DECLARE
  existing pg_roles%ROWTYPE;
  owner_name text;
  other text;
BEGIN
  IF NEW.role = 'system' THEN
    NEW.db_role := NULL;
    RETURN NEW;
  END IF;
  IF NEW.db_role IS NULL OR btrim(NEW.db_role) = '' THEN
    NEW.db_role := 'se_' || NEW.login;
  END IF;
  IF NEW.db_role LIKE 'salesengine\_%' OR NEW.db_role LIKE 'pg\_%' THEN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = format('the database role %s cannot be a person''s role: the names '
                       'salesengine_* and pg_* are SalesEngine''s and PostgreSQL''s own',
                       NEW.db_role);
  END IF;
  IF length(NEW.db_role) > 63 THEN
    RAISE EXCEPTION USING ERRCODE = 'check_violation',
      MESSAGE = format('the database role %s is longer than 63 characters', NEW.db_role),
      HINT = 'give a shorter one with --db-role';
  END IF;
  SELECT tableowner INTO owner_name FROM pg_tables
   WHERE schemaname = current_schema() AND tablename = 'users';
  SELECT * INTO existing FROM pg_roles WHERE rolname = NEW.db_role;
  IF NOT FOUND THEN
    EXECUTE format('CREATE ROLE %I LOGIN', NEW.db_role);
  ELSIF existing.rolsuper OR existing.rolcreaterole OR existing.rolcreatedb OR existing.rolreplication
        OR existing.rolbypassrls OR NEW.db_role = owner_name
        -- A member of any role but a SalesEngine group (pg_write_server_files, the jobs role,
        -- another application's group), or a role others are members of (a group: all its
        -- members would become this person), but the gateway.
        OR EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                    WHERE m.member = existing.oid
                      AND g.rolname NOT IN ('salesengine_rep', 'salesengine_manager',
                                            'salesengine_technician'))
        OR EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles p ON p.oid = m.member
                    WHERE m.roleid = existing.oid AND p.rolname <> 'salesengine_gateway'
                      AND p.rolname <> owner_name) THEN
    -- The gateway may SET ROLE to every person's role: a role that can do more than a person
    -- must never become one, or the gateway would hold its powers.
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = format('the database role %s cannot be a person''s role: it is an '
                       'administrator''s, a group, or a member of another role', NEW.db_role),
      HINT = 'attach a role made for this person alone';
  END IF;
  -- The group's privileges, but not the group itself: WITH SET FALSE (PostgreSQL 16 and
  -- later) keeps the gateway, which may SET ROLE to the person, from going on to the group.
  IF current_setting('server_version_num')::int >= 160000 THEN
    EXECUTE format('GRANT %I TO %I WITH INHERIT TRUE, SET FALSE',
                   'salesengine_' || NEW.role::text, NEW.db_role);
  ELSE
    EXECUTE format('GRANT %I TO %I', 'salesengine_' || NEW.role::text, NEW.db_role);
  END IF;
  IF TG_OP = 'UPDATE' THEN
    FOREACH other IN ARRAY ARRAY['rep', 'manager', 'technician'] LOOP
      IF other <> NEW.role::text
         AND pg_has_role(NEW.db_role, 'salesengine_' || other, 'MEMBER') THEN
        EXECUTE format('REVOKE %I FROM %I', 'salesengine_' || other, NEW.db_role);
      END IF;
    END LOOP;
  END IF;
  -- An inactive user keeps the role's LOGIN: roles are the server's, and one role may be a
  -- person in several SalesEngine databases. Inactive, they pass no policy (salesengine_me()
  -- is NULL) and the gateway will not act for them; `ALTER ROLE ... NOLOGIN` shuts the door.
  -- The schema's owner acts as people too (`--user` on its connection). A superuser may
  -- SET ROLE to anyone; an owner that is not one (Supabase's postgres) needs the membership,
  -- without inheriting the person's rights.
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = owner_name)
     AND NOT pg_has_role(owner_name, NEW.db_role, 'MEMBER') THEN
    IF current_setting('server_version_num')::int >= 160000 THEN
      EXECUTE format('GRANT %I TO %I WITH INHERIT FALSE, SET TRUE', NEW.db_role, owner_name);
    ELSE
      EXECUTE format('GRANT %I TO %I', NEW.db_role, owner_name);
    END IF;
  END IF;
  IF NOT pg_has_role('salesengine_gateway', NEW.db_role, 'MEMBER') THEN
    BEGIN
      EXECUTE format('GRANT %I TO salesengine_gateway', NEW.db_role);
    EXCEPTION WHEN insufficient_privilege THEN
      -- An existing role this schema's owner cannot grant: the person connects as
      -- themselves; the gateway (SSH) cannot act for them.
      RAISE WARNING 'the gateway cannot act as % (grant it: GRANT % TO salesengine_gateway)',
        NEW.db_role, NEW.db_role;
    END;
  END IF;
  RETURN NEW;
END
$fn$;

CREATE TRIGGER users_db_role BEFORE INSERT OR UPDATE OF role, db_role ON users
  FOR EACH ROW EXECUTE FUNCTION salesengine_user_db_role();

-- The gateway holds no privilege, yet must find the person it acts for (their role may be an
-- attached one, not se_LOGIN): this, and only this, it may read.
CREATE FUNCTION salesengine_gateway_person(wanted text)
RETURNS TABLE (id uuid, login text, name text, role text, db_role text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $fn$
  SELECT id, login, name, role::text, db_role FROM users
   WHERE login = wanted AND active AND role <> 'system' AND db_role IS NOT NULL
$fn$;
REVOKE EXECUTE ON FUNCTION salesengine_gateway_person(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION salesengine_gateway_person(text) TO salesengine_gateway;

-- A login too long for its role name stops the upgrade, naming every one, before anything.
DO $long$
DECLARE
  too_long text;
BEGIN
  SELECT string_agg(format('%s (%s characters)', login, length(login)), ', ' ORDER BY login)
    INTO too_long
    FROM users WHERE role <> 'system' AND length('se_' || login) > 63;
  IF too_long IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'check_violation',
      MESSAGE = format('these logins are too long for a database role se_LOGIN (60 characters '
                       'at most): %s', too_long),
      HINT = 'rename them (UPDATE users SET login = ... WHERE login = ...) and run '
             '`salesengine db upgrade` again';
  END IF;
END
$long$;

-- Everyone already here gets a role (the trigger makes it).
UPDATE users SET db_role = NULL WHERE role <> 'system';
