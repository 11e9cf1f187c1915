import { sql } from 'kysely';
import type { AnyKysely } from '../db/any-kysely.js';

/** One row of a schema's `schema_migrations` ledger. */
export interface AppliedMigration {
  readonly name: string;
  readonly checksum: string;
}

/**
 * Every schema (control and each tenant) records its own applied files, with
 * each file's checksum, so drift is visible per schema. Callers have set
 * search_path to the schema, so the table name is unqualified.
 */
export async function ensureMigrationTable(db: AnyKysely): Promise<void> {
  await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
    name       text        PRIMARY KEY,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
}

export async function readAppliedMigrations(db: AnyKysely): Promise<AppliedMigration[]> {
  const result = await sql<AppliedMigration>`SELECT name, checksum FROM schema_migrations ORDER BY name`.execute(db);
  return result.rows;
}

export async function insertAppliedMigration(db: AnyKysely, migration: AppliedMigration): Promise<void> {
  await sql`INSERT INTO schema_migrations (name, checksum) VALUES (${migration.name}, ${migration.checksum})`.execute(db);
}

export async function deleteAppliedMigration(db: AnyKysely, name: string): Promise<void> {
  await sql`DELETE FROM schema_migrations WHERE name = ${name}`.execute(db);
}

/** Which of `schemas` exist and have a ledger. */
export async function schemasWithLedger(db: AnyKysely, schemas: readonly string[]): Promise<Set<string>> {
  if (schemas.length === 0) return new Set();
  const result = await sql<{ nspname: string }>`
    SELECT n.nspname FROM pg_namespace n
    JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = 'schema_migrations' AND c.relkind = 'r'
    WHERE n.nspname = ANY(${[...schemas]}::text[])`.execute(db);
  return new Set(result.rows.map((row) => row.nspname));
}

/**
 * The ledgers of many schemas in one round trip (a UNION ALL over them), so a
 * drift scan of 10,000 tenants is a few dozen queries, not 10,000. Every
 * schema must exist and have a ledger: check with `schemasWithLedger` first.
 */
export async function readLedgers(db: AnyKysely, schemas: readonly string[]): Promise<Map<string, AppliedMigration[]>> {
  const ledgers = new Map<string, AppliedMigration[]>(schemas.map((schema) => [schema, []]));
  if (schemas.length === 0) return ledgers;
  const selects = schemas.map(
    (schema) => sql`SELECT ${schema}::text AS schema, name, checksum FROM ${sql.id(schema, 'schema_migrations')}`,
  );
  const result = await sql<AppliedMigration & { schema: string }>`${sql.join(selects, sql` UNION ALL `)}`.execute(db);
  for (const row of result.rows) ledgers.get(row.schema)?.push({ name: row.name, checksum: row.checksum });
  return ledgers;
}
