import { sql } from 'kysely';
import { assertTenantSchemaName } from '../db/identifiers.js';
import type { AnyKysely } from '../migrations/migrate-schema.js';

/**
 * Creates the tenant's schema and its NOLOGIN role (same name), and lets the
 * server's login role switch to it. The role gets no privilege here: grants
 * follow the tables, in `grantTenantRole`, after every migration.
 */
export async function createTenantSchemaAndRole(db: AnyKysely, schemaName: string): Promise<void> {
  const name = assertTenantSchemaName(schemaName);
  await sql`CREATE SCHEMA ${sql.id(name)}`.execute(db);
  await sql`CREATE ROLE ${sql.id(name)} NOLOGIN`.execute(db);
  // PostgreSQL 16 split membership into INHERIT and SET; the login role needs
  // only SET (to switch to the tenant), not the tenant's privileges.
  await sql`DO $grant$ BEGIN
    IF current_setting('server_version_num')::int >= 160000 THEN
      EXECUTE format('GRANT %I TO CURRENT_USER WITH INHERIT FALSE, SET TRUE', ${sql.lit(name)});
    ELSE
      EXECUTE format('GRANT %I TO CURRENT_USER', ${sql.lit(name)});
    END IF;
  END $grant$`.execute(db);
}

/**
 * The tenant role may use its own schema and do DML on its tables, nothing
 * else: not DDL, not the migration ledger, not another schema.
 */
export async function grantTenantRole(db: AnyKysely, schemaName: string): Promise<void> {
  const name = sql.id(assertTenantSchemaName(schemaName));
  const ledger = sql.id(schemaName, 'schema_migrations');
  await sql`GRANT USAGE ON SCHEMA ${name} TO ${name};
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${name} TO ${name};
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${name} TO ${name};
    REVOKE ALL ON TABLE ${ledger} FROM ${name}`.execute(db);
}

export async function dropTenantSchemaAndRole(db: AnyKysely, schemaName: string): Promise<void> {
  const name = sql.id(assertTenantSchemaName(schemaName));
  await sql`DROP SCHEMA IF EXISTS ${name} CASCADE`.execute(db);
  await sql`DROP ROLE IF EXISTS ${name}`.execute(db);
}
