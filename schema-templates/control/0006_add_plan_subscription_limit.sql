-- How many subscriptions a tenant may hold open at once on one server
-- (NULL: as many as the server allows one tenant, 200). Subscriptions hold a
-- stream and load a row per event, so they are priced like seats.

-- migrate:up
ALTER TABLE plans ADD COLUMN max_subscriptions integer
  CONSTRAINT plans_max_subscriptions_positive CHECK (max_subscriptions > 0);
UPDATE plans SET max_subscriptions = CASE name WHEN 'basic' THEN 20 WHEN 'premium' THEN 100 WHEN 'custom' THEN 100 END;

-- migrate:down
ALTER TABLE plans DROP COLUMN max_subscriptions;
