-- Undoes 60_jobs.sql's trigger and its function (down/10_roles.sql, running last, drops the
-- policies, disables row-level security and revokes the grants).
DROP TRIGGER IF EXISTS customers_jobs_opt_out_only ON customers;
DROP FUNCTION IF EXISTS salesengine_customers_jobs_opt_out_only();
