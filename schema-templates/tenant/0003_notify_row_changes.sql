-- Subscriptions: committed changes to deployments, workflows and the audit log
-- are announced on one channel that every server LISTENs on. The payload holds
-- ids only (schema, table, row id, operation), never row data: each server
-- loads the row inside the subscriber's own tenant transaction and role.
-- NOTIFY is transactional, so a rolled-back change is never announced.

-- migrate:up
CREATE FUNCTION notify_row_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('schemata_row_changed', json_build_object('schema', TG_TABLE_SCHEMA, 'table', TG_TABLE_NAME, 'id', NEW.id, 'op', TG_OP)::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER deployments_notify_insert AFTER INSERT ON deployments
  FOR EACH ROW EXECUTE FUNCTION notify_row_change();
-- Status transitions only: touching another column is not a change subscribers watch.
CREATE TRIGGER deployments_notify_status AFTER UPDATE OF status ON deployments
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION notify_row_change();
CREATE TRIGGER workflows_notify_change AFTER INSERT OR UPDATE ON workflows
  FOR EACH ROW EXECUTE FUNCTION notify_row_change();
CREATE TRIGGER audit_log_notify_insert AFTER INSERT ON audit_log
  FOR EACH ROW EXECUTE FUNCTION notify_row_change();

-- migrate:down
DROP TRIGGER audit_log_notify_insert ON audit_log;
DROP TRIGGER workflows_notify_change ON workflows;
DROP TRIGGER deployments_notify_status ON deployments;
DROP TRIGGER deployments_notify_insert ON deployments;
DROP FUNCTION notify_row_change();
