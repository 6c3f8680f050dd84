-- People's daily work: users, tasks, notifications, saved segments, blasts. Mirrors
-- access/permissions.py, access/users.py, tasks/, activity/notifications.py and marketing/:
-- the domain's checks come first, with their messages; these are the backstop for anyone who
-- reaches the database some other way.
--
--   Users: everyone reads them (names and initials on every card); managers add users and
--   change them (deactivate, change a role), but never their own role or activity, nobody's
--   database role once added, and never the system user; nobody deletes a user (they are
--   deactivated).
--   Tasks: everyone reads them (a customer's open tasks, My tasks of anyone). Reps (and
--   technicians) create tasks in their own name for themselves or nobody, change (edit,
--   complete, reschedule) their own and unassigned tasks, take an unassigned one or give
--   their own back, reopen what they completed, delete the open tasks they created. Managers
--   do all of it to every task. Every change is made in one's own name.
--   Notifications: each person reads their own and marks them read; managers read everyone's
--   (Action.see_all_notifications) but mark only their own. Only the jobs write them (the
--   jobs' file): no person's action does.
--   Saved segments: everyone reads and uses them and saves new ones (their own); the owner or
--   a manager renames, changes or deletes one; one with no owner, managers only.
--   Blasts: everyone reads them (the segments screen lists the latest); managers alone send
--   one (Action.send_blast), in their own name; a blast is never changed or deleted.
--
-- A person here is a user of THIS database (salesengine_me() is not NULL): a role of another
-- database on the same server, or of a deactivated user, reads and writes none of these rows
-- (but users, whose rows salesengine_me() itself reads). The jobs role's policies are the
-- jobs' file's, not this one's.

-- --- users ---------------------------------------------------------------------------------------

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT ON users TO salesengine_people;
-- What deactivating, a new role or a correction changes; never the id, the login (the app and
-- the SSH keys know a user by it), when the user was added, nor the database role: it is given
-- once, when the user is added (`users add --db-role`); pointing a user at another role later
-- would hand that role's owner someone's rows, and the gateway that role.
GRANT UPDATE (name, email, initials, role, active) ON users TO salesengine_people;

-- Plain `true`: salesengine_me() reads this table as the person, so a policy calling it here
-- would recurse.
CREATE POLICY users_people_select_all ON users FOR SELECT TO salesengine_people
  USING (true);

CREATE POLICY users_people_insert_manager ON users FOR INSERT TO salesengine_people
  WITH CHECK ((SELECT salesengine_is_manager()) AND role <> 'system');

CREATE POLICY users_people_update_manager ON users FOR UPDATE TO salesengine_people
  USING ((SELECT salesengine_is_manager()) AND role <> 'system')
  WITH CHECK ((SELECT salesengine_is_manager()) AND role <> 'system');

-- No manager changes their own role or activity: one would otherwise step down by mistake
-- and leave the desk without a manager, or (deactivated, then revived by nobody) lock
-- themselves out; another manager does it (a rep cannot update users at all: the policy
-- above). Their own name, email or initials they may correct.
CREATE FUNCTION salesengine_users_own_row() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER AS $fn$
BEGIN
  IF OLD.id = salesengine_me()
     AND (NEW.role IS DISTINCT FROM OLD.role OR NEW.active IS DISTINCT FROM OLD.active) THEN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = 'nobody changes their own role or activity: another manager can';
  END IF;
  RETURN NEW;
END
$fn$;

CREATE TRIGGER users_own_row BEFORE UPDATE OF role, active ON users
  FOR EACH ROW EXECUTE FUNCTION salesengine_users_own_row();

-- --- tasks ---------------------------------------------------------------------------------------

ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, DELETE ON tasks TO salesengine_people;
-- What an edit, a completion, a reopening or a reassignment changes; never whose customer or
-- deal the task is for, nor who created it when.
GRANT UPDATE (kind, title, notes, due_at, all_day, assignee_id, done_at, done_by, reminded_at,
              updated_at, updated_by, version)
  ON tasks TO salesengine_people;

CREATE POLICY tasks_people_select_all ON tasks FOR SELECT TO salesengine_people
  USING ((SELECT salesengine_me()) IS NOT NULL);

-- Created in one's own name, open; a rep (or technician) gives it to themselves or nobody.
CREATE POLICY tasks_people_insert_own ON tasks FOR INSERT TO salesengine_people
  WITH CHECK (
    created_by = (SELECT salesengine_me())
    AND updated_by = (SELECT salesengine_me())
    AND done_at IS NULL AND done_by IS NULL
    AND ((SELECT salesengine_is_manager())
         OR assignee_id IS NULL OR assignee_id = (SELECT salesengine_me()))
  );

-- Every task is reached to update (a change locks the row FOR UPDATE before the domain says
-- whose it is: a narrower USING would turn "this task is Sam's" into "no longer exists");
-- whose task a rep may change the trigger below decides from the row before. The row after
-- is theirs or nobody's, completed by nobody or them, changed in their own name.
CREATE POLICY tasks_people_update_own ON tasks FOR UPDATE TO salesengine_people
  USING ((SELECT salesengine_me()) IS NOT NULL)
  WITH CHECK (
    updated_by = (SELECT salesengine_me())
    AND ((SELECT salesengine_is_manager())
         OR ((assignee_id IS NULL OR assignee_id = (SELECT salesengine_me()))
             AND (done_by IS NULL OR done_by = (SELECT salesengine_me()))))
  );

-- An open task, by its creator or a manager (a done task is the customer's history).
CREATE POLICY tasks_people_delete_own ON tasks FOR DELETE TO salesengine_people
  USING (
    done_at IS NULL
    AND ((SELECT salesengine_is_manager()) OR created_by = (SELECT salesengine_me()))
  );

-- A rep (or technician) changes only their own and unassigned tasks: taking someone else's
-- task, or editing it, is a manager's. Managers, the jobs and the schema's owner are not held.
CREATE FUNCTION salesengine_tasks_own_rule() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER AS $fn$
DECLARE
  my_role text := salesengine_my_role();
  assignee_name text;
BEGIN
  IF my_role IS NULL OR my_role = 'manager' THEN
    RETURN NEW;
  END IF;
  IF OLD.assignee_id IS NOT NULL AND OLD.assignee_id IS DISTINCT FROM salesengine_me() THEN
    SELECT name INTO assignee_name FROM users WHERE id = OLD.assignee_id;
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = format('this task is %s''s: a rep works their own and unassigned tasks '
                       '(a manager can reassign it)', coalesce(assignee_name, 'someone else'));
  END IF;
  RETURN NEW;
END
$fn$;

CREATE TRIGGER tasks_own_rule BEFORE UPDATE ON tasks
  FOR EACH ROW EXECUTE FUNCTION salesengine_tasks_own_rule();

-- --- notifications -------------------------------------------------------------------------------

ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON notifications TO salesengine_people;
-- Marking read is the only change a person makes.
GRANT UPDATE (read_at) ON notifications TO salesengine_people;

CREATE POLICY notifications_people_select_own ON notifications FOR SELECT
  TO salesengine_people
  USING (user_id = (SELECT salesengine_me()) OR (SELECT salesengine_is_manager()));

CREATE POLICY notifications_people_update_own ON notifications FOR UPDATE
  TO salesengine_people
  USING (user_id = (SELECT salesengine_me()))
  WITH CHECK (user_id = (SELECT salesengine_me()));

-- --- saved segments ------------------------------------------------------------------------------

ALTER TABLE segments ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, DELETE ON segments TO salesengine_people;
-- A rename or a change; never who owns it or who saved it (so the owner after an update is
-- the owner before: the update policy's check is on the row as it was).
GRANT UPDATE (name, definition, updated_at) ON segments TO salesengine_people;

CREATE POLICY segments_people_select_all ON segments FOR SELECT TO salesengine_people
  USING ((SELECT salesengine_me()) IS NOT NULL);

-- Saved by anyone, as their own.
CREATE POLICY segments_people_insert_own ON segments FOR INSERT TO salesengine_people
  WITH CHECK (
    owner_id = (SELECT salesengine_me()) AND created_by = (SELECT salesengine_me())
  );

-- Every segment is reached to update (the domain locks it FOR UPDATE before it says whose it
-- is); the owner or a manager changes it. owner_id cannot change (no privilege on it), so
-- the check on the new row is the check on the old one.
CREATE POLICY segments_people_update_owner ON segments FOR UPDATE TO salesengine_people
  USING ((SELECT salesengine_me()) IS NOT NULL)
  WITH CHECK (
    (SELECT salesengine_is_manager()) OR owner_id = (SELECT salesengine_me())
  );

CREATE POLICY segments_people_delete_owner ON segments FOR DELETE TO salesengine_people
  USING ((SELECT salesengine_is_manager()) OR owner_id = (SELECT salesengine_me()));

-- --- blasts --------------------------------------------------------------------------------------

ALTER TABLE blasts ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT ON blasts TO salesengine_people;

CREATE POLICY blasts_people_select_all ON blasts FOR SELECT TO salesengine_people
  USING ((SELECT salesengine_me()) IS NOT NULL);

CREATE POLICY blasts_people_insert_manager ON blasts FOR INSERT TO salesengine_people
  WITH CHECK ((SELECT salesengine_is_manager()) AND created_by = (SELECT salesengine_me()));
