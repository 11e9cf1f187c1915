import { sql } from 'kysely';
import { randomSecret } from '../../auth/random-secret.js';
import type { Database } from '../../db/database.js';
import { assertTenantSchemaName } from '../../db/identifiers.js';
import { lockSchema } from '../../db/schema-locks.js';
import { scramSha256Verifier } from '../../db/scram-verifier.js';
import type { AnyKysely } from '../../db/any-kysely.js';

/** How tenant roles are made on this database: see Config.tenantRoleLogin. */
export type TenantRoleOptions = Pick<Database, 'tenantRoleLogin' | 'citusVersion'>;

/**
 * Creates the tenant's schema and its role (same name), lets the
 * server's login role switch to it, and sets the schema's default privileges
 * so every table and sequence a migration creates in it is usable by the
 * tenant role (DML only). Default privileges, not GRANT … ON ALL TABLES IN
 * SCHEMA: the latter scans all of pg_class, which at 10,000 tenants made
 * every provisioning and every migrated tenant pay for the whole fleet.
 */
export async function createTenantSchemaAndRole(db: AnyKysely, schemaName: string, roles: TenantRoleOptions): Promise<void> {
  const name = assertTenantSchemaName(schemaName);
  const id = sql.id(name);
  await sql`CREATE SCHEMA ${id}`.execute(db);
  if (roles.tenantRoleLogin) {
    await createLoginRole(db, name, roles.citusVersion !== undefined);
  } else {
    await sql`CREATE ROLE ${id} NOLOGIN`.execute(db);
  }
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

/**
 * A tenant role that can log in, for engines that connect onward as the
 * current role (Citus reaches its workers as the tenant role). Its password is
 * 256 random bits that nothing prints: PostgreSQL gets only the SCRAM
 * verifier, and on Citus the password goes to pg_dist_authinfo (readable by
 * superusers only), which the coordinator presents to every node (nodeid 0).
 * The role still holds only its own schema's privileges.
 */
async function createLoginRole(db: AnyKysely, name: string, citus: boolean): Promise<void> {
  const password = randomSecret();
  await sql`CREATE ROLE ${sql.id(name)} LOGIN PASSWORD ${sql.lit(scramSha256Verifier(password))}`.execute(db);
  if (citus) await registerCitusPassword(db, name, password);
}

async function registerCitusPassword(db: AnyKysely, name: string, password: string): Promise<void> {
  // The password travels as a bind parameter, which the server logs with the
  // statement under log_statement or log_min_duration_statement; turn those
  // off for the rest of this transaction (writing pg_dist_authinfo needs a
  // superuser, who may).
  await sql`SELECT set_config('log_statement', 'none', true), set_config('log_min_duration_statement', '-1', true),
    set_config('log_parameter_max_length', '0', true), set_config('log_parameter_max_length_on_error', '0', true)`.execute(db);
  await sql`DELETE FROM pg_catalog.pg_dist_authinfo WHERE rolename = ${name}`.execute(db);
  await sql`INSERT INTO pg_catalog.pg_dist_authinfo (nodeid, rolename, authinfo) VALUES (0, ${name}, ${`password=${password}`})`.execute(db);
}

export interface RoleLoginGrants {
  /** Schemas whose role got LOGIN and a credential. */
  readonly changed: readonly string[];
  /** Roles that could not be changed, with why; the others are not held up by them. */
  readonly failed: readonly { readonly schema: string; readonly error: string }[];
}

/**
 * Gives LOGIN and a new credential to the tenant roles that lack them, when
 * this database wants login roles: tenants provisioned before Citus was
 * installed, or before TENANT_ROLE_LOGIN was turned on. Each role in its own
 * transaction under its schema's lock, checked again there, so two servers
 * starting at once change each role once. With nothing to do, one query.
 * `slugs` limits it to those tenants (migrate --tenant).
 */
export async function grantLoginToTenantRoles(database: Database, slugs?: readonly string[]): Promise<RoleLoginGrants> {
  if (!database.tenantRoleLogin) return { changed: [], failed: [] };
  const citus = database.citusVersion !== undefined;
  const lacksLogin = (db: AnyKysely, schema?: string) => sql<{ schema_name: string }>`
    SELECT t.schema_name FROM control.tenants t JOIN pg_catalog.pg_roles r ON r.rolname = t.schema_name
    WHERE (NOT r.rolcanlogin ${citus ? sql`OR NOT EXISTS (SELECT FROM pg_catalog.pg_dist_authinfo a WHERE a.rolename = t.schema_name)` : sql``})
      ${schema === undefined ? sql`` : sql`AND t.schema_name = ${schema}`}
      ${slugs === undefined ? sql`` : sql`AND t.slug = ANY(${[...slugs]}::text[])`}
    ORDER BY t.schema_name`.execute(db);
  const changed: string[] = [];
  const failed: { schema: string; error: string }[] = [];
  for (const { schema_name } of (await lacksLogin(database.control)).rows) {
    const name = assertTenantSchemaName(schema_name);
    try {
      const done = await database.control.transaction().execute(async (trx) => {
        await lockSchema(trx, name);
        if ((await lacksLogin(trx, name)).rows.length === 0) return false;
        const password = randomSecret();
        await sql`ALTER ROLE ${sql.id(name)} LOGIN PASSWORD ${sql.lit(scramSha256Verifier(password))}`.execute(trx);
        if (citus) await registerCitusPassword(trx, name, password);
        return true;
      });
      if (done) changed.push(name);
    } catch (error) {
      failed.push({ schema: name, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return { changed, failed };
}

/** The migration ledger is the one table the tenant role must not touch; call after every migration run. */
export async function revokeLedgerAccess(db: AnyKysely, schemaName: string): Promise<void> {
  const name = assertTenantSchemaName(schemaName);
  await sql`REVOKE ALL ON TABLE ${sql.id(name, 'schema_migrations')} FROM ${sql.id(name)}`.execute(db);
}

export async function dropTenantSchemaAndRole(db: AnyKysely, schemaName: string): Promise<void> {
  const name = sql.id(assertTenantSchemaName(schemaName));
  await sql`DROP SCHEMA IF EXISTS ${name} CASCADE`.execute(db);
  // Citus keeps a login role's password beside the role, and would keep it after the role is gone.
  await sql`DO $forget$ BEGIN
    IF to_regclass('pg_catalog.pg_dist_authinfo') IS NOT NULL THEN
      EXECUTE 'DELETE FROM pg_catalog.pg_dist_authinfo WHERE rolename = $1' USING ${sql.lit(assertTenantSchemaName(schemaName))}::name;
    END IF;
  END $forget$`.execute(db);
  await sql`DROP ROLE IF EXISTS ${name}`.execute(db);
}
