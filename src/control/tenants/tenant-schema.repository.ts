import { sql } from 'kysely';
import { assertTenantSchemaName } from '../../db/identifiers.js';
import type { AnyKysely } from '../../db/any-kysely.js';

/**
 * Creates the tenant's schema and its NOLOGIN role (same name), lets the
 * server's login role switch to it, and sets the schema's default privileges
 * so every table and sequence a migration creates in it is usable by the
 * tenant role (DML only). Default privileges, not GRANT … ON ALL TABLES IN
 * SCHEMA: the latter scans all of pg_class, which at 10,000 tenants made
 * every provisioning and every migrated tenant pay for the whole fleet.
 */
export async function createTenantSchemaAndRole(db: AnyKysely, schemaName: string): Promise<void> {
  const name = assertTenantSchemaName(schemaName);
  const id = sql.id(name);
  await sql`CREATE SCHEMA ${id}`.execute(db);
  await sql`CREATE ROLE ${id} NOLOGIN`.execute(db);
  // A superuser may SET ROLE to anyone, and granting it membership in every
  // tenant role would grow a membership list that each grant re-checks.
  // PostgreSQL 16 split membership into INHERIT and SET; the login role needs
  // only SET (to switch to the tenant), not the tenant's privileges.
  await sql`DO $grant$ BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
      RETURN;
    ELSIF current_setting('server_version_num')::int >= 160000 THEN
      EXECUTE format('GRANT %I TO CURRENT_USER WITH INHERIT FALSE, SET TRUE', ${sql.lit(name)});
    ELSE
      EXECUTE format('GRANT %I TO CURRENT_USER', ${sql.lit(name)});
    END IF;
  END $grant$`.execute(db);
  await sql`GRANT USAGE ON SCHEMA ${id} TO ${id};
    ALTER DEFAULT PRIVILEGES IN SCHEMA ${id} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${id};
    ALTER DEFAULT PRIVILEGES IN SCHEMA ${id} GRANT USAGE, SELECT ON SEQUENCES TO ${id}`.execute(db);
}

/** The migration ledger is the one table the tenant role must not touch; call after every migration run. */
export async function revokeLedgerAccess(db: AnyKysely, schemaName: string): Promise<void> {
  const name = assertTenantSchemaName(schemaName);
  await sql`REVOKE ALL ON TABLE ${sql.id(name, 'schema_migrations')} FROM ${sql.id(name)}`.execute(db);
}

export async function dropTenantSchemaAndRole(db: AnyKysely, schemaName: string): Promise<void> {
  const name = sql.id(assertTenantSchemaName(schemaName));
  await sql`DROP SCHEMA IF EXISTS ${name} CASCADE`.execute(db);
  await sql`DROP ROLE IF EXISTS ${name}`.execute(db);
}
