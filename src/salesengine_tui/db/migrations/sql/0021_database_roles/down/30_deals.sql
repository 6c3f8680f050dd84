-- Undoes 30_deals.sql's trigger (down/10_roles.sql, running last, takes the policies, the
-- row-level security switches and the grants).
DROP TRIGGER estimates_rep_rule ON estimates;
DROP FUNCTION salesengine_estimates_rep_rule();
