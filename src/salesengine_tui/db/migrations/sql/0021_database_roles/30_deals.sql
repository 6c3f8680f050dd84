-- Deals: the board's cards (estimates), pipelines and stages, and the deal's history
-- (estimate_stage_history: moves; estimate_changes: edited fields). Mirrors
-- access/permissions.py and deals/: the domain's checks come first, with their messages; these
-- are the backstop for anyone who reaches the database some other way.
--
--   Every seller sees every deal (the board shows them all), and technicians see them too (the
--   app has no screen that hides them); nobody deletes a deal.
--   Reps open deals for themselves, change (move, edit, win or lose) their own and unassigned
--   ones, take an unassigned one, and give no deal to anyone else.
--   Managers open, change and reassign every deal, and alone edit pipelines and stages.
--   Technicians sell nothing: their upsell flag is a ticket closed as end of life (tickets),
--   which the jobs' upsell sync turns into a deal; they write none of these tables.
--   A history row is written alongside the person's own change of a deal they may change, in
--   their name; history is never rewritten or deleted by a person.
--
-- The jobs role's policies (the upsell sync's new deals) are the jobs' file's, not this one's.

-- --- estimates ---------------------------------------------------------------------------------

ALTER TABLE estimates ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT ON estimates TO salesengine_people;
-- What a move, an edit or a reassignment changes; never whose customer the deal is, who opened
-- it, or where it came from (equipment, source ticket).
GRANT UPDATE (title, amount, amount_estimated, status, stage_id, stage_entered_at, lost_reason,
              owner_id, expected_close_on, updated_at, updated_by, version)
  ON estimates TO salesengine_people;

CREATE POLICY estimates_people_select_all ON estimates FOR SELECT TO salesengine_people
  USING (true);

-- A rep opens deals for themselves; a manager for anyone (or nobody). Opened in one's own
-- name, and never as an upsell (a source ticket is the upsell sync's).
CREATE POLICY estimates_people_insert_seller ON estimates FOR INSERT TO salesengine_people
  WITH CHECK (
    ((SELECT salesengine_my_role()) = 'manager'
     OR ((SELECT salesengine_my_role()) = 'rep' AND owner_id = (SELECT salesengine_me())))
    AND created_by = (SELECT salesengine_me())
    AND updated_by = (SELECT salesengine_me())
    AND source_ticket_id IS NULL
  );

-- Sellers reach every deal to update (an edit locks the row FOR UPDATE before the domain says
-- whose it is: a narrower USING would turn "this deal is Dana's" into "no longer exists");
-- whose deal a rep may change, and whom they may give it to, the trigger below decides from
-- the row before and after. The row after is theirs or nobody's, changed in their own name.
CREATE POLICY estimates_people_update_seller ON estimates FOR UPDATE TO salesengine_people
  USING ((SELECT salesengine_my_role()) IN ('rep', 'manager'))
  WITH CHECK (
    ((SELECT salesengine_my_role()) = 'manager'
     OR ((SELECT salesengine_my_role()) = 'rep'
         AND (owner_id IS NULL OR owner_id = (SELECT salesengine_me()))))
    AND updated_by = (SELECT salesengine_me())
  );

-- A rep changes only their own and unassigned deals, and may change a deal's owner only by
-- taking an unassigned one (a win credits the rep who wins it), or by undoing that win (moving
-- the deal out of Won as its last changer: the credit goes back to nobody). Managers, the jobs
-- and the schema's owner are not held by it.
CREATE FUNCTION salesengine_estimates_rep_rule() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER AS $fn$
DECLARE
  my_role text := salesengine_my_role();
  me uuid := salesengine_me();
  owner_name text;
BEGIN
  IF my_role IS NULL OR my_role = 'manager' THEN
    RETURN NEW;
  END IF;
  IF my_role <> 'rep' THEN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = format('only reps and managers may create and edit deals; you are a %s', my_role);
  END IF;
  IF OLD.owner_id IS NOT NULL AND OLD.owner_id <> me THEN
    SELECT name INTO owner_name FROM users WHERE id = OLD.owner_id;
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = format('this deal is %s''s: a rep works their own and unassigned deals '
                       '(a manager can reassign it)', coalesce(owner_name, 'someone else'));
  END IF;
  IF NEW.owner_id IS DISTINCT FROM OLD.owner_id THEN
    IF OLD.owner_id IS NULL AND NEW.owner_id = me THEN
      RETURN NEW;  -- taken (or won) by the rep
    END IF;
    IF OLD.owner_id = me AND NEW.owner_id IS NULL AND OLD.updated_by = me
       AND NEW.stage_id IS DISTINCT FROM OLD.stage_id
       AND EXISTS (SELECT 1 FROM deal_stages s WHERE s.id = OLD.stage_id AND s.is_won) THEN
      RETURN NEW;  -- the rep's own win undone: the credit it gave goes back
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = 'only managers may give a deal to someone else; a rep can take an unassigned '
                'deal for themselves';
  END IF;
  RETURN NEW;
END
$fn$;

CREATE TRIGGER estimates_rep_rule BEFORE UPDATE ON estimates
  FOR EACH ROW EXECUTE FUNCTION salesengine_estimates_rep_rule();

-- --- pipelines and stages: everyone reads them, managers change them --------------------------

ALTER TABLE deal_pipelines ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE ON deal_pipelines TO salesengine_people;

CREATE POLICY deal_pipelines_people_select_all ON deal_pipelines FOR SELECT
  TO salesengine_people USING (true);
CREATE POLICY deal_pipelines_people_insert_manager ON deal_pipelines FOR INSERT
  TO salesengine_people WITH CHECK ((SELECT salesengine_is_manager()));
CREATE POLICY deal_pipelines_people_update_manager ON deal_pipelines FOR UPDATE
  TO salesengine_people
  USING ((SELECT salesengine_is_manager())) WITH CHECK ((SELECT salesengine_is_manager()));

ALTER TABLE deal_stages ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON deal_stages TO salesengine_people;

CREATE POLICY deal_stages_people_select_all ON deal_stages FOR SELECT
  TO salesengine_people USING (true);
CREATE POLICY deal_stages_people_insert_manager ON deal_stages FOR INSERT
  TO salesengine_people WITH CHECK ((SELECT salesengine_is_manager()));
CREATE POLICY deal_stages_people_update_manager ON deal_stages FOR UPDATE
  TO salesengine_people
  USING ((SELECT salesengine_is_manager())) WITH CHECK ((SELECT salesengine_is_manager()));
CREATE POLICY deal_stages_people_delete_manager ON deal_stages FOR DELETE
  TO salesengine_people USING ((SELECT salesengine_is_manager()));

-- --- the deal's history: read by all, written with one's own change, never rewritten ---------
-- A row is the person's (by = them) and about a deal they may change whose last change is
-- theirs (the move or edit it records, made just before in the same transaction); a move's
-- row names the stage the deal is in now.

ALTER TABLE estimate_stage_history ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT ON estimate_stage_history TO salesengine_people;

CREATE POLICY estimate_stage_history_people_select_all ON estimate_stage_history FOR SELECT
  TO salesengine_people USING (true);
CREATE POLICY estimate_stage_history_people_insert_own_move ON estimate_stage_history
  FOR INSERT TO salesengine_people
  WITH CHECK (
    moved_by = (SELECT salesengine_me())
    AND (SELECT salesengine_my_role()) IN ('rep', 'manager')
    AND EXISTS (
      SELECT 1 FROM estimates e
       WHERE e.id = estimate_stage_history.estimate_id
         AND e.stage_id = estimate_stage_history.to_stage_id
         AND e.updated_by = (SELECT salesengine_me())
         AND ((SELECT salesengine_my_role()) = 'manager'
              OR e.owner_id IS NULL OR e.owner_id = (SELECT salesengine_me())))
  );

ALTER TABLE estimate_changes ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT ON estimate_changes TO salesengine_people;

CREATE POLICY estimate_changes_people_select_all ON estimate_changes FOR SELECT
  TO salesengine_people USING (true);
CREATE POLICY estimate_changes_people_insert_own_edit ON estimate_changes
  FOR INSERT TO salesengine_people
  WITH CHECK (
    changed_by = (SELECT salesengine_me())
    AND (SELECT salesengine_my_role()) IN ('rep', 'manager')
    AND EXISTS (
      SELECT 1 FROM estimates e
       WHERE e.id = estimate_changes.estimate_id
         AND e.customer_id = estimate_changes.customer_id
         AND e.updated_by = (SELECT salesengine_me())
         AND ((SELECT salesengine_my_role()) = 'manager'
              OR e.owner_id IS NULL OR e.owner_id = (SELECT salesengine_me())))
  );
