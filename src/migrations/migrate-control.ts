import { sql } from 'kysely';
import type { Database } from '../db/database.js';
import { CONTROL_SCHEMA } from '../db/identifiers.js';
import { migrateSchema, type MigrationDirection, type SchemaMigrationOutcome } from './migrate-schema.js';
import { lockSchema } from '../db/schema-locks.js';
import type { Template } from './template.js';

/** Applies `schema-templates/control/` to the `control` schema, in one transaction. */
export async function migrateControlPlane(
  database: Database,
  template: Template,
  direction: MigrationDirection = { direction: 'up' },
): Promise<SchemaMigrationOutcome> {
  return database.control.transaction().execute(async (trx) => {
    // Lock before CREATE SCHEMA: two first runs at once would otherwise race on it.
    await lockSchema(trx, CONTROL_SCHEMA);
    await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(CONTROL_SCHEMA)}`.execute(trx);
    return migrateSchema(trx, CONTROL_SCHEMA, template, 'control plane', direction);
  });
}
