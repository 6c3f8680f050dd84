-- Undoes 50_work.sql's triggers and functions (down/10_roles.sql, running last, drops its
-- policies, row-level security switches and grants).
DROP TRIGGER tasks_own_rule ON tasks;
DROP FUNCTION salesengine_tasks_own_rule();
DROP TRIGGER users_own_row ON users;
DROP FUNCTION salesengine_users_own_row();
