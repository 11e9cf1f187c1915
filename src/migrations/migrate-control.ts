import { sql } from 'kysely';
import type { AnyKysely } from '../db/any-kysely.js';
import type { Database } from '../db/database.js';
import { CONTROL_SCHEMA } from '../db/identifiers.js';
import { migrateSchema, type MigrationDirection, type SchemaMigrationOutcome } from './migrate-schema.js';
import { lockSchema } from '../db/schema-locks.js';
import type { Template } from './template.js';

/**
 * The control schema must stay an ordinary schema on a Citus coordinator with
 * schema-based sharding: a distributed one would take the registry's tables
 * to a worker, where its triggers (and so its NOTIFY) are refused. With the
 * setting on, CREATE SCHEMA distributes the schema, and so does CREATE SCHEMA
 * IF NOT EXISTS on one that already exists; hence the setting is turned off
 * for this transaction (on plain PostgreSQL it is an unused placeholder) and
 * the schema is created only when the catalog lacks it.
 */
async function createControlSchema(trx: AnyKysely): Promise<void> {
  await sql`SELECT set_config('citus.enable_schema_based_sharding', 'off', true)`.execute(trx);
  const exists = await sql`SELECT FROM pg_catalog.pg_namespace WHERE nspname = ${CONTROL_SCHEMA}`.execute(trx);
  if (exists.rows.length === 0) await sql`CREATE SCHEMA ${sql.id(CONTROL_SCHEMA)}`.execute(trx);
}

/** Applies `schema-templates/control/` to the `control` schema, in one transaction. */
export async function migrateControlPlane(
  database: Database,
  template: Template,
  direction: MigrationDirection = { direction: 'up' },
): Promise<SchemaMigrationOutcome> {
  return database.control.transaction().execute(async (trx) => {
    // Lock before CREATE SCHEMA: two first runs at once would otherwise race on it.
    await lockSchema(trx, CONTROL_SCHEMA);
    await createControlSchema(trx);
    return migrateSchema(trx, CONTROL_SCHEMA, template, 'control plane', direction);
  });
}
