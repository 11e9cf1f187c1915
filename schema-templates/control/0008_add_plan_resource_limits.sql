-- Expensive actions are limited apart from plain requests: deployments and
-- workflows a tenant may create per hour (NULL: no limit). The defaults take
-- the origin documents' 100 deployments and 50 workflows an hour for basic,
-- five times that for premium and custom, and none for enterprise.

-- migrate:up
ALTER TABLE plans
  ADD COLUMN deployments_per_hour integer CONSTRAINT plans_deployments_per_hour_positive CHECK (deployments_per_hour > 0),
  ADD COLUMN workflows_per_hour integer CONSTRAINT plans_workflows_per_hour_positive CHECK (workflows_per_hour > 0);
UPDATE plans SET deployments_per_hour = CASE name WHEN 'basic' THEN 100 WHEN 'premium' THEN 500 WHEN 'custom' THEN 500 END,
                 workflows_per_hour = CASE name WHEN 'basic' THEN 50 WHEN 'premium' THEN 250 WHEN 'custom' THEN 250 END;

-- migrate:down
ALTER TABLE plans DROP COLUMN deployments_per_hour, DROP COLUMN workflows_per_hour;
