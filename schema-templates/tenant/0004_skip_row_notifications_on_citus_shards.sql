-- On a Citus cluster a trigger on a distributed table fires on the worker
-- that holds the shard (a table named <table>_<shard id>), in a transaction
-- that Citus commits with two-phase commit whenever it spans nodes; and
-- PostgreSQL refuses to PREPARE a transaction that ran NOTIFY. Seeding,
-- import and clone, which write the control plane and a tenant together,
-- failed there. So only the tables themselves announce, never a Citus shard:
-- on plain PostgreSQL nothing changes, and on Citus subscriptions are not
-- available (the server refuses them with SUBSCRIPTIONS_UNAVAILABLE).

-- migrate:up
CREATE OR REPLACE FUNCTION notify_row_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME IN ('deployments', 'workflows', 'audit_log') THEN
    PERFORM pg_notify('schemata_row_changed', json_build_object('schema', TG_TABLE_SCHEMA, 'table', TG_TABLE_NAME, 'id', NEW.id, 'op', TG_OP)::text);
  END IF;
  RETURN NULL;
END
$$;

-- migrate:down
CREATE OR REPLACE FUNCTION notify_row_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('schemata_row_changed', json_build_object('schema', TG_TABLE_SCHEMA, 'table', TG_TABLE_NAME, 'id', NEW.id, 'op', TG_OP)::text);
  RETURN NULL;
END
$$;
