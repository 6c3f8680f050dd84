-- Undoes 40_customers.sql's triggers and their functions (down/10_roles.sql, run last, drops
-- the policies, disables row-level security and revokes the grants).
DROP TRIGGER IF EXISTS tickets_people_change ON tickets;
DROP FUNCTION IF EXISTS salesengine_ticket_people_change();
DROP TRIGGER IF EXISTS customers_people_change ON customers;
DROP FUNCTION IF EXISTS salesengine_customer_people_change();
